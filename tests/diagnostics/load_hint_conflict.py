# args: --kernel k --signature x:*fp32,y:*fp32
# expect: tests/diagnostics/load_hint_conflict.py:9:9: error: tl.load cannot take both cache_modifier='.cg' and eviction_policy='evict_first': no PTX load combines a cache operator with an L1 eviction priority; keep one
import tilec
import tilec.language as tl

@tilec.jit
def k(x, y):
    offs = tl.arange(0, 16)
    v = tl.load(x + offs, cache_modifier=".cg", eviction_policy="evict_first")
    tl.store(y + offs, v)
