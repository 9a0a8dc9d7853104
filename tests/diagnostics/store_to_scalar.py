# args: --kernel k --signature x:i32
# expect: tests/diagnostics/store_to_scalar.py:8:5: error: expected a pointer or a tile of pointers, got a scalar i32
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    tl.store(x, 1)
