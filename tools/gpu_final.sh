#!/usr/bin/env bash
# On the GPU machine, within one call: build, every CUDA test (tests/python and tests/compat on
# the cuda backend, then the files in $EXTRA_PYTEST whole, e.g. the Philox comparison with Triton),
# compute-sanitizer memcheck and racecheck on the pipelined matmuls, the benchmark groups in
# $BENCH_GROUPS against Triton and PyTorch, and with CPU_BENCH=1 bench/cpu_bench.py on the host's
# cores (issue #14; CUDA hidden). Logs and the reports go to $OUT.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
export PATH=/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1 CC=/usr/bin/gcc CXX=/usr/bin/g++
cmake -S . -B build-dev -G Ninja -DCMAKE_BUILD_TYPE=Release -DTILEC_BUILD_PYTHON=ON -DTILEC_BUILD_TESTS=OFF \
  -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" -DCMAKE_PREFIX_PATH="$PWD/.deps" > "$OUT/cmake.log" 2>&1 || { tail -20 "$OUT/cmake.log"; exit 1; }
cmake --build build-dev -j16 > "$OUT/build.log" 2>&1 || { grep -E "error" "$OUT/build.log" | head -20; exit 1; }
export PYTHONPATH="$PWD/build-dev/python" TILEC_CACHE_DIR=/tmp/tilec-cache
PYTEST_PATHS="${PYTEST_PATHS:-tests/python tests/compat}"
timeout 200 python3 -m pytest -q -rf -p no:cacheprovider -n 8 -k cuda $PYTEST_PATHS > "$OUT/pytest_cuda.log" 2>&1 \
  || timeout 200 python3 -m pytest -q -rf -p no:cacheprovider -k cuda $PYTEST_PATHS > "$OUT/pytest_cuda.log" 2>&1
echo "pytest (cuda) exit $?"; tail -12 "$OUT/pytest_cuda.log"
if [ -n "${EXTRA_PYTEST:-}" ]; then
  timeout 120 python3 -m pytest -q -rs -p no:cacheprovider $EXTRA_PYTEST > "$OUT/pytest_extra.log" 2>&1
  echo "pytest ($EXTRA_PYTEST) exit $?"; tail -4 "$OUT/pytest_extra.log"
fi
if [ "${SANITIZE:-1}" = 1 ]; then
  for tool in memcheck racecheck; do
    for t in "tests/python/test_matmul.py::cuda and masked and float16 and shape1" "tests/python/test_attention.py::cuda and masked_lengths and 77"; do
      timeout 90 compute-sanitizer --tool $tool --error-exitcode 9 python3 -m pytest -q -x -p no:cacheprovider \
        "${t%%::*}" -k "${t#*::}" > "$OUT/sanitizer_${tool}_$(basename "${t%%::*}" .py).log" 2>&1
      echo "compute-sanitizer $tool ${t%%::*} exit $?"
      grep -E "ERROR SUMMARY|passed|failed" "$OUT/sanitizer_${tool}_$(basename "${t%%::*}" .py).log" | head -2
    done
  done
fi
if [ -n "${BENCH_GROUPS:-}" ]; then
  timeout "${BENCH_SECONDS:-320}" python3 bench/gpu_bench.py --only "$BENCH_GROUPS" --first-call-reps 2 --out "$OUT/gpu_bench.md" \
    > "$OUT/gpu_bench.log" 2>&1
  echo "bench exit $?"; sed -n '/^| benchmark/,/^$/p' "$OUT/gpu_bench.md"
fi
if [ "${CPU_BENCH:-0}" = 1 ]; then
  CUDA_VISIBLE_DEVICES= timeout "${CPU_BENCH_SECONDS:-150}" python3 bench/cpu_bench.py --markdown "$OUT/cpu_bench.md" \
    > "$OUT/cpu_bench.log" 2>&1
  echo "cpu bench exit $?"; grep -E "^\| |^#" "$OUT/cpu_bench.md" | head -40
fi
