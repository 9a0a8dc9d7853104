# args: --kernel k --signature "d:tensordesc<i32[16,16],nan>"
# expect: tests/diagnostics/descriptor_arg_nan_int.py:7:7: error: descriptor 'd' pads with NaN but holds i32
import tilec
import tilec.language as tl

@tilec.jit
def k(d):
    d.store([0, 0], d.load([0, 0]) + 1)
