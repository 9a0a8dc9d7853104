#!/usr/bin/env bash
# On the GPU machine: build tilec, run the PublicApi tests, install into a temp prefix, then build
# and run the CUDA variants of samples/cpp (jit_add cuda; aot_softmax for sm_80,sm_90 vs its JIT twin).
# Needs .deps (tools/make_deps.sh) carried with the call; logs go to $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT"
export PATH=/usr/local/cuda/bin:$PATH CC=/usr/bin/gcc CXX=/usr/bin/g++
deps="$PWD/.deps"
nvidia-smi -L
cmake -S . -B build-pkg -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$deps" > "$OUT/cmake.log" 2>&1 ||
  { tail -30 "$OUT/cmake.log"; exit 1; }
cmake --build build-pkg -j16 > "$OUT/build.log" 2>&1 || { grep -E "error" "$OUT/build.log" | head -30; exit 1; }
tmp="$(mktemp -d)"
prefix="$tmp/prefix"
export TILEC_CACHE_DIR="$tmp/cache"
build-pkg/tilec_tests --gtest_filter='PublicApi.*' 2>&1 | tail -5
cmake --install build-pkg --prefix "$prefix" > /dev/null

cmake -S samples/cpp -B "$tmp/jit" -G Ninja -DCMAKE_PREFIX_PATH="$prefix;$deps" -DJIT_ADD_CUDA=ON > "$OUT/jit_add.log" 2>&1
cmake --build "$tmp/jit" >> "$OUT/jit_add.log" 2>&1 || { tail -30 "$OUT/jit_add.log"; exit 1; }
"$tmp/jit/jit_add" cuda
"$tmp/jit/jit_add" cpu

cmake -S samples/cpp/aot_softmax -B "$tmp/aot" -G Ninja -DCMAKE_PREFIX_PATH="$prefix;$deps" -DAOT_SOFTMAX_BACKEND=cuda \
  -DAOT_SOFTMAX_ARCHS=sm_80,sm_90 > "$OUT/aot.log" 2>&1
cmake --build "$tmp/aot" >> "$OUT/aot.log" 2>&1 || { tail -30 "$OUT/aot.log"; exit 1; }
ldd "$tmp/aot/aot_softmax"
if ldd "$tmp/aot/aot_softmax" | grep -Ei 'tilec|python|nvrtc' || grep -qi nvrtc "$tmp/aot/aot_softmax"; then
  echo "aot_softmax links or names a compiler library" >&2
  exit 1
fi
# No tilec prefix on disk and an empty environment: the AOT program needs only the driver.
mv "$prefix" "$prefix-hidden"
env -i "$tmp/aot/aot_softmax" --dump "$tmp/aot.bin"
mv "$prefix-hidden" "$prefix"
"$tmp/aot/softmax_jit" --dump "$tmp/jit.bin"
cmp "$tmp/aot.bin" "$tmp/jit.bin" && echo "aot_softmax [cuda]: AOT output == JIT output (byte for byte)"
