#!/usr/bin/env bash
# On the GPU machine: the multi-GPU tests (any number of GPUs) and the torchrun sample.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
export PATH=/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1 CC=/usr/bin/gcc CXX=/usr/bin/g++
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
cmake -S . -B build-dev -G Ninja -DCMAKE_BUILD_TYPE=Release -DTILEC_BUILD_PYTHON=ON -DTILEC_BUILD_TESTS=OFF -DCMAKE_PREFIX_PATH="$PWD/.deps" \
  -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" > "$OUT/cmake.log" 2>&1
cmake --build build-dev -j16 --target _C tilec > "$OUT/build.log" 2>&1 || { grep error "$OUT/build.log" | head; exit 1; }
export PYTHONPATH="$PWD/build-dev/python" TILEC_CACHE_DIR=/tmp/tilec-cache
nvidia-smi -L
timeout 200 python3 -m pytest -v -p no:cacheprovider tests/python/test_multi_gpu.py tests/python/test_cuda_graph.py "tests/python/test_samples.py::test_distributed_sample_with_torchrun" 2>&1 | tee "$OUT/multi_gpu.log" | grep -E "PASSED|FAILED|SKIPPED|ERROR|passed|failed" | head -20
n=$(python3 -c "import torch; print(torch.cuda.device_count())")
timeout 120 python3 -m torch.distributed.run --nproc-per-node="$n" samples/distributed.py 2>&1 | grep -E "rank|Error" | head
