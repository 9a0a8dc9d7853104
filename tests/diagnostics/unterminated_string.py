# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/unterminated_string.py:8:9: error: unterminated string literal
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    s = "abc
    tl.store(x, 1.0)
