#!/usr/bin/env bash
# Packages the GPU check for a bare GPU machine (Python's torch, no .NET, no network):
# a self-contained dsmesh built with -p:TorchBackend=external (the .NET runtime inside, no libtorch:
# it loads the one of Python's torch), the conformance cases, the tokenizer and bench/gpu/run.sh.
#
#   bench/gpu/package.sh [OUT.tar.xz]      (default: artifacts/dsmesh-gpu-check.tar.xz)
#   TORCHSHARP_NATIVE_SRC=DIR bench/gpu/package.sh     also packs TorchSharp's src/Native (the release
#     dsmesh uses, 0.107.0: `git -C TorchSharp archive v0.107.0 src/Native | tar -x`), so run.sh can
#     rebuild LibTorchSharp on a machine whose libtorch lacks symbols the prebuilt one needs (g++ there)
#
# On the GPU machine: tar -xJf dsmesh-gpu-check.tar.xz && dsmesh-gpu-check/run.sh --device cuda
# The archive must stay within 60 MiB.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-$ROOT/artifacts/dsmesh-gpu-check.tar.xz}"
LIMIT_MIB=60
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
PKG="$STAGE/dsmesh-gpu-check"
mkdir -p "$PKG" "$(dirname "$OUT")"

dotnet publish "$ROOT/src/DeepSeekMesh.Cli/DeepSeekMesh.Cli.csproj" -c Release -p:TorchBackend=external \
  -r linux-x64 --self-contained -p:DebugType=none -o "$PKG/dsmesh" >&2
# Not needed to run: the debugger's and crash-dump helpers.
rm -f "$PKG"/dsmesh/{libmscordbi.so,libmscordaccore.so,createdump,*.pdb}
test ! -e "$PKG/dsmesh/libtorch_cpu.so" # external: no libtorch inside
mkdir -p "$PKG/conformance"
cp -r "$ROOT"/tests/conformance/tiny-* "$PKG/conformance/"
cp -r "$ROOT/assets/tokenizer/deepseek-v3" "$PKG/tokenizer"
cp "$ROOT/bench/gpu/run.sh" "$ROOT/bench/gpu/check_case.py" "$ROOT/bench/gpu/build-libtorchsharp.sh" "$PKG/"
if [[ -n "${TORCHSHARP_NATIVE_SRC:-}" ]]; then cp -r "$TORCHSHARP_NATIVE_SRC" "$PKG/torchsharp-native"; fi
chmod +x "$PKG/run.sh" "$PKG/build-libtorchsharp.sh" "$PKG/dsmesh/dsmesh"
git -C "$ROOT" rev-parse HEAD >"$PKG/COMMIT" 2>/dev/null || true

tar -C "$STAGE" -cf - dsmesh-gpu-check | xz -9e -T2 >"$OUT"
bytes=$(stat -c %s "$OUT")
echo "$OUT: $((bytes / 1024 / 1024)) MiB ($bytes bytes; unpacked $(du -sm "$PKG" | cut -f1) MiB)"
if (( bytes > LIMIT_MIB * 1024 * 1024 )); then echo "over the $LIMIT_MIB MiB limit" >&2; exit 1; fi
