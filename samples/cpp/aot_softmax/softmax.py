"""Input: a row-major fp32 matrix. Output: its row softmax, one program per row (the kernel of
samples/softmax.py), compiled ahead of time by `tilec aot` in this folder's CMakeLists.txt."""
import tilec
import tilec.language as tl


@tilec.jit
def softmax_kernel(out, x, in_stride, out_stride, n_rows, n_cols, BLOCK_SIZE: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_SIZE)
    mask = cols < n_cols
    v = tl.load(x + row * in_stride + cols, mask=mask, other=-float('inf'))
    e = tl.exp(v - tl.max(v, axis=0))
    tl.store(out + row * out_stride + cols, e / tl.sum(e, axis=0), mask=mask)
