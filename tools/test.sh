#!/usr/bin/env bash
# The whole test suite: C++ unit, golden, diagnostic and NVRTC tests (ctest), the installed C++
# package's samples (tools/test_cpp_package.sh), the Python tests
# (pytest, every available backend, and the compatibility suite tests/compat; then again against an
# ASan+UBSan build of tilec._C), then libFuzzer over the whole pipeline (clang, ASan+UBSan) for
# TILEC_FUZZ_SECONDS (60 by default; CI's .ci/run sets 600).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
jobs="$(nproc)"

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTILEC_BUILD_PYTHON=ON \
  -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")
# The installed C++ package: find_package(tilec) samples (JIT and AOT) built outside the tree.
tools/test_cpp_package.sh build

export TILEC_CACHE_DIR="${TILEC_CACHE_DIR:-$PWD/build/test-cache}"
# Every test kernel compiled for the CPU is also compiled through NVRTC for sm_80 and sm_90.
# tests/compat: kernels written as real Triton projects write them (tests/compat/README.md).
TILEC_CHECK_CUDA_ARCHS=80,90 PYTHONPATH="$PWD/build/python" python3 -m pytest -q tests/python tests/compat
# The CPU backend's SIMD paths (runtime/cpu/tilec_vec.h), each forced with TILEC_CPU_ISA: the op, math,
# matmul and masked-tile tests again with kernels built for AVX-512 (where the host has it: the run
# above used the host's own level, which is AVX-512 on CI's host only by chance), for AVX2 and for
# the lane-wise template. About 45 s each here (2 cores, cold cache).
if [ "$(uname -m)" = x86_64 ]; then
  isas="avx2 scalar"
  if grep -qw avx512f /proc/cpuinfo; then isas="avx512 $isas"; fi
  for isa in $isas; do
    TILEC_CPU_ISA=$isa PYTHONPATH="$PWD/build/python" python3 -m pytest -q tests/python/test_ops.py \
      tests/python/test_cpu_math.py tests/python/test_matmul.py tests/python/test_masked_tiles.py
  done
fi
# Again against an ASan+UBSan build of tilec._C (the random-kernel seeds add time, not C++ coverage).
tests/asan/run_pytest_asan.sh -k "not differential"

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTILEC_BUILD_FUZZ=ON -DTILEC_SANITIZE=ON -DTILEC_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$jobs" --target tilec_fuzz
# Seeds: the kept corpus (tests/fuzz/corpus, crash reproducers included), every kernel of the
# samples, goldens, diagnostics and compat suite, and 300 random kernels of the differential tester.
rm -rf build-fuzz/corpus build-fuzz/seeds && mkdir -p build-fuzz/corpus build-fuzz/seeds build-fuzz/crashes
for dir in tests/fuzz/corpus samples tests/golden tests/diagnostics tests/compat; do
  # Prefixed: names repeat across folders. Files only: pytest leaves __pycache__ folders.
  for f in "$dir"/*; do if [ -f "$f" ]; then cp "$f" "build-fuzz/seeds/${dir//\//_}_${f##*/}"; fi; done
done
PYTHONPATH="$PWD/build/python" python3 tests/python/difftest.py --seeds 0:300 --emit-sources build-fuzz/seeds >/dev/null
# A crash leaves its input in build-fuzz/crashes/: shrink it, fix the bug, keep it in tests/fuzz/corpus.
build-fuzz/tilec_fuzz -max_total_time="${TILEC_FUZZ_SECONDS:-60}" -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix=build-fuzz/crashes/ -print_final_stats=1 build-fuzz/corpus build-fuzz/seeds 2>&1 | tail -n 15
echo "all tests passed"
