"""Layer normalization forward: one program per row, looping over the row in blocks (Triton tutorial 05)."""
import tilec
import tilec.language as tl


@tilec.jit
def _layer_norm_fwd_fused(X, Y, W, B, Mean, Rstd, stride, N, eps, BLOCK_SIZE: tl.constexpr):
    row = tl.program_id(0)
    Y += row * stride
    X += row * stride
    mean = 0
    _mean = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        a = tl.load(X + cols, mask=cols < N, other=0.).to(tl.float32)
        _mean += a
    mean = tl.sum(_mean, axis=0) / N
    _var = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        x = tl.load(X + cols, mask=cols < N, other=0.).to(tl.float32)
        x = tl.where(cols < N, x - mean, 0.)
        _var += x * x
    var = tl.sum(_var, axis=0) / N
    rstd = 1 / tl.sqrt(var + eps)
    tl.store(Mean + row, mean)
    tl.store(Rstd + row, rstd)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        mask = cols < N
        w = tl.load(W + cols, mask=mask)
        b = tl.load(B + cols, mask=mask)
        x = tl.load(X + cols, mask=mask, other=0.).to(tl.float32)
        x_hat = (x - mean) * rstd
        y = x_hat * w + b
        tl.store(Y + cols, y, mask=mask)


def main():
    import numpy as np
    from sample_utils import backends, check, median_time, to_backend
    rng = np.random.default_rng(0)
    M, N, eps = 1151, 1000, 1e-5
    x_np = rng.standard_normal((M, N), dtype=np.float32)
    w_np = rng.uniform(0.5, 1.5, N).astype(np.float32)
    b_np = rng.standard_normal(N, dtype=np.float32)

    def numpy_layernorm():
        mean = x_np.mean(axis=1, keepdims=True)
        var = ((x_np - mean) ** 2).mean(axis=1, keepdims=True)
        return (x_np - mean) / np.sqrt(var + eps) * w_np + b_np

    x64 = x_np.astype(np.float64)
    ref = (x64 - x64.mean(1, keepdims=True)) / np.sqrt(x64.var(1, keepdims=True) + eps) * w_np + b_np
    for backend in backends():
        x, w, b = (to_backend(a, backend) for a in (x_np, w_np, b_np))
        y = to_backend(np.full((M, N), np.nan, np.float32), backend)
        mean = to_backend(np.full(M, np.nan, np.float32), backend)
        rstd = to_backend(np.full(M, np.nan, np.float32), backend)
        run = lambda: _layer_norm_fwd_fused[(M,)](x, y, w, b, mean, rstd, N, N, eps, BLOCK_SIZE=256)
        run()
        err = check("layernorm", y, ref, 1e-5)
        check("layernorm mean", mean, x64.mean(1), 1e-5)
        t = median_time(run, backend)
        if backend == "cpu":
            t_ref, ref_name = median_time(numpy_layernorm, "cpu"), "numpy"
        else:
            import torch
            t_ref, ref_name = median_time(lambda: torch.nn.functional.layer_norm(x, (N,), w, b, eps), backend), "torch"
        print(f"layernorm [{backend}] {M}x{N}: rel err {err:.1e}; tilec {t * 1e3:.3f} ms, {ref_name} {t_ref * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
