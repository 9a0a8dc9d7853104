# args: --kernel k --signature x_ptr:*fp32,y_ptr:*fp32,n:i32
# expect: tests/diagnostics/block_ptr_as_tile.py:9:5: error: expected a number or a tile, got a block pointer to tile<64xfp32> blocks; only tl.load, tl.store and tl.advance take a block pointer
import tilec
import tilec.language as tl

@tilec.jit
def k(x_ptr, y_ptr, n):
    p = tl.make_block_ptr(x_ptr, shape=(n,), strides=(1,), offsets=(0,), block_shape=(64,), order=(0,))
    tl.store(y_ptr + tl.arange(0, 64), p)
