# args: --kernel k --signature x:*fp32,y:*fp32
# expect: tests/diagnostics/load_cache_modifier.py:9:9: error: tl.load cache_modifier='.cs' is not supported; use '.ca', '.cg' or '.cv' (or '' for the default)
import tilec
import tilec.language as tl

@tilec.jit
def k(x, y):
    offs = tl.arange(0, 16)
    v = tl.load(x + offs, cache_modifier=".cs")
    tl.store(y + offs, v)
