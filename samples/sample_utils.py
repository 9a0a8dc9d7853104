"""Shared by the samples: backends to run on, random inputs, checking and timing."""
import time

import numpy as np


def backends():
    """'cpu' always; 'cuda' when PyTorch sees a GPU."""
    found = ["cpu"]
    try:
        import torch
        if torch.cuda.is_available():
            found.append("cuda")
    except ImportError:
        pass
    return found


def to_backend(array, backend):
    if backend == "cpu":
        return np.ascontiguousarray(array)
    import torch
    return torch.from_numpy(np.ascontiguousarray(array)).cuda()


def to_numpy(x):
    return x if isinstance(x, np.ndarray) else x.cpu().numpy()


def synchronize(backend):
    if backend == "cuda":
        import torch
        torch.cuda.synchronize()


def check(name, out, ref, tol):
    """Relative error ||out - ref|| / ||ref|| in float64; NaN never passes."""
    out = to_numpy(out).astype(np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    err = np.linalg.norm(out - ref) / max(np.linalg.norm(ref), 1e-300)
    if not np.isfinite(err) or err > tol:
        raise SystemExit(f"{name}: FAILED, relative error {err:.3e} > {tol:.0e}")
    return err


def median_time(fn, backend, repeat=20):
    fn()
    synchronize(backend)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        synchronize(backend)
        times.append(time.perf_counter() - t)
    return float(np.median(times))
