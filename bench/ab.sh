#!/usr/bin/env bash
# Interleaved A/B of proxy variants, loopback only: many short rounds, each measuring every variant back to
# back (order rotated per round), so that the machine's drift (on the shared 2-core VM the same process
# varies by +-20% from one minute to the next) hits every variant alike. Per round, each variant's requests/s
# and CPU per request are divided by the first variant's; the summary gives the median and quartiles of
# those ratios, which separate effects of 3-5% that a few long rounds cannot.
#
# A variant is 'name|kind|environment|arguments': kind is yarp (bench/PlainYarp), healthproxy (the
# gateway, probing the backend every 5 s) or baseline (the gateway published from another commit, BASELINE_DLL); environment and arguments are space-separated. Examples:
#   bash bench/ab.sh 'yarp|yarp||' 'hp|healthproxy||'
#   bash bench/ab.sh 'hp|healthproxy||' 'hp-inline|healthproxy|DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1|'
#   bash bench/ab.sh 'yarp|yarp||' 'yarp-quiet|yarp||--Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics=None'
# Every variant runs as its own process from an empty content root (no appsettings.json), Release, Server GC,
# logging at Warning, against one nginx backend (1 worker). Writes only under bench/results/ab-<stamp>/.
#
# Settings (environment): ROUNDS (24) DURATION_S (3) WARMUP_S (5) THREADS (2) CONNECTIONS (32) READY_TIMEOUT_S (90)
set -euo pipefail
ROUNDS=${ROUNDS:-24}; DURATION_S=${DURATION_S:-3}; WARMUP_S=${WARMUP_S:-5}; THREADS=${THREADS:-2}; CONNECTIONS=${CONNECTIONS:-32}
[ $# -ge 2 ] || { echo "usage: bash bench/ab.sh 'name|kind|env|args' 'name|kind|env|args' ... (see the header)" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/bench/lib.sh"
start_run ab

need_packages wrk:wrk nginx:nginx
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
log "publishing PlainYarp and HealthProxy.Gateway (Release)"
publish "$repo/bench/PlainYarp/PlainYarp.csproj" PlainYarp
publish "$repo/src/HealthProxy.Gateway/HealthProxy.Gateway.csproj" HealthProxy.Gateway

be=$(free_port)
nginx_conf "$tmp/backend" "server { listen 127.0.0.1:$be; default_type text/plain;
    location = /healthz { return 200 '{\"status\":\"healthy\"}'; }
    location / { return 200 'ok'; } }"
start_nginx "$tmp/backend" nginx-backend
proxy_args "$be"

names=(); declare -A url process ready
for spec in "$@"; do
  IFS='|' read -r name kind env_list arg_list <<<"$spec"
  [ -n "$name" ] && [ -z "${url[$name]:-}" ] || { log "variant names must be set and distinct: '$spec'"; exit 2; }
  port=$(free_port)
  read -r -a env_words <<<"$env_list"; read -r -a arg_words <<<"$arg_list"
  extra=(); [ "$kind" = yarp ] || extra=("--HealthProxy:Shutdown:DrainDelay=00:00:00")
  start_proxy "$name" "$kind" "$port" "${env_words[@]}" -- "${extra[@]}" "${arg_words[@]}"
  process[$name]=$proxy_pid; url[$name]="http://127.0.0.1:$port/bench/ok"; names+=("$name")
  # The gateway answers before its first probe; measured only once it reports itself started.
  [ "$kind" != yarp ] && ready[$name]="http://127.0.0.1:$port/health/startup" || ready[$name]=""
done
for name in "${names[@]}"; do
  wait_for "$name" "${url[$name]}" ok
  [ -z "${ready[$name]}" ] || wait_for "$name" "${ready[$name]}"
done
log "JIT warm-up ${WARMUP_S}s each"
for name in "${names[@]}"; do wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP_S}s" "${url[$name]}" >/dev/null 2>&1; done

table="$out/runs.tsv"
printf 'round\tvariant\treq_s\tcpu_us_req\tp99_ms\tload1\n' >"$table"
n=${#names[@]}
for round in $(seq 1 "$ROUNDS"); do
  log "round $round/$ROUNDS (load1 $(load1))"
  for i in $(seq 0 $((n - 1))); do
    name=${names[$(( (i + round - 1) % n ))]}
    before=$(cpu_ticks "${process[$name]}")
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION_S}s" --latency "${url[$name]}" >"$out/wrk.txt" 2>&1
    after=$(cpu_ticks "${process[$name]}")
    requests=$(awk '/ requests in / {print $1}' "$out/wrk.txt"); rps=$(awk '/^Requests\/sec:/ {print $2}' "$out/wrk.txt")
    [ -n "$rps" ] && [ "${requests:-0}" -gt 0 ] 2>/dev/null || { log "no requests in wrk's output for $name"; cat "$out/wrk.txt" >&2; exit 1; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$rps" \
      "$(awk -v a="$before" -v b="$after" -v n="$requests" -v hz="$ticks_per_s" 'BEGIN { printf "%.1f", (b - a) * 1e6 / hz / n }')" \
      "$(to_ms "$(awk '$1 == "99%" {print $2}' "$out/wrk.txt")")" "$(load1)" >>"$table"
  done
done

{
  echo "HealthProxy A/B  $stamp"
  echo "host: nproc $(nproc); load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$ROUNDS rounds x ${DURATION_S}s per variant, order rotated; wrk -t$THREADS -c$CONNECTIONS; ratios to '${names[0]}' within each round"
  for spec in "$@"; do echo "  variant: $spec"; done
  echo
  awk -F'\t' -v ref="${names[0]}" -v order="${names[*]}" '
    function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
    function q(a, n, p,   k, i) { sort(a, n); k = (n - 1) * p + 1; i = int(k); return (i >= n) ? a[n] : a[i] + (a[i + 1] - a[i]) * (k - i) }
    NR == 1 { next }
    { R = ($1 > R) ? $1 : R; rps[$2, $1] = $3; cpu[$2, $1] = $4; p99[$2, $1] = $5 }
    END {
      m = split(order, v, " ")
      printf "%-16s %9s %10s %9s %28s %28s\n", "variant", "req/s", "cpu us/req", "p99 ms", "req/s x ref [p25-p75]", "cpu/req x ref [p25-p75]"
      for (k = 1; k <= m; k++) {
        x = v[k]
        for (r = 1; r <= R; r++) { a[r] = rps[x, r]; c[r] = cpu[x, r]; l[r] = p99[x, r]; ra[r] = rps[x, r] / rps[ref, r]; rc[r] = cpu[x, r] / cpu[ref, r] }
        printf "%-16s %9.0f %10.1f %9.2f %10.3f [%.3f-%.3f] %10.3f [%.3f-%.3f]\n", x, q(a, R, 0.5), q(c, R, 0.5), q(l, R, 0.5),
          q(ra, R, 0.5), q(ra, R, 0.25), q(ra, R, 0.75), q(rc, R, 0.5), q(rc, R, 0.25), q(rc, R, 0.75)
      }
    }' "$table"
  echo
  echo "raw output and logs: $out"
} | tee "$out/summary.txt"
