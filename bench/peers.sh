#!/usr/bin/env bash
# One run, loopback only: requests/s and latency of a small GET through HealthProxy and its peers:
#   direct (nginx, 1 worker) | haproxy | nginx as a reverse proxy | bare YARP | HealthProxy (probes + breakers on)
#   | yarp-tuned: bare YARP with the two settings HealthProxy has over it (socket completions inline, as the
#     Dockerfile sets; ASP.NET Core's request logger off, as the gateway does by itself at Warning)
#   | hp-deployed: HealthProxy with the Dockerfile's runtime environment (socket completions inline)
# Throughput: wrk -t$THREADS -c$CONNECTIONS -d${DURATION_S}s --latency, ROUNDS rounds, order rotated,
# ratios to direct per round (median and range). Latency: wrk -t1 -c$LAT_CONNECTIONS (default 4, a
# low-concurrency stand-in for a fixed moderate rate: wrk2 is not in Debian), p50/p99 added over direct.
# Writes only under bench/results/<stamp>/ and a temp dir removed on exit; stops every process it starts.
#
# Settings (environment): DURATION_S (10) WARMUP_S (5) ROUNDS (3) THREADS (2) CONNECTIONS (32)
#                         LAT_CONNECTIONS (4) LAT_DURATION_S (5) PROXY_WORKERS (2) READY_TIMEOUT_S (90)
set -euo pipefail
DURATION_S=${DURATION_S:-10}; WARMUP_S=${WARMUP_S:-5}; ROUNDS=${ROUNDS:-3}; THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}; LAT_CONNECTIONS=${LAT_CONNECTIONS:-4}; LAT_DURATION_S=${LAT_DURATION_S:-5}
PROXY_WORKERS=${PROXY_WORKERS:-2}

repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/bench/lib.sh"
start_run peers

need_packages wrk:wrk nginx:nginx haproxy:haproxy
NGINX=$(command -v nginx || echo /usr/sbin/nginx); HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

log "publishing PlainYarp and HealthProxy.Gateway (Release)"
publish "$repo/bench/PlainYarp/PlainYarp.csproj" PlainYarp
publish "$repo/src/HealthProxy.Gateway/HealthProxy.Gateway.csproj" HealthProxy.Gateway

be=$(free_port); hap=$(free_port); ngp=$(free_port); yp=$(free_port); hp=$(free_port); ytp=$(free_port); hdp=$(free_port)
nginx_conf "$tmp/backend" "server { listen 127.0.0.1:$be; default_type text/plain;
    location = /healthz { return 200 '{\"status\":\"healthy\"}'; }
    location / { return 200 'ok'; } }"
start_nginx "$tmp/backend" nginx-backend

# nginx as a reverse proxy: HTTP/1.1 to the upstream with a keep-alive pool.
nginx_conf "$tmp/proxy" "upstream be { server 127.0.0.1:$be; keepalive 64; }
  server { listen 127.0.0.1:$ngp; location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
sed -i "s/^worker_processes 1;/worker_processes $PROXY_WORKERS;/" "$tmp/proxy/nginx.conf"
start_nginx "$tmp/proxy" nginx-proxy

cat >"$tmp/haproxy.cfg" <<CFG
global
  nbthread $PROXY_WORKERS
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:$hap
  default_backend be
backend be
  http-reuse always
  server s1 127.0.0.1:$be
CFG
"$HAPROXY" -db -f "$tmp/haproxy.cfg" >"$out/haproxy.log" 2>&1 &
pids+=($!)

# Both .NET proxies: same route and cluster, Release, Server GC, tiered PGO (the .NET 8+ default, set
# explicitly), logging at Warning, no appsettings.json (empty content root).
proxy_args "$be"
deployed_env=(DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1)   # as the Dockerfile and config/kubernetes set it
declare -A cpu_pid
start_proxy yarp yarp "$yp" DOTNET_TieredPGO=1; cpu_pid[yarp]=$proxy_pid
start_proxy healthproxy healthproxy "$hp" DOTNET_TieredPGO=1; cpu_pid[healthproxy]=$proxy_pid
start_proxy yarp-tuned yarp "$ytp" DOTNET_TieredPGO=1 "${deployed_env[@]}" -- "--Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics=None"
cpu_pid[yarp-tuned]=$proxy_pid
start_proxy hp-deployed healthproxy "$hdp" DOTNET_TieredPGO=1 "${deployed_env[@]}"; cpu_pid[hp-deployed]=$proxy_pid

targets=(direct haproxy nginx yarp healthproxy yarp-tuned hp-deployed)
declare -A url=([direct]="http://127.0.0.1:$be/bench/ok" [haproxy]="http://127.0.0.1:$hap/bench/ok"
  [nginx]="http://127.0.0.1:$ngp/bench/ok" [yarp]="http://127.0.0.1:$yp/bench/ok" [healthproxy]="http://127.0.0.1:$hp/bench/ok"
  [yarp-tuned]="http://127.0.0.1:$ytp/bench/ok" [hp-deployed]="http://127.0.0.1:$hdp/bench/ok")
for t in "${targets[@]}"; do wait_for "$t" "${url[$t]}" ok; done
wait_for healthproxy-startup "http://127.0.0.1:$hp/health/startup"
wait_for hp-deployed-startup "http://127.0.0.1:$hdp/health/startup"

log "JIT warm-up ${WARMUP_S}s each for the .NET proxies"
for t in yarp healthproxy yarp-tuned hp-deployed; do wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP_S}s" "${url[$t]}" >"$out/warmup-$t.txt" 2>&1; done

table="$out/runs.tsv"
printf 'round\ttarget\treq_s\tp50_ms\tp99_ms\terrors\tload1\tcpu_us_req\tlat_p50_ms\tlat_p99_ms\n' >"$table"
n=${#targets[@]}
for round in $(seq 1 "$ROUNDS"); do
  for i in $(seq 0 $((n - 1))); do
    t=${targets[$(( (i + round - 1) % n ))]}
    l1=$(load1); raw="$out/wrk-r$round-$t.txt"; lat="$out/lat-r$round-$t.txt"
    log "round $round/$ROUNDS: $t (load1 $l1)"
    before=$( [ -n "${cpu_pid[$t]:-}" ] && cpu_ticks "${cpu_pid[$t]}" || echo 0)
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION_S}s" --latency "${url[$t]}" >"$raw" 2>&1
    after=$( [ -n "${cpu_pid[$t]:-}" ] && cpu_ticks "${cpu_pid[$t]}" || echo 0)
    wrk -t1 -c"$LAT_CONNECTIONS" -d"${LAT_DURATION_S}s" --latency "${url[$t]}" >"$lat" 2>&1
    requests=$(awk '/ requests in / {print $1}' "$raw")
    cpu_us=$(awk -v a="$before" -v b="$after" -v n="${requests:-0}" -v hz="$ticks_per_s" -v own="${cpu_pid[$t]:-}" \
      'BEGIN { if (own == "" || n == 0) print "-"; else printf "%.1f", (b - a) * 1e6 / hz / n }')
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$raw")
    [ -n "$rps" ] || { log "could not parse $raw"; cat "$raw" >&2; exit 1; }
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$raw"); sockerr=$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10}' "$raw")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$t" "$rps" \
      "$(to_ms "$(awk '$1 == "50%" {print $2}' "$raw")")" "$(to_ms "$(awk '$1 == "99%" {print $2}' "$raw")")" \
      $(( ${non2xx:-0} + ${sockerr:-0} )) "$l1" "$cpu_us" \
      "$(to_ms "$(awk '$1 == "50%" {print $2}' "$lat")")" "$(to_ms "$(awk '$1 == "99%" {print $2}' "$lat")")" >>"$table"
  done
done

{
  echo "HealthProxy vs peers  $stamp"
  echo "host: nproc $(nproc); load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "throughput: wrk -t$THREADS -c$CONNECTIONS -d${DURATION_S}s --latency; latency: wrk -t1 -c$LAT_CONNECTIONS -d${LAT_DURATION_S}s (low-concurrency stand-in for a fixed rate)"
  echo "$ROUNDS rounds, order rotated; backend nginx 1 worker; haproxy nbthread $PROXY_WORKERS; nginx proxy $PROXY_WORKERS workers, HTTP/1.1 keepalive 64; .NET: Server GC, TieredPGO, Warning logs"
  echo
  awk -F'\t' -v targets="${targets[*]}" '
    function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
    function median(a, n) { sort(a, n); return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    NR == 1 { next }
    { R = ($1 > R) ? $1 : R; rps[$2, $1] = $3; p99[$2, $1] = $5; err[$2] += $6; ld[$2, $1] = $7; cpu[$2, $1] = $8; l50[$2, $1] = $9; l99[$2, $1] = $10 }
    END {
      n = split(targets, t, " ")
      printf "%-12s %9s %7s %15s %7s %15s %7s %15s %9s %11s %11s %10s %6s\n", "target", "req/s", "x dir", "x dir range", "x hap", "x hap range", "x yarp", "x yarp range", "p99 ms", "+p50 c4 ms", "+p99 c4 ms", "cpu us/req", "errors"
      for (r = 1; r <= R; r++) { d50[r] = l50["direct", r]; d99[r] = l99["direct", r] }
      for (k = 1; k <= n; k++) {
        x = t[k]
        for (r = 1; r <= R; r++) { a[r] = rps[x, r]; q[r] = rps[x, r] / rps["direct", r]; h[r] = rps[x, r] / rps["haproxy", r]; c[r] = p99[x, r]
          y[r] = rps[x, r] / rps["yarp", r]; e[r] = l50[x, r] - l50["direct", r]; f[r] = l99[x, r] - l99["direct", r]; g[r] = cpu[x, r] }
        mr = median(a, R); mq = median(q, R); qlo = q[1]; qhi = q[R]; mh = median(h, R); hlo = h[1]; hhi = h[R]; my = median(y, R); ylo = y[1]; yhi = y[R]
        printf "%-12s %9.0f %7.3f %7.3f-%-7.3f %7.3f %7.3f-%-7.3f %7.3f %7.3f-%-7.3f %9.3f %11.3f %11.3f %10s %6d\n", x, mr, mq, qlo, qhi, mh, hlo, hhi, my, ylo, yhi, median(c, R), median(e, R), median(f, R), (g[1] == "-") ? "-" : sprintf("%.1f", median(g, R)), err[x]
      }
      print ""
      print "x dir / x hap / x yarp: median of the per-round ratios to direct / haproxy / bare YARP (range across rounds); +p50/+p99 c4: latency added over direct at -c4, median of rounds"
      print "load1 per measurement is in runs.tsv"
    }' "$table"
  echo
  echo "raw output and logs: $out"
} | tee "$out/summary.txt"
