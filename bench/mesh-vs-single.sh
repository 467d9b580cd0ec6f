#!/usr/bin/env bash
# Decode throughput of one process (dsmesh serve: gateway + one silo of role all) against the
# mesh (1 frontend silo + 2 expert silos + a gateway, separate processes on loopback), measured by
# the gateway load generator at each concurrency. Usage: bench/mesh-vs-single.sh MODEL_DIR [SECONDS] [CONCURRENCY...]
set -euo pipefail
model=${1:?model directory (with tokenizer files)}; seconds=${2:-30}; shift 2 || true
levels=("${@:-1 16}"); [ $# -gt 0 ] && levels=("$@") || levels=(1 16)
source "$(dirname "$0")/common.sh"
measure() { # label port
  for c in "${levels[@]}"; do
    "$load" --url "http://127.0.0.1:$2" --mode http --concurrency 1 --duration 5 --max-tokens 8 >/dev/null # warm-up: experts activate
    echo "== $1, concurrency $c"
    "$load" --url "http://127.0.0.1:$2" --mode http --concurrency "$c" --duration "$seconds" --max-tokens 32
  done
}

"$dsmesh" serve --model "$model" --port 18090 --silo-port 21190 --gateway-port 23090 >"$logs/serve.log" 2>&1 & pids+=($!)
wait_ready 18090; measure "one process (dsmesh serve)" 18090; cleanup; pids=()

"$dsmesh" silo --role frontend --model "$model" --silo-port 21191 --gateway-port 23091 >"$logs/frontend.log" 2>&1 & pids+=($!)
sleep 3
"$dsmesh" silo --role expert --model "$model" --silo-port 21192 --gateway-port 23092 --primary 127.0.0.1:21191 >"$logs/expert1.log" 2>&1 & pids+=($!)
"$dsmesh" silo --role expert --model "$model" --silo-port 21193 --gateway-port 23093 --primary 127.0.0.1:21191 >"$logs/expert2.log" 2>&1 & pids+=($!)
"$dsmesh" gateway --model "$model" --port 18091 --primary 127.0.0.1:23091 >"$logs/gateway.log" 2>&1 & pids+=($!)
wait_ready 18091; measure "mesh (frontend + 2 expert silos + gateway)" 18091
