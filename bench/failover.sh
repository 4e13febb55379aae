#!/usr/bin/env bash
# Failover: three backends under steady load through the gateway, one killed mid-run.
# Reports failed client requests for reads and for writes, retries, and the time until the dead
# instance got no more traffic (its ejection). Usage: bench/failover.sh [duration_s] [kill_at_s]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/Failover -- "$@"
