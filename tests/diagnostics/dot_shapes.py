# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/dot_shapes.py:10:9: error: tl.dot inner dimensions differ: tile<16x32xfp32> @ tile<16x32xfp32>
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    a = tl.zeros((16, 32), dtype=tl.float32)
    b = tl.zeros((16, 32), dtype=tl.float32)
    c = tl.dot(a, b)
    tl.store(x, tl.sum(c))
