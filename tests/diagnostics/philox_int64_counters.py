# args: --kernel k --signature x:*fp32,seed:i32
# expect: tests/diagnostics/rand_int64_offsets.py:8:17: error: Philox counters must be 32-bit integers (int32 or uint32 offsets), got i64; 64-bit Philox is not supported
import tilec
import tilec.language as tl

@tilec.jit
def k(x, seed):
    tl.store(x, tl.rand(seed, tl.arange(0, 16).to(tl.int64)) + tl.zeros((16,), tl.float32))
