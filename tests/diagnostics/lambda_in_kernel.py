# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/lambda_in_kernel.py:8:9: error: 'lambda' is not supported in kernels
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    f = lambda v: v + 1
    tl.store(x, f(1.0))
