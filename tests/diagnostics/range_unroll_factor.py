# args: --kernel k --signature x:*fp32,n:i32
# expect: tests/diagnostics/range_unroll_factor.py:8:14: error: tl.range(loop_unroll_factor=...) is not supported by tilec; remove the argument
import tilec
import tilec.language as tl

@tilec.jit
def k(x, n):
    for i in tl.range(0, n, loop_unroll_factor=2):
        tl.store(x + i, 1.0)
