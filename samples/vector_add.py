"""Vector addition: out = x + y, one 1-D tile per program (Triton tutorial 01)."""
import tilec
import tilec.language as tl


@tilec.jit
def add_kernel(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    output = x + y
    tl.store(output_ptr + offsets, output, mask=mask)


def main():
    import numpy as np
    from sample_utils import backends, check, median_time, to_backend
    rng = np.random.default_rng(0)
    n = 98_432 * 17 + 5  # not a multiple of the block: the mask handles the tail
    x_np = rng.standard_normal(n, dtype=np.float32)
    y_np = rng.standard_normal(n, dtype=np.float32)
    for backend in backends():
        x, y = to_backend(x_np, backend), to_backend(y_np, backend)
        out = to_backend(np.full(n, np.nan, np.float32), backend)
        grid = lambda meta: (tilec.cdiv(n, meta["BLOCK_SIZE"]),)
        run = lambda: add_kernel[grid](x, y, out, n, BLOCK_SIZE=1024)
        run()
        err = check("vector_add", out, x_np.astype(np.float64) + y_np, 1e-6)
        t = median_time(run, backend)
        t_ref = median_time(lambda: np.add(x_np, y_np), "cpu") if backend == "cpu" else median_time(lambda: x + y, backend)
        ref_name = "numpy" if backend == "cpu" else "torch"
        print(f"vector_add [{backend}] n={n}: rel err {err:.1e}; tilec {t * 1e3:.3f} ms, {ref_name} {t_ref * 1e3:.3f} ms "
              f"({12 * n / t / 1e9:.1f} GB/s vs {12 * n / t_ref / 1e9:.1f} GB/s)")


if __name__ == "__main__":
    main()
