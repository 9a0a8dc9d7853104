#!/usr/bin/env bash
# Installs what building and testing tilec needs on a fresh Debian/Ubuntu machine: compilers,
# CMake, nlohmann/json, GoogleTest (Debian packages) and the Python build/test packages (PyPI).
# Safe to run again; it only installs what is missing.
set -euo pipefail
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
need=()
for pkg in cmake ninja-build g++ clang nlohmann-json3-dev libgtest-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check numpy pybind11 scikit-build-core pytest
