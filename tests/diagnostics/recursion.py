# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/recursion.py:8:12: error: recursive call to 'helper': helpers are inlined into the kernel, so recursion is not supported
import tilec
import tilec.language as tl

@tilec.jit
def helper(v):
    return helper(v)


@tilec.jit
def k(x):
    tl.store(x, helper(1.0))
