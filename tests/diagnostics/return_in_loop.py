# args: --kernel k --signature x:*fp32,n:i32
# expect: tests/diagnostics/return_in_loop.py:10:13: error: 'return' with a value inside a runtime for/while loop is not supported (Triton rejects any return in a loop); assign the result to a variable and return after the loop
import tilec
import tilec.language as tl

@tilec.jit
def first_positive(x, n):
    for i in range(n):
        if tl.load(x + i) > 0:
            return i
    return -1

@tilec.jit
def k(x, n):
    tl.store(x, first_positive(x, n))
