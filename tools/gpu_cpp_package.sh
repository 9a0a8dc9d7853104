#!/usr/bin/env bash
# On the GPU machine: build tilec, run the PublicApi tests, then tools/test_cpp_package.sh with the CUDA
# variants run (jit_add cuda; aot_softmax for sm_80,sm_90 vs its JIT twin). Needs .deps
# (tools/make_deps.sh) carried with the call; build logs go to $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT"
export PATH=/usr/local/cuda/bin:$PATH CC=/usr/bin/gcc CXX=/usr/bin/g++
nvidia-smi -L
cmake -S . -B build-pkg -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PWD/.deps" > "$OUT/cmake.log" 2>&1 ||
  { tail -30 "$OUT/cmake.log"; exit 1; }
cmake --build build-pkg -j16 > "$OUT/build.log" 2>&1 || { grep -E "error" "$OUT/build.log" | head -30; exit 1; }
TILEC_CACHE_DIR="$(mktemp -d)" build-pkg/tilec_tests --gtest_filter='PublicApi.*' 2>&1 | tail -5
RUN_CUDA=1 EXTRA_PREFIX_PATH="$PWD/.deps" TILEC_JOBS=16 tools/test_cpp_package.sh build-pkg
