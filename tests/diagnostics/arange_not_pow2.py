# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/arange_not_pow2.py:8:12: error: arange(0, 1000) has 1000 elements; tile sizes must be powers of two (round up and mask the tail)
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    offs = tl.arange(0, 1000)
    tl.store(x + offs, 1.0)
