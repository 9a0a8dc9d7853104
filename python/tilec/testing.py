"""tilec.testing: do_bench, the timer the autotuner uses (host clock on the CPU backend, CUDA
events through PyTorch on the GPU), and assert_close for tests."""
import time


def _cuda_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def do_bench(fn, warmup=25, rep=100, grad_to_none=None, quantiles=None, return_mode="mean", device="cpu"):
    """Runs fn() for about `warmup` ms, then times about `rep` ms of calls; returns milliseconds
    (the mean by default, `return_mode` 'min', 'max', 'median' or 'all', or the given quantiles).
    device: 'cpu' times with the host clock, 'cuda' with CUDA events (PyTorch is needed)."""
    if grad_to_none is not None:
        raise ValueError("do_bench(grad_to_none=...) is not supported by tilec")
    if return_mode not in ("mean", "min", "max", "median", "all"):
        raise ValueError(f"do_bench: unknown return_mode {return_mode!r}")
    torch = _cuda_torch() if device == "cuda" else None
    if device == "cuda" and torch is None:
        raise RuntimeError("do_bench(device='cuda') needs PyTorch with CUDA for its events")

    def timed():
        if torch is None:
            t0 = time.perf_counter()
            fn()
            return (time.perf_counter() - t0) * 1e3
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end)

    first = timed()  # also compiles on the first call
    estimate = max(min(timed(), first), 1e-4)
    for _ in range(max(0, int(warmup / estimate) - 2)):
        fn()
    n = max(1, min(int(rep / estimate), 1000))
    import numpy as np  # here: `import tilec` (which imports this module lazily) never pays for NumPy
    times = np.array([timed() for _ in range(n)], dtype=np.float64)
    if quantiles is not None:
        out = [float(q) for q in np.quantile(times, quantiles)]
        return out[0] if len(out) == 1 else out
    if return_mode == "all":
        return times.tolist()
    return float(getattr(np, return_mode)(times))


def assert_close(x, y, atol=None, rtol=None, err_msg=""):
    """NumPy's assert_allclose on anything array-like (torch tensors are moved to the host)."""
    import numpy as np
    def host(v):
        if hasattr(v, "detach"):
            v = v.detach().cpu().float().numpy() if str(v.dtype) == "torch.bfloat16" else v.detach().cpu().numpy()
        return np.asarray(v)
    np.testing.assert_allclose(host(x), host(y), atol=atol or 1e-2, rtol=rtol or 0, err_msg=err_msg)
