#!/usr/bin/env bash
# On the lent GPU machine: build with the carried headers (.deps), run the C++ tests, the samples,
# the Python tests and compute-sanitizer, then the GPU benchmark; logs go to $OUT. Needs .deps
# (tools/make_deps.sh) carried with the call. Options: SAMPLES, PYTEST=1, SANITIZE=1, BENCH=1.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT"
export PATH=/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1
# The image's default $CXX links libstdc++ statically; a Python extension built that way clashes
# with the shared libstdc++ that numpy and torch load, so build with the system compiler.
export CC=/usr/bin/gcc CXX=/usr/bin/g++
nvidia-smi -L
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__, torch.cuda.get_device_name())"
cmake -S . -B build-dev -G Ninja -DCMAKE_BUILD_TYPE=Release -DTILEC_BUILD_PYTHON=ON -DCMAKE_PREFIX_PATH="$PWD/.deps" \
  -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" > "$OUT/cmake.log" 2>&1 || { tail -30 "$OUT/cmake.log"; exit 1; }
cmake --build build-dev -j16 > "$OUT/build.log" 2>&1 || { grep -E "error" "$OUT/build.log" | head -30; exit 1; }
export PYTHONPATH="$PWD/build-dev/python" TILEC_CACHE_DIR=/tmp/tilec-cache
(cd build-dev && ctest -j8 --output-on-failure) > "$OUT/ctest.log" 2>&1; echo "ctest exit $?"; grep -E "tests passed|Failed|FAILED" "$OUT/ctest.log" | head -20
for s in ${SAMPLES:-vector_add softmax layernorm matmul histogram}; do
  timeout 120 python3 samples/$s.py 2>&1 | tail -4
done
if [ -n "${PYTEST:-}" ] && [ -d tests/python ]; then
  timeout 300 python3 -m pytest -q -rf tests/python > "$OUT/pytest.log" 2>&1; echo "pytest exit $?"; tail -15 "$OUT/pytest.log"
fi
if [ -n "${SANITIZE:-}" ]; then
  for s in vector_add softmax layernorm matmul histogram; do
    timeout 200 compute-sanitizer --tool memcheck --error-exitcode 9 python3 samples/$s.py > "$OUT/sanitizer_$s.log" 2>&1
    echo "compute-sanitizer $s exit $?"; grep -E "ERROR SUMMARY|Invalid|error" "$OUT/sanitizer_$s.log" | head -3
  done
fi
if [ -n "${BENCH:-}" ] && [ -f bench/gpu_bench.py ]; then
  timeout 400 python3 bench/gpu_bench.py --out "$OUT/gpu_bench.md" > "$OUT/gpu_bench.log" 2>&1; echo "bench exit $?"; tail -45 "$OUT/gpu_bench.log"
fi
