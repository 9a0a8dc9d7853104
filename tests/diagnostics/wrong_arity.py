# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/wrong_arity.py:8:5: error: store() missing required argument 'value'
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    tl.store(x)
