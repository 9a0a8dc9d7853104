#!/usr/bin/env bash
# Input: the source tree. Output: the Python tests run against an ASan+UBSan build of tilec._C
# (build-asan/); any sanitizer report fails the run. Generated kernels are not instrumented.
# The sanitizer runtimes are preloaded into python, which is not built with them; leak checks
# are off because the interpreter keeps objects alive at exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs="$(nproc)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTILEC_BUILD_PYTHON=ON -DTILEC_BUILD_TESTS=OFF \
  -DTILEC_SANITIZE=ON -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" >/dev/null
cmake --build build-asan -j"$jobs" --target _C tilec  # tilec: test_cli.py runs `tilec dump` through it
cxx="$(grep -m1 '^CMAKE_CXX_COMPILER:' build-asan/CMakeCache.txt | cut -d= -f2)"
preload="$("$cxx" -print-file-name=libasan.so):$("$cxx" -print-file-name=libubsan.so)"
export TILEC_CACHE_DIR="${TILEC_CACHE_DIR:-$PWD/build-asan/test-cache}"
LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  PYTHONPATH="$PWD/build-asan/python" python3 -m pytest -q -p no:cacheprovider tests/python "$@"
