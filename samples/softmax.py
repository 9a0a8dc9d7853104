"""Fused row softmax: one program per row, the row read once (Triton tutorial 02)."""
import tilec
import tilec.language as tl


@tilec.jit
def softmax_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_rows, n_cols,
                   BLOCK_SIZE: tl.constexpr):
    row_idx = tl.program_id(0)
    row_start_ptr = input_ptr + row_idx * input_row_stride
    col_offsets = tl.arange(0, BLOCK_SIZE)
    input_ptrs = row_start_ptr + col_offsets
    mask = col_offsets < n_cols
    row = tl.load(input_ptrs, mask=mask, other=-float('inf'))
    row_minus_max = row - tl.max(row, axis=0)
    numerator = tl.exp(row_minus_max)
    denominator = tl.sum(numerator, axis=0)
    softmax_output = numerator / denominator
    output_row_start_ptr = output_ptr + row_idx * output_row_stride
    output_ptrs = output_row_start_ptr + col_offsets
    tl.store(output_ptrs, softmax_output, mask=mask)


def main():
    import numpy as np
    from sample_utils import backends, check, median_time, to_backend
    rng = np.random.default_rng(0)
    n_rows, n_cols = 1823, 781
    x_np = rng.standard_normal((n_rows, n_cols), dtype=np.float32)
    ref = np.exp(x_np - x_np.max(axis=1, keepdims=True))
    ref /= ref.sum(axis=1, keepdims=True)
    block = tilec.next_power_of_2(n_cols)

    def numpy_softmax():
        e = np.exp(x_np - x_np.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    for backend in backends():
        x = to_backend(x_np, backend)
        out = to_backend(np.full((n_rows, n_cols), np.nan, np.float32), backend)
        run = lambda: softmax_kernel[(n_rows,)](out, x, n_cols, n_cols, n_rows, n_cols, BLOCK_SIZE=block)
        run()
        err = check("softmax", out, ref, 1e-5)
        t = median_time(run, backend)
        if backend == "cpu":
            t_ref, ref_name = median_time(numpy_softmax, "cpu"), "numpy"
        else:
            import torch
            t_ref, ref_name = median_time(lambda: torch.softmax(x, dim=1), backend), "torch"
        print(f"softmax [{backend}] {n_rows}x{n_cols}: rel err {err:.1e}; tilec {t * 1e3:.3f} ms, {ref_name} {t_ref * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
