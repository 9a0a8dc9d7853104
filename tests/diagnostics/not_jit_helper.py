# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/not_jit_helper.py:12:17: error: 'plain' is not a @tilec.jit function; decorate it with @tilec.jit to call it from a kernel
import tilec
import tilec.language as tl

def plain(v):
    return v


@tilec.jit
def k(x):
    tl.store(x, plain(1.0))
