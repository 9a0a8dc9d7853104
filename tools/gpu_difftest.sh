#!/usr/bin/env bash
# On the GPU machine, within one call: build, the CUDA cache-healing and differential pytests, then
# difftest.py over $SEEDS (default 0:2000) on the CPU and the GPU, each kernel checked against NumPy
# and the GPU against the CPU. Logs in $OUT; a mismatch prints its seed and kernel there.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
SEEDS="${SEEDS:-0:2000}"
export PATH=/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1 CC=/usr/bin/gcc CXX=/usr/bin/g++
cmake -S . -B build-dev -G Ninja -DCMAKE_BUILD_TYPE=Release -DTILEC_BUILD_PYTHON=ON -DTILEC_BUILD_TESTS=OFF -DCMAKE_PREFIX_PATH="$PWD/.deps" \
  -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" > "$OUT/cmake.log" 2>&1 || { tail -20 "$OUT/cmake.log"; exit 1; }
cmake --build build-dev -j16 --target _C > "$OUT/build.log" 2>&1 || { grep error "$OUT/build.log" | head; exit 1; }
export PYTHONPATH="$PWD/build-dev/python" TILEC_CACHE_DIR=/tmp/tilec-cache
timeout 150 python3 -m pytest -q -p no:cacheprovider tests/python/test_cache_healing.py tests/python/test_differential.py \
  -k "cubin or gpu" > "$OUT/pytest_gpu.log" 2>&1
echo "pytest (cubin healing, GPU differential) exit $?"; tail -3 "$OUT/pytest_gpu.log"
date -u +"difftest start %Y-%m-%d %H:%M:%S UTC" | tee "$OUT/difftest.log"
timeout 360 python3 tests/python/difftest.py --seeds "$SEEDS" --backend cuda --jobs 12 >> "$OUT/difftest.log" 2>&1
echo "difftest exit $?"; grep -E "seeds agree|^  seed" "$OUT/difftest.log" | head -20
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a "$OUT/difftest.log"
