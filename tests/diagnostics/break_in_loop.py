# args: --kernel k --signature x:*fp32,n:i32
# expect: tests/diagnostics/break_in_loop.py:9:9: error: 'break' is not supported in kernels; use a while loop with a condition
import tilec
import tilec.language as tl

@tilec.jit
def k(x, n):
    for i in range(n):
        break
    tl.store(x, 1.0)
