#!/usr/bin/env bash
# Batch-1 greedy decode of DeepSeek's reference (inference/model.py, fp32, Debian's python3-torch)
# and of dsmesh on the same checkpoint and prompt, back to back in one session; dsmesh with f32 and
# bf16 weights, and optionally a second dsmesh build (before/after). Tokens must agree.
# Usage: bench/decode-vs-reference.sh MODEL_DIR REFP_DIR [NEW_TOKENS] [DSMESH [DSMESH_BEFORE]]
#   REFP_DIR: ../shared/oracle/prepare_reference.sh <fetched DeepSeek-V3 git dir> REFP_DIR
set -euo pipefail
model=$1 refp=$2 n=${3:-33}
dsmesh=${4:-src/DeepSeekMesh.Cli/bin/Release/net10.0/dsmesh} before=${5:-}
oracle=${ORACLE:-../shared/oracle}
threads=${THREADS:-$(nproc)}
ids=100,2000,3000,4000,5000,6000,7000,8000,9000,10000,11000,12000,13000,14000,15000,16000 # 16 tokens
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); threads $threads; prompt 16 tokens, $n new"
ref=$(/usr/bin/python3 "$oracle/ref_generate.py" "$refp" "$model" "$ids" "$n" --threads "$threads")
echo "reference: $(jq -c '{decode_tok_per_s, prefill_s, load_s}' <<<"$ref")"
ref_tps=$(jq .decode_tok_per_s <<<"$ref")
run() { # label binary weights
    local out
    out=$("$2" generate --model "$model" --tokens "$ids" --max-tokens "$n" --temperature 0 --json --weights "$3" --threads "$threads" 2>/dev/null)
    local tps equal
    tps=$(jq .timing.decode_tokens_per_s <<<"$out")
    equal=$(jq -n --argjson a "$(jq -c .tokens <<<"$out")" --argjson b "$(jq -c .generated <<<"$ref")" '$a == $b')
    echo "$1 --weights $3: decode $tps tok/s = $(jq -n "$tps / $ref_tps * 100 | round / 100")x the reference; prefill $(jq .timing.prefill_s <<<"$out") s; tokens equal the reference: $equal"
}
for w in auto f32 bf16; do
    run dsmesh "$dsmesh" "$w"
    if [ -n "$before" ]; then run "dsmesh (before)" "$before" "$w"; fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
