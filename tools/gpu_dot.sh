#!/usr/bin/env bash
# On the GPU machine: build, the C++ tests, the tensor-core tests (matmul over edges, strides,
# dtypes and configs; the dot cases of test_ops), compute-sanitizer memcheck and racecheck on the
# wgmma and mma.sync matmuls, then the benchmark groups in $BENCH_GROUPS against Triton. Logs in $OUT.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
export PATH=/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1 CC=/usr/bin/gcc CXX=/usr/bin/g++
cmake -S . -B build-dev -G Ninja -DCMAKE_BUILD_TYPE=Release -DTILEC_BUILD_PYTHON=ON -DCMAKE_PREFIX_PATH="$PWD/.deps" \
  -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" > "$OUT/cmake.log" 2>&1 || { tail -20 "$OUT/cmake.log"; exit 1; }
cmake --build build-dev -j16 > "$OUT/build.log" 2>&1 || { grep -E "error" "$OUT/build.log" | head -20; exit 1; }
export PYTHONPATH="$PWD/build-dev/python" TILEC_CACHE_DIR=/tmp/tilec-cache
(cd build-dev && ctest -j8 --output-on-failure) > "$OUT/ctest.log" 2>&1; echo "ctest exit $?"; grep -E "tests passed|Failed" "$OUT/ctest.log" | head
timeout 400 python3 bench/matmul_check.py 300 200 160 2>&1 | tee "$OUT/matmul_check.log" | grep -E "FAIL|ok" | head -14
[ "${PIPESTATUS[0]}" = 0 ] || { echo "matmul check failed: no benchmark"; BENCH_GROUPS=""; }
timeout 300 python3 -m pytest -q -x -rf -p no:cacheprovider tests/python/test_matmul.py ${PYTEST_EXTRA:-} > "$OUT/pytest_dot.log" 2>&1
echo "pytest (dot) exit $?"; tail -25 "$OUT/pytest_dot.log"
if [ -n "${SANITIZE:-}" ]; then
  for tool in memcheck racecheck; do
    timeout 240 compute-sanitizer --tool $tool --error-exitcode 9 python3 -m pytest -q -x -p no:cacheprovider \
      tests/python/test_matmul.py -k "cuda and masked and float16 and shape1" > "$OUT/sanitizer_$tool.log" 2>&1
    echo "compute-sanitizer $tool exit $?"; grep -E "ERROR SUMMARY|passed|failed" "$OUT/sanitizer_$tool.log" | head -3
  done
fi
if [ -n "${BENCH_GROUPS:-}" ]; then
  timeout 500 python3 bench/gpu_bench.py --only "$BENCH_GROUPS" --out "$OUT/gpu_bench.md" > "$OUT/gpu_bench.log" 2>&1
  echo "bench exit $?"; sed -n '/^| benchmark/,/^$/p' "$OUT/gpu_bench.md"
fi
