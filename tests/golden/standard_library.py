import tilec
import tilec.language as tl


@tilec.jit
def _max_fn(a, b):
    return tl.maximum(a, b)


@tilec.jit
def stdlib_kernel(x_ptr, out_ptr, flags_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr, tl.reduce(x, 0, _max_fn))
    tl.store(out_ptr + 1 + offs, tl.cumsum(x, 0, reverse=True))
    tl.atomic_or(flags_ptr + offs, x.to(tl.int32), sem="release", scope="cta")
    tl.atomic_xor(flags_ptr + offs, 1)
