import tilec
import tilec.language as tl


@tilec.jit
def _scaled(x, scale, USE_SCALE: tl.constexpr):
    if USE_SCALE:
        x = x * scale
    return x


@tilec.jit
def language_kernel(x_ptr, y_ptr, i_ptr, out_ptr, n, scale, BLOCK: tl.constexpr, USE_SCALE: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    offs = tl.max_contiguous(tl.multiple_of(offs, BLOCK), BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    y = tl.load(y_ptr + offs, mask=mask, other=1.0)
    i = tl.load(i_ptr + offs, mask=mask, other=0)
    a = tl.exp(x) + tl.exp2(y) - tl.log(tl.abs(y) + 1) + tl.log2(tl.abs(x) + 1)
    b = tl.sqrt(tl.abs(x)) * tl.rsqrt(tl.abs(y) + 1) + tl.sin(x) * tl.cos(y)
    c = tl.sigmoid(x) + tl.erf(y) + tl.floor(x) - tl.ceil(y)
    d = tl.maximum(x, y) + tl.minimum(x, y) + tl.fma(x, y, a) + tl.clamp(x, -1.0, 1.0)
    e = tl.where(x > y, x, y) + (i // 3).to(tl.float32) + (i % 5).to(tl.float32) + (i >> 1) + (i << 2)
    f = (i & 7) | (i ^ 3)
    g = _scaled(a + b + c + d + e, scale, USE_SCALE) + f
    row = tl.reshape(g, (BLOCK // 16, 16))
    col_sum = tl.sum(row, axis=0)
    row_max = tl.max(row, axis=1, keep_dims=True)
    idx = tl.argmax(g, axis=0) + tl.argmin(g, axis=0)
    total = tl.cumsum(g, axis=0) + tl.sum(col_sum) + tl.sum(tl.trans(row_max)) + idx
    tl.static_assert(BLOCK % 16 == 0, "BLOCK must be a multiple of 16")
    tl.device_assert(n > 0, "n must be positive")
    tl.store(out_ptr + offs, total, mask=mask)
    tl.atomic_add(out_ptr + offs, 1.0, mask=mask)
    tl.atomic_max(i_ptr + offs, i, mask=mask)
