# args: --kernel k --signature x_ptr:*fp32,y_ptr:*fp32,n:i32
# expect: tests/diagnostics/block_ptr_padding.py:9:9: error: padding_option='inf' is not supported; use "zero", "nan" or ""
import tilec
import tilec.language as tl

@tilec.jit
def k(x_ptr, y_ptr, n):
    p = tl.make_block_ptr(x_ptr, shape=(n,), strides=(1,), offsets=(0,), block_shape=(64,), order=(0,))
    x = tl.load(p, boundary_check=(0,), padding_option="inf")
    tl.store(y_ptr + tl.arange(0, 64), x)
