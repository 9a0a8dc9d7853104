#!/usr/bin/env bash
# On the GPU machine: run the CUDA half of the Python tests; on the first failure, rerun that
# test under compute-sanitizer to name the faulting kernel line.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
export PATH=/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1 CC=/usr/bin/gcc CXX=/usr/bin/g++
cmake -S . -B build-dev -G Ninja -DCMAKE_BUILD_TYPE=Release -DTILEC_BUILD_PYTHON=ON -DTILEC_BUILD_TESTS=OFF -DCMAKE_PREFIX_PATH="$PWD/.deps" \
  -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" > "$OUT/cmake.log" 2>&1
cmake --build build-dev -j16 --target _C tilec > "$OUT/build.log" 2>&1 || { grep error "$OUT/build.log" | head; exit 1; }
export PYTHONPATH="$PWD/build-dev/python" TILEC_CACHE_DIR=/tmp/tilec-cache
for round in 1 2 3; do
  timeout 200 python3 -m pytest -q -x -k cuda tests/python -p no:cacheprovider > "$OUT/pytest_cuda_$round.log" 2>&1
  rc=$?; tail -3 "$OUT/pytest_cuda_$round.log"
  [ $rc -eq 0 ] && break
  failed=$(grep -m1 "^FAILED" "$OUT/pytest_cuda_$round.log" | awk '{print $2}')
  [ -z "$failed" ] && break
  echo "== sanitizer on $failed"
  timeout 150 compute-sanitizer --tool memcheck --print-limit 3 python3 -m pytest -q -x "$failed" -p no:cacheprovider 2>&1 | grep -E "=====|Invalid|at .*\.py:|rk.py|Address" | head -14
  break
done
