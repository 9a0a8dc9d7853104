"""Fixtures of the compatibility suite: a per-test seeded generator, and `retune`, which keeps
autotuning tests independent of winners stored by earlier runs."""
import hashlib

import numpy as np
import pytest


@pytest.fixture
def rng(request):
    seed = int.from_bytes(hashlib.sha256(request.node.nodeid.encode()).digest()[:8], "little")
    return np.random.default_rng(seed)


@pytest.fixture
def retune(monkeypatch):
    """Autotuning benchmarks again instead of reading winners stored by an earlier run."""
    monkeypatch.setenv("TILEC_AUTOTUNE", "retune")
