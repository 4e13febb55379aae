#!/usr/bin/env bash
# Issue 10's long version: every reliability scenario at full length (backend faults, registry faults
# for 60 s, bad input, a 30-minute soak, graceful shutdown), then one table of scenario, requests,
# failures, verdict. CI runs the same tests in their short form (bash .ci/run).
#   bash bench/reliability.sh                      # everything, about 45 min
#   FILTER=FullyQualifiedName~Registry bash bench/reliability.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export HEALTHPROXY_RELIABILITY=long
project="$repo/tests/HealthProxy.Reliability.Tests"
echo "host: nproc $(nproc); load average $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet build "$project" -c Release >/dev/null
status=0
dotnet test "$project" -c Release --no-build ${FILTER:+--filter "$FILTER"} --logger "console;verbosity=normal" || status=$?
table="$project/bin/Release/net10.0/artifacts/reliability-long.md"
echo
[ -f "$table" ] && cat "$table"
echo "host: nproc $(nproc); load average $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
