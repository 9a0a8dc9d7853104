# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/tile_if_condition.py:9:8: error: an 'if' condition must be a scalar, got tile<16xi1>; use tl.where for elementwise choices
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    v = tl.load(x + tl.arange(0, 16))
    if v > 0:
        v = v * 2
    tl.store(x + tl.arange(0, 16), v)
