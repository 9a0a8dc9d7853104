# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/device_print_prefix.py:9:5: error: device_print needs a string prefix as its first argument, got a tile tile<16xfp32>; write tl.device_print("x", x)
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    v = tl.load(x + tl.arange(0, 16))
    tl.device_print(v)
