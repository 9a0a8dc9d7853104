# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/shape_mismatch.py:10:22: error: shapes [16] and [32] cannot be broadcast together
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    a = tl.arange(0, 16)
    b = tl.arange(0, 32)
    tl.store(x + a, (a + b).to(tl.float32))
