#!/usr/bin/env bash
# Copies the headers and CMake configs the GPU machine lacks (nlohmann/json, GoogleTest) from this
# machine's Debian packages into .deps/ (git-ignored), to be named in the device tool's `carry`
# and found there with -DCMAKE_PREFIX_PATH=$PWD/.deps (tools/gpu_*.sh do this).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
rm -rf .deps
mkdir -p .deps/include .deps/share/cmake .deps/lib/x86_64-linux-gnu/cmake
cp -r /usr/include/nlohmann /usr/include/gtest /usr/include/gmock .deps/include/
cp -r /usr/share/cmake/nlohmann_json .deps/share/cmake/
cp /usr/lib/x86_64-linux-gnu/libgtest*.a /usr/lib/x86_64-linux-gnu/libgmock*.a .deps/lib/x86_64-linux-gnu/
cp -r /usr/lib/x86_64-linux-gnu/cmake/GTest .deps/lib/x86_64-linux-gnu/cmake/
du -sh .deps
