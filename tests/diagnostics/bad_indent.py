# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/bad_indent.py:9:7: error: unexpected indent
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    a = 1
      b = 2
    tl.store(x, 1.0)
