#!/usr/bin/env bash
# Rebuilds LibTorchSharp, TorchSharp's native half, against the libtorch on this machine.
#
#   build-libtorchsharp.sh TORCHSHARP_NATIVE_SRC LIBTORCH_LIB_DIR OUT.so
#
# TORCHSHARP_NATIVE_SRC is TorchSharp's src/Native at the release dsmesh references (0.107.0;
# `git -C TorchSharp archive v0.107.0 src/Native`), LIBTORCH_LIB_DIR libtorch's lib folder (Python's
# site-packages/torch/lib: its ../include holds the headers). Needed when that libtorch is not the
# version TorchSharp was compiled against: libtorch has no stable C++ ABI, and `dsmesh inspect
# --devices` then names the C++ symbols LibTorchSharp calls that this libtorch lacks. The C entry
# points TorchSharp's managed half calls stay the same, so a LibTorchSharp compiled here fits both.
# Same flags as TorchSharp's CMake build on Linux; g++ only (no CMake), one job per core.
set -euo pipefail
SRC="$(cd "$1" && pwd)" LIB="$(cd "$2" && pwd)" OUT="$3"
INCLUDE="$LIB/../include"
[[ -d "$INCLUDE/torch" ]] || { echo "no libtorch headers at $INCLUDE" >&2; exit 1; }
OBJ="$(mktemp -d)"
trap 'rm -rf "$OBJ"' EXIT
CXXFLAGS=(-O2 -std=c++17 -fPIC -fvisibility=hidden -fstack-protector-strong -D_GLIBCXX_USE_CXX11_ABI=1 -D__LINUX__
  -D_NO_ASYNCRTIMP -D_NO_PPLXIMP -DNDEBUG -w -I"$SRC" -I"$SRC/LibTorchSharp" -I"$INCLUDE" -I"$INCLUDE/torch/csrc/api/include")
echo 'static char sccsid[] __attribute__((used)) = "@(#)LibTorchSharp rebuilt by dsmesh";' >"$OBJ/version.c"
export OBJ
printf '%s\n' "$SRC"/LibTorchSharp/*.cpp | xargs -P "$(nproc)" -I{} sh -c 'g++ "$@" -c "{}" -o "$OBJ/$(basename "{}" .cpp).o"' _ "${CXXFLAGS[@]}"
gcc -O2 -fPIC -c "$SRC/LibTorchSharp/crc32c.c" -o "$OBJ/crc32c.o"
gcc -O2 -fPIC -c "$OBJ/version.c" -o "$OBJ/version.o"
libs=(-lc10 -ltorch_cpu -ltorch)
[[ -e "$LIB/libtorch_cuda.so" ]] && libs+=(-Wl,--no-as-needed -lc10_cuda -ltorch_cuda -Wl,--as-needed)
g++ -shared -o "$OUT" "$OBJ"/*.o -L"$LIB" "${libs[@]}" -Wl,-rpath,"$LIB" -Xlinker -Bsymbolic -Xlinker -Bsymbolic-functions -Wl,--build-id=sha1
echo "built $OUT against $LIB ($(ls "$OBJ"/*.o | wc -l) objects)"
