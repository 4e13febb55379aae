#!/usr/bin/env bash
# Probe storm: the gateway (its own process, Release, Server GC) probing CLUSTERS x DESTS
# destinations every INTERVAL against BACKENDS Kestrel listeners in HealthProxy.Bench, which counts
# arrivals per 100 ms window (Stopwatch). Prints windows, mean, max, max/mean, p99 for the startup
# round (first 5 s) and steady state (DURATION_S), and the gateway's CPU % and µs per probe from
# /proc/<pid>/stat. Loopback only.
# Settings (environment): CLUSTERS (10) DESTS (100) BACKENDS (4) INTERVAL (00:00:05) DURATION_S (60)
#   INITIAL_CONCURRENCY (unset: the gateway's default)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$repo/bench/results/probes-$stamp"; build="$repo/bench/results/build"
mkdir -p "$out"; tmp=$(mktemp -d -t healthproxy-probes.XXXXXX)
source "$repo/bench/lib.sh"
install_traps
host_line
log "building HealthProxy.Bench and the gateway (Release)"
dotnet build "$repo/bench/HealthProxy.Bench/HealthProxy.Bench.csproj" -c Release --artifacts-path "$build" -nologo -v quiet >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
gateway_dll="$build/bin/HealthProxy.Gateway/release/HealthProxy.Gateway.dll"
[ -f "$gateway_dll" ] || { log "missing $gateway_dll"; exit 1; }
timeout $(( ${DURATION_S:-60} + 240 )) dotnet "$build/bin/HealthProxy.Bench/release/HealthProxy.Bench.dll" probes "$gateway_dll" "$tmp/gateway" | tee "$out/summary.txt"
host_line | tee -a "$out/summary.txt"
