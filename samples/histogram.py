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
