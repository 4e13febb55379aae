#!/usr/bin/env bash
# One run, loopback only: requests/s and p50/p99 latency of a small GET
#   (a) direct to an nginx backend, (b) through plain YARP, (c) through HealthProxy,
# all three measured with Debian's wrk, rounds rotated, then the ratios against the target
# (HealthProxy >= 0.95x plain YARP's requests/s, p99 within 10% of plain YARP's).
#
# Writes only under bench/results/ (gitignored: build output, raw wrk output, process logs, summary)
# and a temp dir that is removed on exit. Every process it starts is stopped on exit.
#
# Settings (environment): DURATION_S (10) WARMUP_S (5) ROUNDS (3) THREADS (2) CONNECTIONS (32)
#                         PROBE_INTERVAL (00:00:05) READY_TIMEOUT_S (90)
set -euo pipefail

DURATION_S=${DURATION_S:-10}
WARMUP_S=${WARMUP_S:-5}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
PROBE_INTERVAL=${PROBE_INTERVAL:-00:00:05}
READY_TIMEOUT_S=${READY_TIMEOUT_S:-90}
BENCH_PATH=/bench/ok            # what wrk requests; every target answers it with nginx's "ok"
PROBE_PATH=/healthz             # what HealthProxy probes on nginx

repo=$(cd "$(dirname "$0")/.." && pwd)
results_root="$repo/bench/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$results_root/$stamp"
build="$results_root/build"
mkdir -p "$out"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
tmp=$(mktemp -d -t healthproxy-bench.XXXXXX)

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- cleanup: stop exactly the processes started here ------------------------------------------
pids=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools ---------------------------------------------------------------------------------------
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The package's own nginx service is not the backend; leave it stopped if the install started it.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
    "${sudo[@]}" systemctl stop nginx || true
  fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for tool in wrk curl dotnet awk; do
  command -v "$tool" >/dev/null 2>&1 || { log "missing $tool"; exit 1; }
done

# --- free loopback ports -----------------------------------------------------------------------
taken=" "
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$(( (RANDOM % 30000) + 20000 ))
    case "$taken" in *" $port "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      taken+="$port "
      echo "$port"
      return 0
    fi
  done
  log "no free port found"
  return 1
}

# --- build (Release; output under bench/results/build, nothing in the source tree) -------------
log "publishing PlainYarp and HealthProxy.Gateway (Release)"
dotnet publish "$repo/bench/PlainYarp/PlainYarp.csproj" -c Release --artifacts-path "$build" \
  -o "$build/app/PlainYarp" -nologo -v quiet >"$out/build-plainyarp.log" 2>&1 \
  || { cat "$out/build-plainyarp.log" >&2; exit 1; }
dotnet publish "$repo/src/HealthProxy.Gateway/HealthProxy.Gateway.csproj" -c Release --artifacts-path "$build" \
  -o "$build/app/HealthProxy.Gateway" -nologo -v quiet >"$out/build-gateway.log" 2>&1 \
  || { cat "$out/build-gateway.log" >&2; exit 1; }

# --- backend: nginx, one worker, foreground, everything in the temp dir ---------------------------
nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:$nginx_port;
    default_type text/plain;
    location = $PROBE_PATH { return 200 '{"status":"healthy"}'; }
    location / { return 200 "ok"; }
  }
}
EOF
"$NGINX" -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" >"$out/nginx.log" 2>&1 &
pids+=($!)

# --- the two proxies: the same route and cluster, given on the command line -----------------------
# Each runs from its own empty temp dir with --contentRoot there, so neither reads the repository's
# appsettings.json (the demo's catalog cluster): the bench route is the only one configured.
# Logging at Warning for both (no per-request Information lines), Server GC for both.
yarp_port=$(free_port)
hp_port=$(free_port)
common=(
  "--ReverseProxy:Routes:bench:ClusterId=bench"
  "--ReverseProxy:Routes:bench:Match:Path={**catch-all}"
  "--ReverseProxy:Clusters:bench:Destinations:nginx:Address=http://127.0.0.1:$nginx_port/"
  "--Logging:LogLevel:Default=Warning"
  "--AllowedHosts=*"
)
health=(
  "--ReverseProxy:Clusters:bench:HealthCheck:Active:Enabled=true"
  "--ReverseProxy:Clusters:bench:HealthCheck:Active:Interval=$PROBE_INTERVAL"
  "--ReverseProxy:Clusters:bench:HealthCheck:Active:Timeout=00:00:02"
  "--ReverseProxy:Clusters:bench:HealthCheck:Active:Path=$PROBE_PATH"
)
mkdir -p "$tmp/yarp" "$tmp/healthproxy"
(cd "$tmp/yarp" && exec env DOTNET_gcServer=1 ASPNETCORE_ENVIRONMENT=Production \
  dotnet "$build/app/PlainYarp/PlainYarp.dll" --contentRoot "$tmp/yarp" \
  --urls "http://127.0.0.1:$yarp_port" "${common[@]}") >"$out/plainyarp.log" 2>&1 &
pids+=($!)
declare -A cpu_pid=([yarp]=$!)
(cd "$tmp/healthproxy" && exec env DOTNET_gcServer=1 ASPNETCORE_ENVIRONMENT=Production \
  dotnet "$build/app/HealthProxy.Gateway/HealthProxy.Gateway.dll" --contentRoot "$tmp/healthproxy" \
  --urls "http://127.0.0.1:$hp_port" "${common[@]}" "${health[@]}") >"$out/healthproxy.log" 2>&1 &
pids+=($!)
cpu_pid[healthproxy]=$!

declare -A url=(
  [direct]="http://127.0.0.1:$nginx_port$BENCH_PATH"
  [yarp]="http://127.0.0.1:$yarp_port$BENCH_PATH"
  [healthproxy]="http://127.0.0.1:$hp_port$BENCH_PATH"
)
targets=(direct yarp healthproxy)

# --- readiness: poll with a deadline ------------------------------------------------------------
wait_for() {  # name url [expected body]
  local name=$1 target=$2 expect=${3:-} deadline=$((SECONDS + READY_TIMEOUT_S)) body
  while [ $SECONDS -lt $deadline ]; do
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { log "a process exited early; see $out/*.log"; exit 1; }
    done
    if body=$(curl -fsS --max-time 2 "$target" 2>/dev/null) && { [ -z "$expect" ] || [ "$body" = "$expect" ]; }; then
      return 0
    fi
    sleep 0.2
  done
  log "$name not ready at $target after ${READY_TIMEOUT_S}s; see $out/*.log"
  exit 1
}
log "waiting for nginx :$nginx_port, plain YARP :$yarp_port, HealthProxy :$hp_port"
wait_for nginx "${url[direct]}" ok
wait_for yarp "${url[yarp]}" ok
wait_for healthproxy-startup "http://127.0.0.1:$hp_port/health/startup"   # first probe round done
wait_for healthproxy "${url[healthproxy]}" ok
hp_health=$(curl -sS --max-time 2 "http://127.0.0.1:$hp_port/health" || true)
log "HealthProxy /health: $hp_health"

# --- JIT warm-up (not recorded) -----------------------------------------------------------------
log "warm-up ${WARMUP_S}s each for plain YARP and HealthProxy"
for t in yarp healthproxy; do
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP_S}s" "${url[$t]}" >"$out/warmup-$t.txt" 2>&1
done

# --- measurement: ROUNDS rounds, order rotated each round --------------------------------------
to_ms() {  # wrk duration (123.45us | 1.23ms | 1.02s | 1.00m) -> milliseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}
# CPU the proxy process spent per request (user + system, from /proc): much less sensitive than
# requests/s to other load on the machine, so it shows the gateway's own cost when the box is busy.
ticks_per_s=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
table="$out/runs.tsv"
printf 'round\ttarget\treq_s\tp50_ms\tp99_ms\terrors\tload1\tcpu_us_req\n' >"$table"
for round in $(seq 1 "$ROUNDS"); do
  for i in 0 1 2; do
    t=${targets[$(( (i + round - 1) % 3 ))]}
    load1=$(cut -d' ' -f1 /proc/loadavg)
    raw="$out/wrk-r$round-$t.txt"
    log "round $round/$ROUNDS: $t (${DURATION_S}s, load1 $load1)"
    before=$( [ -n "${cpu_pid[$t]:-}" ] && cpu_ticks "${cpu_pid[$t]}" || echo 0)
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION_S}s" --latency "${url[$t]}" >"$raw" 2>&1
    after=$( [ -n "${cpu_pid[$t]:-}" ] && cpu_ticks "${cpu_pid[$t]}" || echo 0)
    requests=$(awk '/ requests in / {print $1}' "$raw")
    cpu_us=$(awk -v a="$before" -v b="$after" -v n="${requests:-0}" -v hz="$ticks_per_s" -v own="${cpu_pid[$t]:-}" \
      'BEGIN { if (own == "" || n == 0) print "-"; else printf "%.1f", (b - a) * 1e6 / hz / n }')
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$raw")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$raw")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$raw")")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$raw")
    sockerr=$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10}' "$raw")
    errors=$(( ${non2xx:-0} + ${sockerr:-0} ))
    [ -n "$rps" ] || { log "could not parse $raw"; cat "$raw" >&2; exit 1; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$t" "$rps" "$p50" "$p99" "$errors" "$load1" "$cpu_us" >>"$table"
  done
done

# --- report ---------------------------------------------------------------------------------------
summary="$out/summary.txt"
{
  echo "HealthProxy gateway benchmark  $stamp"
  echo "host: nproc $(nproc); load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION_S}s --latency GET $BENCH_PATH; $ROUNDS rounds, order rotated; warm-up ${WARMUP_S}s per .NET target"
  echo "backend nginx 1 worker (:$nginx_port); plain YARP (:$yarp_port); HealthProxy (:$hp_port, active probes every $PROBE_INTERVAL on $PROBE_PATH)"
  echo
  awk -F'\t' -v targets="${targets[*]}" '
    function median(a, n,   i, j, t) {
      for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    NR == 1 { next }
    { rounds = ($1 > rounds) ? $1 : rounds
      rps[$2, $1] = $3; p50[$2, $1] = $4; p99[$2, $1] = $5; err[$2] += $6; ld[$2, $1] = $7; cpu[$2, $1] = $8 }
    END {
      n = split(targets, t, " ")
      printf "%-12s %6s %12s %9s %9s %6s %11s %6s\n", "target", "round", "req/s", "p50 ms", "p99 ms", "load1", "cpu us/req", "errors"
      for (k = 1; k <= n; k++) {
        for (r = 1; r <= rounds; r++) {
          printf "%-12s %6s %12.0f %9.3f %9.3f %6s %11s %6s\n", t[k], r, rps[t[k], r], p50[t[k], r], p99[t[k], r], ld[t[k], r], cpu[t[k], r], ""
          a[r] = rps[t[k], r]; b[r] = p50[t[k], r]; c[r] = p99[t[k], r]; d[r] = cpu[t[k], r]
        }
        mr[t[k]] = median(a, rounds); m50[t[k]] = median(b, rounds); m99[t[k]] = median(c, rounds)
        mc[t[k]] = (d[1] == "-") ? "-" : sprintf("%.1f", median(d, rounds))
        printf "%-12s %6s %12.0f %9.3f %9.3f %6s %11s %6d\n\n", t[k], "median", mr[t[k]], m50[t[k]], m99[t[k]], "", mc[t[k]], err[t[k]]
      }
      for (r = 1; r <= rounds; r++) { q[r] = rps["healthproxy", r] / rps["yarp", r]; w[r] = p99["healthproxy", r] / p99["yarp", r] }
      pq = median(q, rounds); pw = median(w, rounds)
      print "ratios (of medians)"
      printf "  req/s  yarp/direct         %.3f\n", mr["yarp"] / mr["direct"]
      printf "  req/s  healthproxy/direct  %.3f\n", mr["healthproxy"] / mr["direct"]
      printf "  req/s  healthproxy/yarp    %.3f   (target >= 0.95)  %s\n", mr["healthproxy"] / mr["yarp"], (mr["healthproxy"] / mr["yarp"] >= 0.95) ? "PASS" : "FAIL"
      printf "  p50    healthproxy/yarp    %.3f\n", m50["healthproxy"] / m50["yarp"]
      printf "  p99    healthproxy/yarp    %.3f   (target <= 1.10)  %s\n", m99["healthproxy"] / m99["yarp"], (m99["healthproxy"] / m99["yarp"] <= 1.10) ? "PASS" : "FAIL"
      printf "  cpu    healthproxy/yarp    %.3f   (proxy process CPU per request; least affected by other load)\n", mc["healthproxy"] / mc["yarp"]
      printf "paired per round (median of the %d same-round ratios): req/s healthproxy/yarp %.3f, p99 healthproxy/yarp %.3f\n", rounds, pq, pw
      if (err["direct"] + err["yarp"] + err["healthproxy"] > 0) print "WARNING: wrk reported non-2xx responses or socket errors (see errors column and raw files)"
    }' "$table"
  echo
  echo "raw wrk output, process logs: $out"
} | tee "$summary"
