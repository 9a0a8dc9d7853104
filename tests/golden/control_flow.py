import tilec
import tilec.language as tl


@tilec.jit
def control_kernel(x_ptr, out_ptr, n, steps, BLOCK: tl.constexpr, UNROLL: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    for i in range(steps):
        acc += x * i
    for j in tl.static_range(UNROLL):
        acc = acc + j
    k = 0
    while k < steps:
        acc = acc * 0.5
        k += 1
    if steps > 3:
        scale = 2.0
    else:
        scale = 1.0
    if UNROLL > 2:
        acc = acc * scale
    tl.store(out_ptr + offs, acc if UNROLL > 1 else x, mask=mask)
