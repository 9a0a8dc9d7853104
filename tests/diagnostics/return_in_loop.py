# args: --kernel k --signature x:*fp32,n:i32
# expect: tests/diagnostics/return_in_loop.py:10:13: error: 'return' inside a runtime for/while loop is not supported (Triton rejects it too); assign the result to a variable and return after the loop, or unroll the loop with tl.static_range
import tilec
import tilec.language as tl

@tilec.jit
def k(x, n):
    for i in range(n):
        if i > 3:
            return
        tl.store(x + i, 1.0)
