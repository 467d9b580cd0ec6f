#!/usr/bin/env bash
# Resident memory of expert silos against the FP8 bytes of the experts they host: a frontend, 2 expert
# silos and a gateway on loopback (dev clustering through the frontend), RSS of each expert silo when
# ready (nothing activated: the fixed overhead), then after load has activated experts, next to the
# expert bytes and counts /v1/mesh reports. Usage: bench/expert-silo-memory.sh FP8_MODEL_DIR [SECONDS]
#   (FP8_MODEL_DIR: e.g. dsmesh init-model --preset small --dtype fp8 --out DIR --tokenizer TOKENIZER_DIR)
set -euo pipefail
model=${1:?FP8 model directory (with tokenizer files)}; seconds=${2:-40}
source "$(dirname "$0")/common.sh"
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$1/status"; }

"$dsmesh" silo --role frontend --model "$model" --silo-port 21291 --gateway-port 23291 >"$logs/frontend.log" 2>&1 & pids+=($!)
sleep 3
"$dsmesh" silo --role expert --model "$model" --silo-port 21292 --primary 127.0.0.1:21291 >"$logs/expert1.log" 2>&1 & e1=$!; pids+=($e1)
"$dsmesh" silo --role expert --model "$model" --silo-port 21293 --primary 127.0.0.1:21291 >"$logs/expert2.log" 2>&1 & e2=$!; pids+=($e2)
"$dsmesh" gateway --model "$model" --port 18291 --primary 127.0.0.1:23291 >"$logs/gateway.log" 2>&1 & pids+=($!)
wait_ready 18291
sleep 5
echo "ready: expert silo RSS $(rss $e1) MiB and $(rss $e2) MiB (no expert activated yet: the fixed overhead)"
"$load" --url http://127.0.0.1:18291 --mode http --concurrency 8 --duration "$seconds" --max-tokens 16 | tail -2
sleep 3
curl -sf http://127.0.0.1:18291/v1/mesh | python3 -c '
import json, sys
for s in json.load(sys.stdin)["silos"]:
    if s.get("role") == "expert":
        print("%s: hosted_experts %s, expert_bytes %.1f MiB" % (s["address"], s.get("hosted_experts"), s.get("expert_bytes", 0) / 2**20))'
echo "after load: expert silo RSS $(rss $e1) MiB and $(rss $e2) MiB (pids $e1 $e2, in the order of their silo ports 21292, 21293)"
