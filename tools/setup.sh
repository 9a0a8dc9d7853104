#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build tilec, and dump a sample kernel's IR.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
build/tilec dump samples/vector_add.py --kernel add_kernel \
  --signature 'x_ptr:*fp32:16,y_ptr:*fp32:16,output_ptr:*fp32:16,n_elements:i32' \
  --constexpr BLOCK_SIZE=1024 --emit ir-opt
