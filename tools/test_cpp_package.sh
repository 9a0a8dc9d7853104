#!/usr/bin/env bash
# Input: a built tree (default build/); RUN_CUDA=1 on a GPU machine. Output: pass/fail of the installed
# C++ package: `cmake --install` into a temp prefix, samples/cpp (JIT) and samples/cpp/aot_softmax (AOT)
# built there as outside projects.
#
# CPU variants are built and run (results checked; AOT output == JIT output byte for byte; the AOT
# program links and names no tilec, Python or NVRTC library, and runs with an empty environment and
# the prefix moved away). The CUDA variants are built (NVRTC for sm_80/sm_90, the generated C against
# the driver API, jit_add_cuda) and, with RUN_CUDA=1, run and checked the same way. EXTRA_PREFIX_PATH: more CMake
# prefixes for the samples (the GPU machine's .deps).
set -euo pipefail
cd "$(dirname "$0")/.."
build="$(cd "${1:-build}" && pwd)"
jobs="${TILEC_JOBS:-$(nproc)}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tilec-cpp-package-XXXXXX")"
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
search="$prefix${EXTRA_PREFIX_PATH:+;$EXTRA_PREFIX_PATH}"

cmake --install "$build" --prefix "$prefix" >/dev/null
# A fresh cache: the samples must compile their kernels from the installed tree, not reuse the build's.
export TILEC_CACHE_DIR="$tmp/cache"

# configure_and_build SOURCE BINARY [CMAKE ARGS...]
configure_and_build() {
  local src="$1" bin="$2"
  shift 2
  cmake -S "$src" -B "$bin" -G Ninja -DCMAKE_PREFIX_PATH="$search" "$@" > "$bin.log" 2>&1 &&
    cmake --build "$bin" -j"$jobs" >> "$bin.log" 2>&1 || { tail -40 "$bin.log"; exit 1; }
}

# check_aot BINARY_DIR LABEL: runs aot_softmax without tilec and compares it with softmax_jit.
check_aot() {
  local bin="$1"
  # Neither linked nor named (so never dlopen'ed): the program cannot load a compiler.
  if ldd "$bin/aot_softmax" | grep -Ei 'tilec|python|nvrtc' || grep -qi nvrtc "$bin/aot_softmax"; then
    echo "$2: aot_softmax links or names a compiler library" >&2
    exit 1
  fi
  mv "$prefix" "$prefix-hidden"
  env -i "$bin/aot_softmax" --dump "$bin/aot.bin"
  mv "$prefix-hidden" "$prefix"
  "$bin/softmax_jit" --dump "$bin/jit.bin"
  cmp "$bin/aot.bin" "$bin/jit.bin"
  echo "$2: AOT output == JIT output (byte for byte)"
}

# The CUDA variants build wherever the driver API's header is (linked against its stub library).
have_cuda=0
[ -f /usr/local/cuda/include/cuda.h ] && have_cuda=1
cuda_jit=()
[ "$have_cuda" = 1 ] && cuda_jit=(-DJIT_ADD_CUDA=ON -DCUDAToolkit_ROOT=/usr/local/cuda)
configure_and_build samples/cpp "$tmp/jit_add" "${cuda_jit[@]}"
"$tmp/jit_add/jit_add" cpu
[ "${RUN_CUDA:-0}" = 1 ] && "$tmp/jit_add/jit_add_cuda"

configure_and_build samples/cpp/aot_softmax "$tmp/aot"
check_aot "$tmp/aot" "aot_softmax [cpu]"

if [ "$have_cuda" = 1 ] || [ "${RUN_CUDA:-0}" = 1 ]; then
  configure_and_build samples/cpp/aot_softmax "$tmp/aot-cuda" -DAOT_SOFTMAX_BACKEND=cuda \
    -DAOT_SOFTMAX_ARCHS=sm_80,sm_90 -DCUDAToolkit_ROOT=/usr/local/cuda
  ls "$tmp/aot-cuda/softmax_aot_aot/"*.cubin >/dev/null
  if [ "${RUN_CUDA:-0}" = 1 ]; then
    check_aot "$tmp/aot-cuda" "aot_softmax [cuda]"
  elif grep -qi nvrtc "$tmp/aot-cuda/aot_softmax"; then
    echo "aot_softmax [cuda] names NVRTC" >&2
    exit 1
  else
    echo "aot_softmax [cuda]: built for sm_80,sm_90 (not run: RUN_CUDA=1 on a GPU machine)"
  fi
fi
echo "C++ package tests passed"
