#!/usr/bin/env bash
# On the GPU machine: C++ tests, all Python tests (CPU and CUDA), the multi-GPU and CUDA-graph
# tests, the matmul check, and compute-sanitizer over the matmul and softmax samples.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
export PATH=/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1 CC=/usr/bin/gcc CXX=/usr/bin/g++
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
cmake -S . -B build-dev -G Ninja -DCMAKE_BUILD_TYPE=Release -DTILEC_BUILD_PYTHON=ON -DCMAKE_PREFIX_PATH="$PWD/.deps" \
  -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" > "$OUT/cmake.log" 2>&1
cmake --build build-dev -j16 > "$OUT/build.log" 2>&1 || { grep error "$OUT/build.log" | head; exit 1; }
(cd build-dev && ctest -j8 --output-on-failure) > "$OUT/ctest.log" 2>&1; echo "ctest exit $?"; grep -E "tests passed|Failed" "$OUT/ctest.log" | head
export PYTHONPATH="$PWD/build-dev/python" TILEC_CACHE_DIR=/tmp/tilec-cache
timeout 150 python3 bench/matmul_check.py 2>&1 | tail -6
timeout 300 python3 -m pytest -q -rf -p no:cacheprovider tests/python > "$OUT/pytest.log" 2>&1; echo "pytest exit $?"; tail -6 "$OUT/pytest.log"
MATMUL_SIZE=1024 timeout 120 compute-sanitizer --tool memcheck python3 bench/matmul_check.py > "$OUT/sanitizer_matmul.log" 2>&1; echo "sanitizer matmul exit $?"; grep -E "ERROR SUMMARY" "$OUT/sanitizer_matmul.log"
