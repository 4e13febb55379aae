#!/usr/bin/env bash
# Bytes allocated per request (whole process, dotnet-counters' dotnet.gc.heap.total_allocated over a
# wrk run) and where the CPU goes per request: bare YARP and HealthProxy (probes + breakers on), each under the
# same wrk load to one nginx backend, sampled with dotnet-trace (cpu-sampling) for PROFILE_S seconds.
# Prints, for each, the frames with the most exclusive samples and HealthProxy's own inclusive
# frames (HealthProxy.*), so the extra cost of the health layer over YARP can be read off by name.
# Sampling shares are robust to other load on the machine, unlike requests/s.
# Settings (environment): PROFILE_S (10) WARMUP_S (5) CONNECTIONS (32) TOP (25)
set -euo pipefail
PROFILE_S=${PROFILE_S:-10}; WARMUP_S=${WARMUP_S:-5}; CONNECTIONS=${CONNECTIONS:-32}; TOP=${TOP:-25}
repo=$(cd "$(dirname "$0")/.." && pwd)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$repo/bench/results/profile-$stamp"; build="$repo/bench/results/build"
mkdir -p "$out"; tmp=$(mktemp -d -t healthproxy-profile.XXXXXX)
source "$repo/bench/lib.sh"
install_traps
need_packages wrk:wrk nginx:nginx
export PATH="$PATH:$HOME/.dotnet/tools"
command -v dotnet-trace >/dev/null || dotnet tool install -g dotnet-trace --version 10.0.750501 >/dev/null
command -v dotnet-counters >/dev/null || dotnet tool install -g dotnet-counters --version 10.0.750501 >/dev/null
host_line

log "publishing PlainYarp and HealthProxy.Gateway (Release)"
publish "$repo/bench/PlainYarp/PlainYarp.csproj" PlainYarp
publish "$repo/src/HealthProxy.Gateway/HealthProxy.Gateway.csproj" HealthProxy.Gateway

be=$(free_port); yp=$(free_port); hp=$(free_port)
nginx_conf "$tmp/backend" "server { listen 127.0.0.1:$be; default_type text/plain;
    location = /healthz { return 200 '{\"status\":\"healthy\"}'; }
    location / { return 200 'ok'; } }"
start_nginx "$tmp/backend" nginx-backend
proxy_args "$be"
declare -A pid_of
start_proxy yarp yarp "$yp"; pid_of[yarp]=$proxy_pid
start_proxy healthproxy healthproxy "$hp"; pid_of[healthproxy]=$proxy_pid
declare -A url=([yarp]="http://127.0.0.1:$yp/bench/ok" [healthproxy]="http://127.0.0.1:$hp/bench/ok")
wait_for nginx "http://127.0.0.1:$be/" ok
wait_for yarp "${url[yarp]}" ok
wait_for healthproxy-startup "http://127.0.0.1:$hp/health/startup"
wait_for healthproxy "${url[healthproxy]}" ok

for t in yarp healthproxy; do
  log "$t: warm-up ${WARMUP_S}s, then ${PROFILE_S}s sampled under wrk -c$CONNECTIONS"
  wrk -t2 -c"$CONNECTIONS" -d"${WARMUP_S}s" "${url[$t]}" >/dev/null
  dotnet-counters collect -p "${pid_of[$t]}" --counters System.Runtime --format csv -o "$out/counters-$t.csv" \
    --refresh-interval 1 --duration "00:00:00:$((PROFILE_S + 4))" >/dev/null 2>&1 &
  counters_pid=$!
  sleep 2
  wrk -t2 -c"$CONNECTIONS" -d"${PROFILE_S}s" "${url[$t]}" >"$out/wrk-alloc-$t.txt"
  wait "$counters_pid" || true
  requests=$(awk '/requests in/ {print $1}' "$out/wrk-alloc-$t.txt")
  awk -F, -v r="$requests" -v t="$t" '/total_allocated/ && $5 > 1000000 { s += $5 }
    END { printf "%s: %d requests, %.0f MB allocated, %.0f B/request (whole process)\n", t, r, s / 1e6, s / r }' "$out/counters-$t.csv"
  wrk -t2 -c"$CONNECTIONS" -d"$((PROFILE_S + 4))s" "${url[$t]}" >"$out/wrk-$t.txt" &
  wrk_pid=$!
  sleep 2   # let wrk reach steady state before sampling
  dotnet-trace collect -p "${pid_of[$t]}" --profile dotnet-sampled-thread-time --duration "00:00:00:$PROFILE_S" \
    -o "$out/$t.nettrace" >"$out/trace-$t.log" 2>&1 || dotnet-trace collect -p "${pid_of[$t]}" --profile cpu-sampling \
    --duration "00:00:00:$PROFILE_S" -o "$out/$t.nettrace" >"$out/trace-$t.log" 2>&1
  wait "$wrk_pid"
  dotnet-trace convert --format Speedscope "$out/$t.nettrace" -o "$out/$t" >/dev/null 2>&1
  echo "$t: $(grep Requests/sec "$out/wrk-$t.txt")"
done

python3 - "$out" "$TOP" <<'PY'
import json, sys, collections, glob
out, top = sys.argv[1], int(sys.argv[2])
# dotnet-sampled-thread-time marks on-CPU samples with a CPU_TIME leaf; only those count, charged to the frame above it.
for name in ("yarp", "healthproxy"):
    path = glob.glob(f"{out}/{name}*.speedscope.json")[0]
    doc = json.load(open(path))
    frames = [f["name"] for f in doc["shared"]["frames"]]
    excl, incl, total = collections.Counter(), collections.Counter(), 0.0
    for profile in doc["profiles"]:
        stack, last = [], None
        for ev in profile.get("events", []):
            at = ev["at"]
            if stack and last is not None and at > last:
                leaf = frames[stack[-1]]
                if leaf == "CPU_TIME" and len(stack) > 1:
                    leaf = frames[stack[-2]]
                    dt = at - last
                    total += dt
                    excl[leaf] += dt
                    for f in set(stack):
                        incl[frames[f]] += dt
            last = at
            if ev["type"] == "O":
                stack.append(ev["frame"])
            elif stack:
                stack.pop()
    print(f"\n== {name}: {total:.0f} ms on CPU; top {top} exclusive")
    for n, w in excl.most_common(top):
        print(f"{100 * w / total:6.2f}%  {n[:140]}")
    print(f"\n== {name}: selected inclusive frames")
    for n, w in incl.most_common():
        if any(k in n for k in ("HealthProxy.", "OpenTelemetry", "Polly", "ForwarderMiddleware.Invoke", "HttpForwarder.SendAsync", "ProxyPipelineInitializerMiddleware", "LoadBalancingMiddleware", "PassiveHealth", "Kestrel.Core.Internal.Http.HttpProtocol.ProcessRequests", "SocketsHttpHandler", "HttpConnection.SendAsync")) and w / total > 0.003:
            print(f"{100 * w / total:6.2f}%  {n[:140]}")
PY
host_line
