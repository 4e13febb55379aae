#!/usr/bin/env bash
# Runs the image config/image/build-local.sh built, as a container runtime would (its entrypoint, user, working
# directory and environment; chroot isolation, host loopback), and checks what the Dockerfile and the manifests
# promise:
#   - it serves /health/ready on the traffic port (8080) and /metrics on the management port the manifests scrape;
#   - it runs as the image's non-root user;
#   - its HEALTHCHECK command passes while it serves and fails once it is gone;
#   - Prometheus (Debian's, when installed) scrapes that port and gets the gateway's series;
#   - a route added to the configuration file while it runs serves without a restart;
#   - SIGTERM drains: readiness turns 503 at once while traffic is still served, then the process exits 0.
# Exits 1 naming the first check that failed.
set -euo pipefail
cd "$(dirname "$0")/../.."

image=${HEALTHPROXY_IMAGE:-localhost/healthproxy:local}
config() { buildah inspect --type image --format "{{$1}}" "$image"; }

http_port=$(config '.Docker.Config.Env' | grep -oE 'ASPNETCORE_HTTP_PORTS=[0-9]+' | cut -d= -f2)
metrics_port=$(config '.Docker.Config.Env' | grep -oE 'HealthProxy__Metrics__Port=[0-9]+' | cut -d= -f2)
user=$(config '.Docker.Config.User')
mapfile -t entrypoint < <(config 'range .Docker.Config.Entrypoint}}{{.}}{{"\n"}}{{end')
mapfile -t healthcheck < <(config 'range .Docker.Config.Healthcheck.Test}}{{.}}{{"\n"}}{{end')
[ "${healthcheck[0]:-}" = CMD ] || { echo "check: FAILED: the image has no exec-form HEALTHCHECK"; exit 1; }
healthcheck=("${healthcheck[@]:1}")

fail() { echo "check: FAILED: $*"; [ -f "$log" ] && tail -20 "$log"; exit 1; }
pass() { echo "check: ok: $*"; }
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1$2" || true; }
# Polls a condition once every 100 ms until it holds or the deadline (seconds) passes.
within() {
  local seconds=$1; shift
  local deadline=$(( $(date +%s%N) + seconds * 1000000000 ))
  until "$@"; do
    [ "$(date +%s%N)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}
answers() { [ "$(status "$1" "$2")" = "$3" ]; }

for port in "$http_port" "$metrics_port"; do
  ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "check: FAILED: port $port is in use"; exit 1; }
done

# The entrypoint's process: the entrypoint's program running inside a chroot (its root is not the host's).
gateway_pid() {
  local candidate
  for candidate in $(pgrep -x "$(basename "${entrypoint[0]}")"); do
    if [ "$(readlink "/proc/$candidate/root")" != / ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 0
}

log=$(mktemp)
container=$(buildah from --pull=never "$image")
cleanup() {
  local left
  left=$(gateway_pid)
  [ -n "$left" ] && kill -KILL "$left" 2>/dev/null || true
  buildah rm "$container" >/dev/null 2>&1 || true
  rm -f "$log"
}
trap cleanup EXIT

start=$(date +%s%N)
buildah run --isolation chroot "$container" -- "${entrypoint[@]}" >"$log" 2>&1 &
runner=$!
within 60 answers "$http_port" /health/ready 200 || fail "/health/ready did not answer 200 on port $http_port within 60 s"
pass "/health/ready 200 on $http_port after $(( ($(date +%s%N) - start) / 1000000 )) ms"

pid=$(gateway_pid)
[ -n "$pid" ] || fail "no process runs the entrypoint '${entrypoint[*]}'"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
[ "$uid" = "$user" ] && [ "$uid" != 0 ] || fail "the gateway runs as uid $uid, the image says user '$user'"
pass "runs as uid $uid (the image's USER), not root"

metrics=$(curl -s --max-time 5 "http://127.0.0.1:$metrics_port/metrics" || true)
grep -q '^healthproxy_instances{' <<<"$metrics" || fail "/metrics on port $metrics_port has no healthproxy_instances"
manifest_port=$(grep -A1 'name: metrics' config/kubernetes/deployment.yaml | grep -oE 'containerPort: [0-9]+' | grep -oE '[0-9]+')
[ "$manifest_port" = "$metrics_port" ] || fail "the Deployment scrapes port $manifest_port, the image serves /metrics on $metrics_port"
answers "$http_port" /metrics 404 || fail "/metrics is served on the traffic port $http_port"
pass "/metrics on $metrics_port (the Deployment's metrics port), not on the traffic port"

buildah run --isolation chroot "$container" -- "${healthcheck[@]}" >/dev/null 2>&1 || fail "HEALTHCHECK '${healthcheck[*]}' failed while the gateway serves"
pass "HEALTHCHECK passes while serving"

if command -v prometheus >/dev/null; then
  scrape=$(mktemp -d)
  prometheus_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >"$scrape/prometheus.yml" <<EOF
global: { scrape_interval: 1s }
scrape_configs:
  - job_name: healthproxy
    static_configs: [ { targets: ["127.0.0.1:$metrics_port"] } ]
EOF
  prometheus --config.file="$scrape/prometheus.yml" --storage.tsdb.path="$scrape/data" \
    --web.listen-address="127.0.0.1:$prometheus_port" >"$scrape/log" 2>&1 &
  prometheus_pid=$!
  scraped() { curl -s "http://127.0.0.1:$prometheus_port/api/v1/query?query=healthproxy_instances" | grep -q '"__name__":"healthproxy_instances"'; }
  within 60 scraped || { kill "$prometheus_pid"; tail -5 "$scrape/log"; fail "Prometheus did not get healthproxy_instances from port $metrics_port"; }
  kill "$prometheus_pid"; wait "$prometheus_pid" 2>/dev/null || true
  rm -rf "$scrape"
  pass "Prometheus scrapes $metrics_port and stores healthproxy_instances"
fi

# A live edit: a new route in the image's configuration file serves once the gateway has read it (no restart).
answers "$http_port" /edited/x 404 || fail "/edited/x is routed before the edit"
edited=$(mktemp)
python3 - "$edited" <<'EOF'
import json, sys
config = json.load(open("appsettings.json"))
config["ReverseProxy"]["Routes"]["edited"] = {"ClusterId": "catalog", "Match": {"Path": "/edited/{**rest}"}}
json.dump(config, open(sys.argv[1], "w"), indent=2)
EOF
chmod 644 "$edited"
buildah copy --quiet "$container" "$edited" /app/appsettings.json >/dev/null
rm -f "$edited"
routed() { [ "$(status "$http_port" /edited/x)" != 404 ]; }
within 15 routed || fail "a route added to /app/appsettings.json was not served within 15 s"
pass "a route added to /app/appsettings.json serves without a restart ($(status "$http_port" /edited/x) from the cluster of the image's default configuration, whose instances are not there)"

kill -TERM "$pid"
stop=$(date +%s%N)
within 3 answers "$http_port" /health/ready 503 || fail "/health/ready still answers $(status "$http_port" /health/ready) after SIGTERM"
answers "$http_port" /health/live 200 || fail "the gateway stopped serving at once on SIGTERM instead of draining"
pass "SIGTERM: readiness 503 after $(( ($(date +%s%N) - stop) / 1000000 )) ms while traffic is still served"
exited() { ! kill -0 "$pid" 2>/dev/null; }
within 40 exited || fail "the gateway did not exit within 40 s of SIGTERM"
wait "$runner" && code=0 || code=$?
[ "$code" = 0 ] || fail "the gateway exited $code after SIGTERM"
pid=
pass "exited 0 after $(( ($(date +%s%N) - stop) / 1000000 )) ms (drain delay, then in-flight requests)"

if buildah run --isolation chroot "$container" -- "${healthcheck[@]}" >/dev/null 2>&1; then
  fail "HEALTHCHECK passes with no gateway running"
fi
pass "HEALTHCHECK fails once the gateway is gone"
echo "check: all passed in $(( ($(date +%s%N) - start) / 1000000000 )) s"
