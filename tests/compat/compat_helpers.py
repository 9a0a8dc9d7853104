"""@jit helpers that kernels of the compatibility suite import from another module, as projects
keep theirs in utils files (Liger's ops/utils.py, FlagGems' utils/). They use this file's own
constexpr global and renamed libdevice import, and call each other."""
import tilec as triton
import tilec.language as tl
from tilec.language.extra.cuda import libdevice as ld

SQRT_2_OVER_PI: tl.constexpr = tl.constexpr(0.7978845608028654)


@triton.jit
def tanh(x):
    return ld.tanh(x)


@triton.jit
def gelu_tanh(x):
    x = x.to(tl.float32)
    return 0.5 * x * (1 + tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))


@triton.jit
def row_scale(x, scale_ptr, row):
    if scale_ptr is not None:
        x = x * tl.load(scale_ptr + row)
    return x
