#!/usr/bin/env bash
# On the GPU machine, within one call: build, then Nsight Compute on the cases of
# bench/ncu_compare.py ($NCU_CASES, default "softmax matmul matmul_bf16"), tilec's and Triton's
# kernels side by side, plus both compilers' SASS of each kernel. Reports and logs go to $OUT.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
export PATH=/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1 CC=/usr/bin/gcc CXX=/usr/bin/g++
cmake -S . -B build-dev -G Ninja -DCMAKE_BUILD_TYPE=Release -DTILEC_BUILD_PYTHON=ON -DTILEC_BUILD_TESTS=OFF -DCMAKE_PREFIX_PATH="$PWD/.deps" \
  -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" > "$OUT/cmake.log" 2>&1 || { tail -20 "$OUT/cmake.log"; exit 1; }
cmake --build build-dev -j16 --target _C > "$OUT/build.log" 2>&1 || { grep error "$OUT/build.log" | head; exit 1; }
export PYTHONPATH="$PWD/build-dev/python" TILEC_CACHE_DIR=/tmp/tilec-profile-cache TRITON_CACHE_DIR=/tmp/triton-profile-cache
for case in ${NCU_CASES:-softmax matmul matmul_bf16}; do
  case "$case" in softmax) kernels="regex:softmax" ;; linear*) kernels="regex:linear" ;; *) kernels="regex:matmul" ;; esac
  timeout 240 ncu -k "$kernels" -c 6 --set full -o "$OUT/ncu_$case" python3 bench/ncu_compare.py "$case" > "$OUT/ncu_$case.log" 2>&1
  echo "ncu $case exit $?"
  ncu --import "$OUT/ncu_$case.ncu-rep" --page details > "$OUT/ncu_$case.txt" 2>&1
  grep -E "^  [a-z_]+.*\(|Duration|Registers Per|Achieved Occupancy|Memory Throughput|Compute \(SM\) Throughput|Dynamic Shared|Local Memory Spilling" "$OUT/ncu_$case.txt" | head -40
done
for f in $(find /tmp/tilec-profile-cache -name '*.cubin') $(find /tmp/triton-profile-cache -name '*.cubin'); do
  cuobjdump -sass "$f" > "$OUT/sass_$(basename "$(dirname "$f")")_$(basename "$f" .cubin).sass" 2>&1
done
ls "$OUT"
