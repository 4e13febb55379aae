#!/usr/bin/env bash
# Scale: the gateway (in process) fed by the in-process Consul simulator with SERVICES x INSTANCES
# destinations on 500 nodes, against a 1 x INSTANCES one: time to /health/startup 200, working set,
# Consul answer -> routing table for one state change and one membership change, and wrk requests/s
# through one route of each (every destination points at one local nginx). Loopback only.
# Settings (environment): SERVICES (1000) INSTANCES (10) DURATION_S (10) ROUNDS (3)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$repo/bench/results/scale-$stamp"; build="$repo/bench/results/build"
mkdir -p "$out"; tmp=$(mktemp -d -t healthproxy-scale.XXXXXX)
source "$repo/bench/lib.sh"
install_traps
need_packages wrk:wrk nginx:nginx
host_line
dotnet build "$repo/bench/HealthProxy.Bench/HealthProxy.Bench.csproj" -c Release --artifacts-path "$build" -nologo -v quiet >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
be=$(free_port)
nginx_conf "$tmp/backend" "server { listen 127.0.0.1:$be; default_type text/plain; location / { return 200 'ok'; } }"
start_nginx "$tmp/backend" nginx-backend
wait_for nginx "http://127.0.0.1:$be/" ok
DOTNET_gcServer=1 timeout 900 dotnet "$build/bin/HealthProxy.Bench/release/HealthProxy.Bench.dll" scale "${SERVICES:-1000}" "${INSTANCES:-10}" "$be" | tee "$out/summary.txt"
host_line
