# args: --kernel k --signature x:*fp32,n:i32
# expect: tests/diagnostics/tensor_descriptor_narrow_block.py:8:12: error: tl.make_tensor_descriptor block_shape [16, 2] has 8 bytes in the last dim; Triton requires at least 16
import tilec
import tilec.language as tl

@tilec.jit
def k(x, n):
    desc = tl.make_tensor_descriptor(x, shape=[n, n], strides=[n, 1], block_shape=[16, 2])
    desc.store([0, 0], desc.load([0, 0]) + 1)
