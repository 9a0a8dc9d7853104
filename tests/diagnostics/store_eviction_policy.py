# args: --kernel k --signature x:*fp32,y:*fp32
# expect: tests/diagnostics/store_eviction_policy.py:9:5: error: tl.store eviction_policy='evict_normal' is not supported; use 'evict_first' or 'evict_last' (or '' for the default)
import tilec
import tilec.language as tl

@tilec.jit
def k(x, y):
    offs = tl.arange(0, 16)
    tl.store(y + offs, tl.load(x + offs), eviction_policy="evict_normal")
