# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/unknown_keyword.py:8:5: error: store() got an unexpected keyword argument 'masks'
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    tl.store(x, 1.0, masks=None)
