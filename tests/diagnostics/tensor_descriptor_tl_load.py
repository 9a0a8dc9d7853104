# args: --kernel k --signature x:*fp32,n:i32
# expect: tests/diagnostics/tensor_descriptor_tl_load.py:9:9: error: tl.load of a tensor descriptor: use desc.load([offsets...]) or tl.load_tensor_descriptor(desc, offsets)
import tilec
import tilec.language as tl

@tilec.jit
def k(x, n):
    desc = tl.make_tensor_descriptor(x, shape=[n], strides=[1], block_shape=[64])
    v = tl.load(desc)
    desc.store([0], v)
