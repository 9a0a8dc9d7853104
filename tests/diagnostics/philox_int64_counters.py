# args: --kernel k --signature x:*u32,seed:i32
# expect: tests/diagnostics/philox_int64_counters.py:9:22: error: tl.philox counters must be 32-bit integers, got i64; the 64-bit Philox variant is not supported (tl.rand/tl.randint take int64 offsets)
import tilec
import tilec.language as tl

@tilec.jit
def k(x, seed):
    c = tl.arange(0, 16).to(tl.int64)
    r0, r1, r2, r3 = tl.philox(seed, c, c, c, c)
    tl.store(x + tl.arange(0, 16), r0)
