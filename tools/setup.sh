#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build and install the tilec package
# (pip, scikit-build-core), then run the vector-add sample on every available backend.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
python3 -m pip install -q --disable-pip-version-check --no-build-isolation .
python3 samples/vector_add.py
