# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/undefined_name.py:8:17: error: undefined name 'y'
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    tl.store(x, y)
