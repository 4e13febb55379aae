#!/usr/bin/env bash
# Shared helpers for bench/*.sh (sourced, not run). The caller sets: repo, out, tmp; and uses
# pids+=(...) for every process it starts, which cleanup stops on exit.
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
host_line() { echo "host: nproc $(nproc); load average $(cut -d' ' -f1-3 /proc/loadavg)"; }
load1() { cut -d' ' -f1 /proc/loadavg; }

pids=()
cleanup() {
  local status=$? pid
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
  exit "$status"
}
install_traps() { trap cleanup EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; }

# start_run <name>: after repo is set and this file sourced, sets stamp, out (bench/results/<name>-<stamp>),
# build, tmp and load_start, and installs the traps that stop every process and remove tmp on exit.
start_run() {
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  out="$repo/bench/results/$1-$stamp"
  build="$repo/bench/results/build"
  mkdir -p "$out"
  tmp=$(mktemp -d -t "healthproxy-$1.XXXXXX")
  install_traps
  load_start=$(cut -d' ' -f1-3 /proc/loadavg)
}

need_packages() {  # apt packages whose command is missing: need_packages cmd:pkg ...
  local need=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%:*}" ] || need+=("${pair#*:}")
  done
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing ${need[*]}"
  local sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  if command -v systemctl >/dev/null 2>&1; then
    for s in nginx haproxy; do systemctl is-active --quiet "$s" 2>/dev/null && "${sudo[@]}" systemctl stop "$s" || true; done
  fi
}

# free_port: a loopback port nothing listens on and not handed out before in this run. Called as $(free_port),
# a subshell, so the ports handed out are kept in a file under tmp, not in a variable.
free_port() {
  local port taken="${tmp:?free_port needs tmp}/.ports"
  touch "$taken"
  for _ in $(seq 1 200); do
    port=$(( (RANDOM % 30000) + 20000 ))
    grep -qx "$port" "$taken" && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port" >>"$taken"; echo "$port"; return 0; fi
  done
  log "no free port found"; return 1
}

publish() {  # publish <csproj> <name> -> $build/app/<name>
  dotnet publish "$1" -c Release --artifacts-path "$build" -o "$build/app/$2" -nologo -v quiet >"$out/build-$2.log" 2>&1 \
    || { cat "$out/build-$2.log" >&2; exit 1; }
}

# nginx_conf <dir> <server blocks...>: a foreground nginx, one worker, everything under <dir>.
nginx_conf() {
  local dir=$1; shift
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  $*
}
CONF
}
start_nginx() {  # start_nginx <dir> <logname>
  "${NGINX:-/usr/sbin/nginx}" -p "$1" -e "$1/error.log" -c "$1/nginx.conf" >"$out/$2.log" 2>&1 &
  pids+=($!)
}

wait_for() {  # name url [expected body]
  local name=$1 target=$2 expect=${3:-} deadline=$((SECONDS + ${READY_TIMEOUT_S:-90})) body pid
  while [ $SECONDS -lt $deadline ]; do
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { log "a process exited early; see $out/*.log"; exit 1; }; done
    if body=$(curl -fsS --max-time 2 "$target" 2>/dev/null) && { [ -z "$expect" ] || [ "$body" = "$expect" ]; }; then return 0; fi
    sleep 0.2
  done
  log "$name not ready at $target after ${READY_TIMEOUT_S:-90}s; see $out/*.log"; exit 1
}

# start_proxy <name> <kind> <port> [VAR=value ...] [-- argument ...]: a .NET proxy started in the background
# from an empty content root ($tmp/<name>, so no appsettings.json), Release, Server GC, ASPNETCORE_ENVIRONMENT
# Production, with proxy_args' config, listening on 127.0.0.1:<port>, logging to $out/<name>.log. Kind yarp is
# bench/PlainYarp; healthproxy is the gateway, with proxy_args' probe settings too; baseline is the gateway
# published from another commit ($BASELINE_DLL), for before/after comparisons. Sets proxy_pid (also in pids).
start_proxy() {
  local name=$1 kind=$2 port=$3 dll vars=() extra=()
  shift 3
  while [ $# -gt 0 ] && [ "$1" != -- ]; do vars+=("$1"); shift; done
  [ $# -eq 0 ] || shift
  case "$kind" in
    yarp) dll="$build/app/PlainYarp/PlainYarp.dll" ;;
    healthproxy) dll="$build/app/HealthProxy.Gateway/HealthProxy.Gateway.dll"; extra=("${health[@]}") ;;
    baseline) dll="${BASELINE_DLL:?kind baseline needs BASELINE_DLL, a HealthProxy.Gateway.dll published from another commit}"; extra=("${health[@]}") ;;
    *) log "unknown proxy kind '$kind' (yarp, healthproxy or baseline)"; exit 2 ;;
  esac
  mkdir -p "$tmp/$name"
  (cd "$tmp/$name" && exec env DOTNET_gcServer=1 ASPNETCORE_ENVIRONMENT=Production "${vars[@]}" dotnet "$dll" --contentRoot "$tmp/$name" \
    --urls "http://127.0.0.1:$port" "${common[@]}" "${extra[@]}" "$@") >"$out/$name.log" 2>&1 &
  proxy_pid=$!; pids+=("$proxy_pid")
}

to_ms() {  # wrk duration (123.45us | 1.23ms | 1.02s | 1.00m) -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}
ticks_per_s=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # user + system, in clock ticks

# proxy_args <backend-port>: the command-line config both .NET proxies get, in YARP's schema: one
# catch-all route to the nginx backend (common), plus HealthProxy's probes of its /healthz (health).
proxy_args() {
  common=(
    "--ReverseProxy:Routes:bench:ClusterId=bench" "--ReverseProxy:Routes:bench:Match:Path={**catch-all}"
    "--ReverseProxy:Clusters:bench:Destinations:nginx:Address=http://127.0.0.1:$1/"
    "--Logging:LogLevel:Default=Warning" "--AllowedHosts=*"
  )
  health=(
    "--ReverseProxy:Clusters:bench:HealthCheck:Active:Enabled=true" "--ReverseProxy:Clusters:bench:HealthCheck:Active:Interval=00:00:05"
    "--ReverseProxy:Clusters:bench:HealthCheck:Active:Timeout=00:00:02" "--ReverseProxy:Clusters:bench:HealthCheck:Active:Path=/healthz"
  )
}
