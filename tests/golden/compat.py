# Golden IR of the Triton-compatibility features: libdevice, Philox, split/join, cumprod, early
# return, constexpr globals, dtype introspection, None arguments and debug_barrier.
import tilec
import tilec.language as tl
from tilec.language.extra import libdevice

SCALE: tl.constexpr = tl.constexpr(2)


@tilec.jit
def compat_kernel(x_ptr, bias_ptr, out_ptr, n, seed, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    if pid * BLOCK >= n:
        return
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    if bias_ptr is not None:
        x += tl.load(bias_ptr + offs, mask=mask)
    if x_ptr.dtype.element_ty.is_fp32():
        x = libdevice.tanh(x) * SCALE + libdevice.pow(x, 2.0)
    r = tl.rand(seed, offs, 1)
    a, b = tl.split(tl.join(x, r))
    tl.debug_barrier()
    tl.store(out_ptr + offs, tl.cumprod(a + b, axis=0), mask=mask)
