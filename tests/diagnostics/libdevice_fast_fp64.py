# args: --kernel k --signature x:*fp64
# expect: tests/diagnostics/libdevice_fast_fp64.py:9:17: error: libdevice.fast_expf has no fp64 version; cast the operands to tl.float32
import tilec
import tilec.language as tl
from tilec.language.extra import libdevice

@tilec.jit
def k(x):
    tl.store(x, libdevice.fast_expf(tl.load(x)))
