# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/sort_not_last_dim.py:9:24: error: tl.sort: static assertion failed: only the last dim can be sorted or merged (as in Triton)
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    offs = tl.arange(0, 4)[:, None] * 8 + tl.arange(0, 8)[None, :]
    tl.store(x + offs, tl.sort(tl.load(x + offs), 0))
