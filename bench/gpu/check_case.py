#!/usr/bin/env python3
"""Compares `dsmesh generate --json --logits` on a conformance case with DeepSeek's reference.

    check_case.py CASE_DIR DSMESH_JSON TOLERANCE

Prints one JSON line (case, max |delta| of the step logits, tokens equal) and exits 1 when the
greedy tokens differ from the reference's or a logit is further than TOLERANCE from it.
Standard library only: runs on a machine that has nothing but Python.
"""
import json
import sys

case_dir, output_path, tolerance = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(f"{case_dir}/expected.json") as f:
    expected = json.load(f)
with open(output_path) as f:
    got = json.loads(f.read().strip().splitlines()[-1])

tokens_equal = got["tokens"] == expected["generated"]
worst = 0.0
for ours, theirs in zip(got.get("logits", []), expected["step_logits"]):
    worst = max(worst, max(abs(a - b) for a, b in zip(ours, theirs)))
steps = min(len(got.get("logits", [])), len(expected["step_logits"]))
ok = tokens_equal and steps == len(expected["step_logits"]) and worst <= tolerance
print(json.dumps({"case": case_dir.rstrip("/").split("/")[-1], "max_abs_delta": round(worst, 6), "tolerance": tolerance,
                  "tokens_equal": tokens_equal, "steps": steps, "ok": ok}))
sys.exit(0 if ok else 1)
