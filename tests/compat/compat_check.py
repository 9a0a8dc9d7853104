"""What every compatibility test shares: a per-test seeded generator (`rng`), `retune` (autotuning
times again instead of reading winners stored by earlier runs) and the float64 NumPy comparison.
Test modules import these names; the suite has no conftest.py, so that it can run in one pytest
invocation with tests/python."""
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


def close(out, ref, tol=1e-5):
    out = np.asarray(out, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)
