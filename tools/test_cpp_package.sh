#!/usr/bin/env bash
# Input: a built tree (default build/). Output: pass/fail of the installed C++ package: `cmake --install`
# into a temp prefix, samples/cpp (JIT) and samples/cpp/aot_softmax (AOT) built there as outside projects.
#
# CPU variants are built and run (results checked; AOT output == JIT output byte for byte; the AOT
# program links no tilec, Python or NVRTC library). The CUDA AOT variant is compiled by NVRTC for
# sm_80/sm_90 and its generated C compiled and linked against the driver API, but not run (no GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
build="$(cd "${1:-build}" && pwd)"
jobs="${TILEC_JOBS:-$(nproc)}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tilec-cpp-package-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

cmake --install "$build" --prefix "$prefix" >/dev/null
# A fresh cache: the samples must compile their kernels from the installed tree, not reuse the build's.
export TILEC_CACHE_DIR="$tmp/cache"

cmake -S samples/cpp -B "$tmp/jit_add" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/jit_add" -j"$jobs" >/dev/null
"$tmp/jit_add/jit_add" cpu

cmake -S samples/cpp/aot_softmax -B "$tmp/aot" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/aot" -j"$jobs" >/dev/null
# Neither linked nor named (so never dlopen'ed): the program cannot load a compiler.
if ldd "$tmp/aot/aot_softmax" | grep -Ei 'tilec|python|nvrtc' || grep -qi nvrtc "$tmp/aot/aot_softmax"; then
  echo "aot_softmax links or names a compiler library" >&2
  exit 1
fi
# Run with an empty environment and no tilec on disk: the AOT program needs none of it.
mv "$prefix" "$tmp/prefix-hidden"
env -i "$tmp/aot/aot_softmax" --dump "$tmp/aot.bin"
mv "$tmp/prefix-hidden" "$prefix"
"$tmp/aot/softmax_jit" --dump "$tmp/jit.bin"
cmp "$tmp/aot.bin" "$tmp/jit.bin"
echo "aot_softmax: AOT output == JIT output (byte for byte)"

if [ -f /usr/local/cuda/include/cuda.h ]; then
  cmake -S samples/cpp/aot_softmax -B "$tmp/aot-cuda" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
    -DAOT_SOFTMAX_BACKEND=cuda -DAOT_SOFTMAX_ARCHS=sm_80,sm_90 -DCUDAToolkit_ROOT=/usr/local/cuda >/dev/null
  cmake --build "$tmp/aot-cuda" -j"$jobs" >/dev/null
  ls "$tmp/aot-cuda/softmax_aot_aot/"*.cubin >/dev/null
  if grep -qi nvrtc "$tmp/aot-cuda/aot_softmax"; then
    echo "aot_softmax [cuda] names NVRTC" >&2
    exit 1
  fi
  echo "aot_softmax [cuda]: built for sm_80,sm_90 (not run: run it on the GPU machine)"
fi
echo "C++ package tests passed"
