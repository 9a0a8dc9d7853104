# args: --kernel k --signature x:*fp32,y:*fp8e4nv --emit cuda --arch sm_80
# expect: tests/diagnostics/fp8e4nv_before_sm89.py:10:24: error: tl.float8e4nv needs sm_89 or newer (its conversions are cvt.*.e4m3x2 instructions), but this kernel is compiled for sm_80; use tl.float8e5 there, as Triton does
import tilec
import tilec.language as tl

@tilec.jit
def k(x, y):
    offs = tl.arange(0, 128)
    v = tl.load(x + offs)
    tl.store(y + offs, v.to(tl.float8e4nv))
