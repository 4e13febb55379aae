#!/usr/bin/env bash
# Bytes allocated per request by the gateway's routing step (HealthRoutingMiddleware +
# RequestKinds.Classify + RoutingTable lookup), N calls per case on one thread. Target: 0 B.
# No network. Settings (environment): ITERATIONS (1000000).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build="$repo/bench/results/build"
echo "host: nproc $(nproc); load average $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet build "$repo/bench/HealthProxy.Bench/HealthProxy.Bench.csproj" -c Release --artifacts-path "$build" -nologo -v quiet >/dev/null
dotnet "$build/bin/HealthProxy.Bench/release/HealthProxy.Bench.dll" alloc "${ITERATIONS:-1000000}"
