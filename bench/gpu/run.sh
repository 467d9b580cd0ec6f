#!/usr/bin/env bash
# The GPU check, run inside the unpacked package (bench/gpu/package.sh) on a machine that has Python's
# torch and nothing else: no .NET (the package brings a self-contained dsmesh), no network.
#
#   ./run.sh [--device cuda|cuda:N|cpu] [--out DIR]       (default: cuda; results under ./results)
#
# Steps, each timed, all within 8 minutes (every step has its own time limit):
#   1. load check: the libtorch of Python's torch (DSMESH_LIBTORCH) against the symbols LibTorchSharp
#      needs, its version, then dsmesh loads it and runs a bf16 matmul on every CUDA device (symbols
#      missing and TorchSharp's native source packaged: LibTorchSharp is rebuilt against it first);
#   2. conformance: the three reference cases through `dsmesh generate --device D`, f32 and bf16
#      compute (greedy tokens must equal the reference's; logits within the stated tolerance);
#   3. `dsmesh bench` on the `small` preset, batch 1 and 16, GPU utilisation sampled (nvidia-smi);
#   4. one chat completion through `dsmesh serve --device D`.
# Exit status 0 only if every step passed; results/summary.txt says what each step found.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEVICE=cuda
OUT="$HERE/results"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) DEVICE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "usage: $0 [--device cuda|cuda:N|cpu] [--out DIR]" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
DSMESH="$HERE/dsmesh/dsmesh"
WORK="${DSMESH_GPU_CHECK_WORK:-${TMPDIR:-/tmp}/dsmesh-gpu-check}"
mkdir -p "$WORK"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
failed=0
started=$SECONDS
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 OMP_WAIT_POLICY=PASSIVE
[[ "$DEVICE" == cpu ]] && REQUIRE=cpu || REQUIRE=cuda

say() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }
BUDGET="${DSMESH_GPU_CHECK_BUDGET:-470}" # seconds for the whole run (8 minutes, less a margin)
step() { # step NAME SECONDS COMMAND...: runs it with a time limit (within what is left of BUDGET), logs to $OUT/NAME.log
  local name="$1" limit="$2"; shift 2
  local t0=$SECONDS left=$((BUDGET - (SECONDS - started)))
  (( limit > left )) && limit=$left
  if (( limit < 5 )); then failed=1; say "$(printf '%-28s %s' "$name" "SKIPPED (out of the ${BUDGET} s budget)")"; return 124; fi
  timeout --kill-after=10 "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  [[ $rc -eq 0 ]] || failed=1
  say "$(printf '%-28s %s  %4d s' "$name" "$([[ $rc -eq 0 ]] && echo PASS || echo "FAIL (rc $rc)")" $((SECONDS - t0)))"
  return $rc
}

# ---- 0. the machine and Python's torch --------------------------------------------------------
if [[ -z "${DSMESH_LIBTORCH:-}" ]]; then
  DSMESH_LIBTORCH="$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null)" \
    || { say "no DSMESH_LIBTORCH and python3 cannot import torch"; exit 1; }
fi
export DSMESH_LIBTORCH
say "device $DEVICE; libtorch from $DSMESH_LIBTORCH"
python3 - >"$OUT/python-torch.txt" 2>&1 <<'PY'
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "cxx11 abi", torch._C._GLIBCXX_USE_CXX11_ABI)
print("cuda available", torch.cuda.is_available(), "devices", torch.cuda.device_count())
for i in range(torch.cuda.device_count()):
    print(f"cuda:{i}", torch.cuda.get_device_name(i))
PY
sed 's/^/  python: /' "$OUT/python-torch.txt" | tee -a "$SUMMARY"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/  nvidia-smi: /' | tee -a "$SUMMARY"

# ---- 1. load check ----------------------------------------------------------------------------
if ! step load-check 60 "$DSMESH" inspect --devices --require "$REQUIRE"; then
  sed 's/^/  /' "$OUT/load-check.log" | tee -a "$SUMMARY"
  # LibTorchSharp compiled for another libtorch: rebuild it against this one when the package
  # carries TorchSharp's native source (package.sh with TORCHSHARP_NATIVE_SRC) and g++ is here.
  if [[ -d "$HERE/torchsharp-native" ]] && command -v g++ >/dev/null; then
    step rebuild-libtorchsharp 300 bash "$HERE/build-libtorchsharp.sh" "$HERE/torchsharp-native" "$DSMESH_LIBTORCH" "$HERE/dsmesh/libLibTorchSharp.so" \
      && step load-check-rebuilt 60 "$DSMESH" inspect --devices --require "$REQUIRE"
  fi
  if [[ ! -s "$OUT/load-check-rebuilt.log" ]] || ! grep -q '^verdict *ok' "$OUT/load-check-rebuilt.log"; then
    say "the libtorch here does not fit this dsmesh (see above); nothing else can run"
    exit 1
  fi
  cp "$OUT/load-check-rebuilt.log" "$OUT/load-check.log"
fi
grep -E '^(version|symbols|cuda)' "$OUT/load-check.log" | sed 's/^/  /' | tee -a "$SUMMARY"

# ---- 2. conformance, f32 and bf16 ------------------------------------------------------------
# f32: the CPU matches the reference to 1e-4; a GPU sums in another order (and cuBLAS may pick other
# kernels): 1e-3. bf16: the tolerance measured on the CPU (tests/DeepSeekMesh.Model.Tests/Bf16ComputeTests.cs).
[[ "$DEVICE" == cpu ]] && F32_TOL=1e-4 || F32_TOL=1e-3
for compute in f32 bf16; do
  [[ $compute == f32 ]] && tol=$F32_TOL || tol=2.0
  for case in "$HERE"/conformance/tiny-*; do
    name="conformance-$compute-$(basename "$case")"
    prompt="$(python3 -c 'import json,sys; print(",".join(map(str, json.load(open(sys.argv[1]))["prompt"])))' "$case/expected.json")"
    step "$name" 60 "$DSMESH" generate --model "$case" --tokens "$prompt" --max-tokens 8 --temperature 0 --json --logits \
      --device "$DEVICE" --compute "$compute" --weights "$compute" --threads 2
    python3 "$HERE/check_case.py" "$case" "$OUT/$name.log" "$tol" | sed 's/^/  /' | tee -a "$SUMMARY"
    [[ ${PIPESTATUS[0]} -eq 0 ]] || failed=1
  done
done

# ---- 3. bench on `small`, GPU utilisation sampled -------------------------------------------
if [[ ! -f "$WORK/small/config.json" ]]; then
  step init-small 120 "$DSMESH" init-model --preset small --out "$WORK/small" --tokenizer "$HERE/tokenizer"
fi
sampler=""
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=index,utilization.gpu,memory.used --format=csv,noheader,nounits -lms 250 >"$OUT/gpu-utilisation.csv" 2>/dev/null &
  sampler=$!
else
  (while :; do cut -d' ' -f1 /proc/loadavg; sleep 0.25; done) >"$OUT/cpu-load.txt" &
  sampler=$!
fi
step bench-small 200 "$DSMESH" bench --model "$WORK/small" --batch 1,16 --prompt-tokens 64 --decode-tokens 32 --repeats 2 --device "$DEVICE"
kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
grep '^{' "$OUT/bench-small.log" | sed 's/^/  /' | tee -a "$SUMMARY"
if [[ -s "$OUT/gpu-utilisation.csv" ]]; then
  python3 - "$OUT/gpu-utilisation.csv" <<'PY' | tee -a "$SUMMARY"
import sys
rows = [list(map(float, l.split(","))) for l in open(sys.argv[1]) if l.strip() and l[0].isdigit()]
for gpu in sorted({int(r[0]) for r in rows}):
    u = [r[1] for r in rows if int(r[0]) == gpu]; m = [r[2] for r in rows if int(r[0]) == gpu]
    busy = [x for x in u if x > 0]
    print(f"  gpu {gpu}: {len(u)} samples, utilisation mean {sum(u)/len(u):.0f} %, max {max(u):.0f} %, "
          f"{len(busy)} samples busy; memory used max {max(m):.0f} MiB")
PY
elif [[ -s "$OUT/cpu-load.txt" ]]; then
  say "  no nvidia-smi: CPU load average during the bench $(sort -n "$OUT/cpu-load.txt" | tail -1) (max)"
fi

# ---- 4. one chat through dsmesh serve ---------------------------------------------------------
PORT="${DSMESH_GPU_CHECK_PORT:-18080}" SILO_PORT="${DSMESH_GPU_CHECK_SILO_PORT:-21111}"
"$DSMESH" serve --model "$WORK/small" --port "$PORT" --silo-port "$SILO_PORT" --gateway-port 0 --device "$DEVICE" >"$OUT/serve.log" 2>&1 &
server=$!
step chat-serve 150 python3 - "$PORT" <<'PY'
import json, sys, time, urllib.request
port = sys.argv[1]
base = f"http://127.0.0.1:{port}"
deadline = time.time() + 120
while True:
    try:
        with urllib.request.urlopen(f"{base}/health/ready", timeout=2) as r:
            if r.status == 200: break
    except Exception:
        pass
    if time.time() > deadline: sys.exit("serve did not become ready in 120 s")
    time.sleep(1)
body = {"model": "small", "messages": [{"role": "user", "content": "Hello from the GPU check"}], "max_tokens": 16, "temperature": 0}
t0 = time.time()
req = urllib.request.Request(f"{base}/v1/chat/completions", json.dumps(body).encode(), {"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=90) as r:
    reply = json.load(r)
print(json.dumps({"seconds": round(time.time() - t0, 2), "usage": reply["usage"], "finish_reason": reply["choices"][0]["finish_reason"],
                  "content": reply["choices"][0]["message"]["content"]}, ensure_ascii=False))
assert reply["usage"]["completion_tokens"] > 0
PY
kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
grep '^{' "$OUT/chat-serve.log" | sed 's/^/  /' | tee -a "$SUMMARY"

say "total $((SECONDS - started)) s; $([[ $failed -eq 0 ]] && echo 'all steps passed' || echo 'SOME STEPS FAILED')"
exit $failed
