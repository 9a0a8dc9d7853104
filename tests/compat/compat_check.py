"""The comparison every compatibility test uses: float64 NumPy reference, relative and absolute tolerance."""
import numpy as np


def close(out, ref, tol=1e-5):
    out = np.asarray(out, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)
