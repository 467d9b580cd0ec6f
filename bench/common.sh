# Shared by the bench scripts that start dsmesh processes: builds the CLI and the gateway load
# generator in Release, names them ($dsmesh, $load), keeps logs in $logs and kills every pid in
# $pids on exit. Source it after `set -euo pipefail`; wait_ready PORT waits for /health/ready.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dotnet build -c Release "$root/src/DeepSeekMesh.Cli" -v q -nologo >/dev/null
dotnet build -c Release "$root/bench/DeepSeekMesh.Gateway.Bench" -v q -nologo >/dev/null
dsmesh="$root/src/DeepSeekMesh.Cli/bin/Release/net10.0/dsmesh"
load="$root/bench/DeepSeekMesh.Gateway.Bench/bin/Release/net10.0/DeepSeekMesh.Gateway.Bench"
logs=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_ready() { for _ in $(seq 1 180); do curl -sf "http://127.0.0.1:$1/health/ready" >/dev/null && return 0; sleep 1; done; echo "not ready: see $logs" >&2; exit 1; }
