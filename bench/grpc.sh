#!/usr/bin/env bash
# Unary gRPC requests/s through the gateway against bare YARP, both over h2c on equal terms, loopback only.
# One gRPC backend (bench/GrpcBackend: bench.Echo/Ping, Kestrel HTTP/2 only); h2load sends the call (POST,
# content-type application/grpc, te trailers, a 5-byte gRPC frame prefix and a 7-byte PingRequest) to three
# targets, each its own process: direct (the backend itself, for context), yarp (bench/PlainYarp),
# healthproxy (src/HealthProxy.Gateway, probing the backend's /healthz every 5 s over HTTP/2) and hp-read (the
# gateway with the method declared a read). Both proxies
# get one h2c-only Kestrel endpoint (Kestrel:Endpoints:h2c, Protocols Http2), the same catch-all route, and
# a cluster that speaks HTTP/2 exactly to the backend (HttpRequest Version 2, RequestVersionExact). Rounds are
# interleaved as in ab.sh (order rotated per round); per round, each target's requests/s and CPU per request
# are divided by yarp's, and the summary gives the median and quartiles of those ratios.
#
# A run counts only if every call was a gRPC success: h2load's counts (every call done succeeded, no status
# but 2xx, none failed, errored or timed out) and its DATA bytes (one PingReply frame per call done; a gRPC
# error arrives as HTTP 200 with grpc-status in trailers-only headers and no message), plus one call by curl
# through each target before and after the rounds that must end with the trailer grpc-status: 0.
#
# h2load -c8 -m10 keeps 80 calls in flight, under Kestrel's default of 100 streams per HTTP/2 connection, so a
# proxy needs no second backend connection. More in flight does not raise either proxy's requests/s on two cores;
# it raises their CPU per call and the latency (bare YARP here, 8 rounds each: 41 us per call and p99 23 ms at
# -c8 -m10, 63 us and 81 ms at -c32 -m10), and the figure would then measure that queue more than the proxying.
#
# Settings (environment): ROUNDS (8) DURATION_S (5) WARMUP_S (5) THREADS (2) CONNECTIONS (8) STREAMS (10,
# concurrent streams per connection) PROXY_ENV (space-separated VAR=value for both proxies, e.g.
# DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1) READY_TIMEOUT_S (90). Writes only under bench/results/grpc-<stamp>/.
set -euo pipefail
ROUNDS=${ROUNDS:-8}; DURATION_S=${DURATION_S:-5}; WARMUP_S=${WARMUP_S:-5}; THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-8}; STREAMS=${STREAMS:-10}; PROXY_ENV=${PROXY_ENV:-}

repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/bench/lib.sh"
start_run grpc

need_packages h2load:nghttp2-client curl:curl
log "publishing GrpcBackend, PlainYarp and HealthProxy.Gateway (Release)"
publish "$repo/bench/GrpcBackend/GrpcBackend.csproj" GrpcBackend
publish "$repo/bench/PlainYarp/PlainYarp.csproj" PlainYarp
publish "$repo/src/HealthProxy.Gateway/HealthProxy.Gateway.csproj" HealthProxy.Gateway

# The request: gRPC's frame prefix (not compressed, 4-byte big-endian length 7), then PingRequest{name: "bench"}
# (field 1, wire type 2: tag 0x0a, length 5). The reply, PingReply{message: "hello bench"}, is 5 + 2 + 11 bytes.
method=/bench.Echo/Ping
printf '\x00\x00\x00\x00\x07\x0a\x05bench' >"$tmp/request.bin"
reply_bytes=18
# Logging at Warning everywhere; the request logger's category off on both proxies (the gateway turns it off
# itself when nothing would print its lines; bare YARP would otherwise start an Activity per request).
quiet=("--Logging:LogLevel:Default=Warning" "--Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics=None")
read -r -a proxy_env <<<"$PROXY_ENV"

be=$(free_port)
mkdir -p "$tmp/backend"
(cd "$tmp/backend" && exec env DOTNET_gcServer=1 ASPNETCORE_ENVIRONMENT=Production dotnet "$build/app/GrpcBackend/GrpcBackend.dll" \
  --contentRoot "$tmp/backend" --urls "http://127.0.0.1:$be" "${quiet[@]}") >"$out/backend.log" 2>&1 &
backend_pid=$!; pids+=("$backend_pid")

proxy_args "$be"
common+=(
  "${quiet[@]}"
  "--ReverseProxy:Clusters:bench:HttpRequest:Version=2" "--ReverseProxy:Clusters:bench:HttpRequest:VersionPolicy=RequestVersionExact"
)
# start_h2c <name> <kind>: start_proxy with one h2c-only Kestrel endpoint on a free port, sets port. The empty
# --urls (the last value of a key wins) drops start_proxy's, which Kestrel would override with a warning.
start_h2c() {
  port=$(free_port)
  start_proxy "$1" "$2" "$port" "${proxy_env[@]}" -- "--urls=" \
    "--Kestrel:Endpoints:h2c:Url=http://127.0.0.1:$port" "--Kestrel:Endpoints:h2c:Protocols=Http2" "${@:3}"
}

wait_h2c() {  # name url: polls with HTTP/2 prior knowledge (the listeners speak nothing else) until 200
  local deadline=$((SECONDS + ${READY_TIMEOUT_S:-90})) pid
  while [ $SECONDS -lt $deadline ]; do
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { log "a process exited early; see $out/*.log"; exit 1; }; done
    curl -fsS --http2-prior-knowledge --max-time 2 -o /dev/null "$2" 2>/dev/null && return 0
    sleep 0.2
  done
  log "$1 not ready at $2 after ${READY_TIMEOUT_S:-90}s; see $out/*.log"; exit 1
}

grpc_call() {  # name base-url: one unary call by curl; the reply must carry the message and end with grpc-status 0
  local headers="$out/curl-$1.headers" body="$out/curl-$1.body"
  curl -sS --http2-prior-knowledge --max-time 5 -H 'content-type: application/grpc' -H 'te: trailers' \
    --data-binary "@$tmp/request.bin" -D "$headers" -o "$body" "$2$method" \
    || { log "gRPC call through $1 failed"; exit 1; }
  grep -qi '^grpc-status: 0' "$headers" && grep -q 'hello bench' "$body" \
    || { log "gRPC call through $1 did not succeed:"; cat "$headers" >&2; exit 1; }
}

names=(direct yarp healthproxy hp-read); declare -A base process
base[direct]="http://127.0.0.1:$be"; process[direct]=$backend_pid
start_h2c yarp yarp; base[yarp]="http://127.0.0.1:$port"; process[yarp]=$proxy_pid
start_h2c healthproxy healthproxy "--HealthProxy:Shutdown:DrainDelay=00:00:00"
base[healthproxy]="http://127.0.0.1:$port"; process[healthproxy]=$proxy_pid
# The same gateway with the method declared a read: each call keeps its request message for a replay (the retry of a
# trailers-only UNAVAILABLE), the one per-call cost gRPC reads add.
start_h2c hp-read healthproxy "--HealthProxy:Shutdown:DrainDelay=00:00:00" "--ReverseProxy:Routes:bench:Metadata:HealthProxy.GrpcReadMethods=bench.Echo/Ping"
base[hp-read]="http://127.0.0.1:$port"; process[hp-read]=$proxy_pid

wait_h2c backend "${base[direct]}/healthz"
wait_h2c yarp "${base[yarp]}/healthz"
# The gateway answers before its first probe; measured only once it reports itself started.
wait_h2c healthproxy "${base[healthproxy]}/health/startup"
wait_h2c hp-read "${base[hp-read]}/health/startup"
for name in "${names[@]}"; do grpc_call "$name" "${base[$name]}"; done

h2load_run() {  # url seconds output [log-file]
  local logging=(); [ -z "${4:-}" ] || logging=(--log-file="$4")
  h2load -c"$CONNECTIONS" -m"$STREAMS" -t"$THREADS" -D"$2" "${logging[@]}" \
    -H 'content-type: application/grpc' -H 'te: trailers' -d "$tmp/request.bin" "$1" >"$3" 2>&1
}

log "JIT warm-up ${WARMUP_S}s each"
for name in "${names[@]}"; do h2load_run "${base[$name]}$method" "$WARMUP_S" "$out/warmup-$name.txt"; done

table="$out/runs.tsv"
printf 'round\tvariant\treq_s\tcpu_us_req\tp50_ms\tp99_ms\trequests\tload1\n' >"$table"
n=${#names[@]}
for round in $(seq 1 "$ROUNDS"); do
  log "round $round/$ROUNDS (load1 $(load1))"
  for i in $(seq 0 $((n - 1))); do
    name=${names[$(( (i + round - 1) % n ))]}
    raw="$out/h2load-$round-$name.txt"; latencies="$tmp/latency.tsv"
    rm -f "$latencies"   # h2load appends to its log file
    before=$(cpu_ticks "${process[$name]}")
    h2load_run "${base[$name]}$method" "$DURATION_S" "$raw" "$latencies"
    after=$(cpu_ticks "${process[$name]}")
    # requests: T total, S started, D done, OK succeeded, F failed, E errored, X timeout
    read -r done ok failed errored timeouts < <(awk '/^requests:/ {print $6, $8, $10, $12, $14}' "$raw")
    # status codes: counted when headers arrive, so a call cut off by the end of the run may be a 2xx not done
    read -r twoxx other < <(awk '/^status codes:/ {print $3, $5 + $7 + $9}' "$raw")
    data=$(awk '/^traffic:/ { gsub(/[()]/, "", $0); print $(NF - 1) }' "$raw")
    rps=$(awk '/^finished in/ {print $4}' "$raw")
    if [ -z "$rps" ] || [ "${done:-0}" -le 0 ] || [ "$ok" != "$done" ] || [ "$twoxx" -lt "$done" ] || [ "$other" != 0 ] \
      || [ "$failed$errored$timeouts" != 000 ] || [ "$data" -lt $((done * reply_bytes)) ] || [ "$data" -gt $((twoxx * reply_bytes)) ]; then
      log "$name: not every call succeeded (done $done, 2xx $twoxx, other statuses $other, failed $failed, errored $errored, timeout $timeouts, DATA bytes $data, expected $((done * reply_bytes)))"
      cat "$raw" >&2; exit 1
    fi
    # h2load's log: start (us since epoch), status, microseconds to the end of the response.
    read -r p50 p99 < <(cut -f3 "$latencies" | sort -n | awk '{ v[NR] = $1 } END { printf "%.3f %.3f\n", v[int(NR * 0.50 + 0.5)] / 1000, v[int(NR * 0.99 + 0.5)] / 1000 }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$rps" \
      "$(awk -v a="$before" -v b="$after" -v n="$done" -v hz="$ticks_per_s" 'BEGIN { printf "%.1f", (b - a) * 1e6 / hz / n }')" \
      "$p50" "$p99" "$done" "$(load1)" >>"$table"
  done
done
for name in "${names[@]}"; do grpc_call "$name" "${base[$name]}"; done

{
  echo "HealthProxy gRPC (h2c) bench  $stamp"
  echo "host: nproc $(nproc); load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$ROUNDS rounds x ${DURATION_S}s per target, order rotated; h2load -c$CONNECTIONS -m$STREAMS -t$THREADS, unary $method over h2c"
  echo "all three: Release, Server GC (DOTNET_gcServer=1), ASPNETCORE_ENVIRONMENT=Production, ${quiet[*]}"
  echo "both proxies: Kestrel:Endpoints:h2c Protocols=Http2; cluster HttpRequest Version=2, VersionPolicy=RequestVersionExact; environment '${PROXY_ENV}'"
  echo "healthproxy: its defaults, plus active probes of /healthz every 5 s and DrainDelay 0; hp-read: the same with bench.Echo/Ping declared a read (HealthProxy.GrpcReadMethods)"
  echo "every measured call a gRPC success (h2load: all 2xx, one reply frame each; curl: grpc-status 0 before and after);" \
    "$(awk -F'\t' 'NR > 1 { s += $7 } END { print s }' "$table") calls in all"
  echo "cpu us/req: the process h2load talks to (the backend's own CPU is not in the proxies' figures)"
  echo
  awk -F'\t' -v ref=yarp -v order="${names[*]}" '
    function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
    function q(a, n, p,   k, i) { sort(a, n); k = (n - 1) * p + 1; i = int(k); return (i >= n) ? a[n] : a[i] + (a[i + 1] - a[i]) * (k - i) }
    NR == 1 { next }
    { R = ($1 > R) ? $1 : R; rps[$2, $1] = $3; cpu[$2, $1] = $4; p50[$2, $1] = $5; p99[$2, $1] = $6; load[$1] = $8 }
    END {
      m = split(order, v, " ")
      printf "%-12s %22s %10s %8s %8s %28s %28s\n", "target", "req/s [p25-p75]", "cpu us/req", "p50 ms", "p99 ms", "req/s x yarp [p25-p75]", "cpu/req x yarp [p25-p75]"
      for (k = 1; k <= m; k++) {
        x = v[k]
        for (r = 1; r <= R; r++) { a[r] = rps[x, r]; c[r] = cpu[x, r]; l[r] = p50[x, r]; h[r] = p99[x, r]; ra[r] = rps[x, r] / rps[ref, r]; rc[r] = cpu[x, r] / cpu[ref, r] }
        printf "%-12s %7.0f [%6.0f-%6.0f] %10.1f %8.2f %8.2f %10.3f [%.3f-%.3f] %10.3f [%.3f-%.3f]\n", x, q(a, R, 0.5), q(a, R, 0.25), q(a, R, 0.75),
          q(c, R, 0.5), q(l, R, 0.5), q(h, R, 0.5), q(ra, R, 0.5), q(ra, R, 0.25), q(ra, R, 0.75), q(rc, R, 0.5), q(rc, R, 0.25), q(rc, R, 0.75)
      }
      printf "\nper round, req/s (load1 after the round):\nround"
      for (k = 1; k <= m; k++) printf " %12s", v[k]
      printf " %10s\n", "hp/yarp"
      for (r = 1; r <= R; r++) {
        printf "%5d", r
        for (k = 1; k <= m; k++) printf " %12.0f", rps[v[k], r]
        printf " %10.3f  (load1 %s)\n", rps["healthproxy", r] / rps[ref, r], load[r]
      }
    }' "$table"
  echo
  echo "raw output and logs: $out"
} | tee "$out/summary.txt"
