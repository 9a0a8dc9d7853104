"""Histogram of integer keys with atomic adds: each program bins one block of the input."""
import tilec
import tilec.language as tl


@tilec.jit
def histogram_kernel(keys_ptr, hist_ptr, n, num_bins, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    keys = tl.load(keys_ptr + offs, mask=mask, other=0)
    in_range = mask & (keys >= 0) & (keys < num_bins)
    tl.atomic_add(hist_ptr + keys, 1, mask=in_range)


def main():
    import numpy as np
    from sample_utils import backends, median_time, to_backend, to_numpy
    rng = np.random.default_rng(0)
    n, num_bins = 1_000_003, 97
    keys_np = rng.integers(-5, num_bins + 5, n, dtype=np.int32)  # some keys fall outside the bins
    ref = np.bincount(keys_np[(keys_np >= 0) & (keys_np < num_bins)], minlength=num_bins)
    for backend in backends():
        keys = to_backend(keys_np, backend)
        hist = to_backend(np.zeros(num_bins, np.int32), backend)
        histogram_kernel[(tilec.cdiv(n, 1024),)](keys, hist, n, num_bins, BLOCK=1024)
        if not np.array_equal(to_numpy(hist), ref):
            raise SystemExit(f"histogram [{backend}]: FAILED, counts differ from numpy.bincount")
        t = median_time(lambda: histogram_kernel[(tilec.cdiv(n, 1024),)](keys, hist, n, num_bins, BLOCK=1024), backend)
        t_ref = median_time(lambda: np.bincount(keys_np[(keys_np >= 0) & (keys_np < num_bins)], minlength=num_bins), "cpu")
        print(f"histogram [{backend}] n={n} bins={num_bins}: exact; tilec {t * 1e3:.3f} ms, numpy {t_ref * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
