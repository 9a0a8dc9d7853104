# args: --kernel k --signature x:*fp32,y:*i32
# expect: tests/diagnostics/bitcast_float.py:8:17: error: bitcast from fp32 to i32 is not supported (only between integer types of one width)
import tilec
import tilec.language as tl

@tilec.jit
def k(x, y):
    tl.store(y, tl.load(x).to(tl.int32, bitcast=True))
