# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/missing_constexpr.py:7:10: error: missing value for constexpr parameter 'BLOCK'; pass it as BLOCK=VALUE
import tilec
import tilec.language as tl

@tilec.jit
def k(x, BLOCK: tl.constexpr):
    tl.store(x + tl.arange(0, BLOCK), 1.0)
