"""Every operation of the language reference against a float64 NumPy reference on random inputs.
Host compilation costs about a second per specialization, so each kernel checks many operations
at once and parametrizations vary runtime arguments rather than constexprs where they can."""
import numpy as np
import pytest

import tilec
import tilec.language as tl
from conftest import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, TOLERANCE, assert_close, is_signed, np_dtype, rand, round_to


def trunc_divmod(x, y):
    """C (and Triton) integer division: the quotient truncates toward zero."""
    x = x.astype(np.int64)
    y = y.astype(np.int64)
    q = np.sign(x) * np.sign(y) * (np.abs(x) // np.abs(y))
    return q, x - q * y


# ---- memory, program ids, creation ----

@tilec.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


@pytest.mark.parametrize("n", [1, 127, 128, 1000, 4099])
def test_load_store_masked_tail(backend, rng, n):
    x = rand(rng, n, "float32")
    y = backend.out(n + 200, "float32")
    copy_kernel[(tilec.cdiv(n, 128),)](backend.put(x), y, n, BLOCK=128)
    y = backend.get(y)
    assert_close(y[:n], x, "float32")
    assert np.isnan(y[n:]).all(), "masked-off stores wrote past n"


@tilec.jit
def load_other_kernel(x_ptr, y_ptr, n, fill, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask, other=fill))
    tl.store(y_ptr + offs + tl.num_programs(0) * BLOCK, tl.load(x_ptr + offs, mask=mask, other=-1.5))


def test_load_other(backend, rng):
    n, block = 1000, 256
    grid = tilec.cdiv(n, block)
    x = rand(rng, n, "float32")
    y = backend.out(2 * grid * block, "float32")
    load_other_kernel[(grid,)](backend.put(x), y, n, 3.25, BLOCK=block)
    y = backend.get(y).reshape(2, grid * block)
    tail = grid * block - n
    assert_close(y[0], np.concatenate([x, np.full(tail, 3.25)]), "float32", "runtime other")
    assert_close(y[1], np.concatenate([x, np.full(tail, -1.5)]), "float32", "literal other")


@tilec.jit
def grid_kernel(out_ptr):
    p0 = tl.program_id(0)
    p1 = tl.program_id(1)
    p2 = tl.program_id(axis=2)
    n0 = tl.num_programs(0)
    n1 = tl.num_programs(1)
    n2 = tl.num_programs(axis=2)
    base = out_ptr + ((p2 * n1 + p1) * n0 + p0) * 6
    tl.store(base + 0, p0)
    tl.store(base + 1, p1)
    tl.store(base + 2, p2)
    tl.store(base + 3, n0)
    tl.store(base + 4, n1)
    tl.store(base + 5, n2)


@pytest.mark.parametrize("grid", [(5,), (3, 7), (2, 3, 4), (4, 1, 3)])
def test_program_id_num_programs(backend, grid):
    g = tuple(grid) + (1,) * (3 - len(grid))
    out = backend.out(np.prod(g) * 6, "int32")
    grid_kernel[grid](out)
    out = backend.get(out).reshape(g[2], g[1], g[0], 6)
    p2, p1, p0 = np.meshgrid(np.arange(g[2]), np.arange(g[1]), np.arange(g[0]), indexing="ij")
    ref = np.stack([p0, p1, p2] + [np.full_like(p0, d) for d in g], axis=-1)
    assert_close(out, ref, "int32")


@tilec.jit
def creation_kernel(x_ptr, out_ptr, iout_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr + offs, tl.zeros([BLOCK], dtype=tl.float32) + x)
    tl.store(out_ptr + BLOCK + offs, tl.zeros_like(x) - x)
    tl.store(out_ptr + 2 * BLOCK + offs, tl.full([BLOCK], 2.5, tl.float32) * x)
    tl.store(out_ptr + 3 * BLOCK + offs, tl.full((BLOCK,), x.shape[0], dtype=tl.float32) + x)
    tl.store(iout_ptr + offs, tl.arange(0, BLOCK))
    tl.store(iout_ptr + BLOCK + offs, tl.arange(3 * BLOCK, 4 * BLOCK))
    tl.store(iout_ptr + 2 * BLOCK + offs, tl.full([BLOCK], 7, tl.int32) + tl.zeros([BLOCK], tl.int32))


def test_arange_zeros_full(backend, rng):
    b = 64
    x = rand(rng, b, "float32")
    out, iout = backend.out(4 * b, "float32"), backend.out(3 * b, "int32")
    creation_kernel[(1,)](backend.put(x), out, iout, BLOCK=b)
    assert_close(backend.get(out), np.concatenate([x, -x, 2.5 * x, b + x.astype(np.float64)]), "float32")
    assert_close(backend.get(iout), np.concatenate([np.arange(b), np.arange(3 * b, 4 * b), np.full(b, 7)]), "int32")


# ---- arithmetic, bitwise and comparison operators ----

@tilec.jit
def int_ops_kernel(x_ptr, y_ptr, k_ptr, out_ptr, cmp_ptr, s, n, SIGNED: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    y = tl.load(y_ptr + offs, mask=m)
    k = tl.load(k_ptr + offs, mask=m)
    o = out_ptr + offs
    tl.store(o, x + y, mask=m)
    tl.store(o + n, x - y, mask=m)
    tl.store(o + 2 * n, x * y, mask=m)
    tl.store(o + 3 * n, x // y, mask=m)
    tl.store(o + 4 * n, x % y, mask=m)
    tl.store(o + 5 * n, x & y, mask=m)
    tl.store(o + 6 * n, x | y, mask=m)
    tl.store(o + 7 * n, x ^ y, mask=m)
    tl.store(o + 8 * n, x << k, mask=m)
    tl.store(o + 9 * n, x >> k, mask=m)
    tl.store(o + 10 * n, -x, mask=m)
    tl.store(o + 11 * n, ~x, mask=m)
    tl.store(o + 12 * n, x * 3 + 7, mask=m)
    tl.store(o + 13 * n, x + s, mask=m)
    tl.store(o + 14 * n, s * x - y, mask=m)
    tl.store(o + 15 * n, x // s + x % s, mask=m)
    tl.store(o + 16 * n, x // 3 - x % 3, mask=m)
    if SIGNED:
        tl.store(o + 17 * n, x // -3 + 5 * (x % -3), mask=m)
    else:
        tl.store(o + 17 * n, (x >> 1) << 1, mask=m)
    c = cmp_ptr + offs
    tl.store(c, x == y, mask=m)
    tl.store(c + n, x != y, mask=m)
    tl.store(c + 2 * n, x < y, mask=m)
    tl.store(c + 3 * n, x <= y, mask=m)
    tl.store(c + 4 * n, x > y, mask=m)
    tl.store(c + 5 * n, x >= y, mask=m)
    tl.store(c + 6 * n, (x < y) and (y < k), mask=m)
    tl.store(c + 7 * n, (x < y) or not (x > k), mask=m)
    tl.store(c + 8 * n, x < y < k, mask=m)
    tl.store(c + 9 * n, x > 2, mask=m)


def int_ops_reference(x, y, k, s, dtype):
    x64, y64, k64 = (a.astype(np.int64) for a in (x, y, k))
    q, r = trunc_divmod(x64, y64)
    qs, rs = trunc_divmod(x64, np.int64(s))
    q3, r3 = trunc_divmod(x64, np.int64(3))
    if is_signed(dtype):
        qm, rm = trunc_divmod(x64, np.int64(-3))
        last = qm + 5 * rm
    else:
        last = (x64 >> 1) << 1
    # The i32 scalar s promotes narrow tiles to i32; the store truncates back, as the wrap below does.
    ops = [x64 + y64, x64 - y64, x64 * y64, q, r, x64 & y64, x64 | y64, x64 ^ y64, x64 << k64, x64 >> k64,
           -x64, ~x64, x64 * 3 + 7, x64 + s, s * x64 - y64, qs + rs, q3 - r3, last]
    cmps = [x64 == y64, x64 != y64, x64 < y64, x64 <= y64, x64 > y64, x64 >= y64, (x64 < y64) & (y64 < k64),
            (x64 < y64) | ~(x64 > k64), (x64 < y64) & (y64 < k64), x64 > 2]
    return np.stack(ops).astype(dtype), np.stack(cmps)


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_int_operators(backend, rng, dtype):
    n = 1000
    bits = np.dtype(dtype).itemsize * 8
    x, y = rand(rng, n, dtype), rand(rng, n, dtype)
    y[::5] = x[::5]  # some equal pairs for == and <=
    k = rng.integers(0, min(bits, 16), n).astype(dtype)
    s = 5
    out, cmp = backend.out((18, n), dtype), backend.out((10, n), "bool")
    int_ops_kernel[(tilec.cdiv(n, 256),)](backend.put(x), backend.put(y), backend.put(k), out, cmp, s, n,
                                          SIGNED=is_signed(dtype), BLOCK=256)
    ref, ref_cmp = int_ops_reference(x, y, k, s, dtype)
    names = "+ - * // % & | ^ << >> neg ~ lit scalar+ scalar* scalar//% lit//% neg-lit//%".split()
    out, cmp = backend.get(out), backend.get(cmp)
    for i, name in enumerate(names):
        assert_close(out[i], ref[i], dtype, f"{dtype} {name}")
    for i, name in enumerate("== != < <= > >= and or chained lit>".split()):
        assert_close(cmp[i], ref_cmp[i], "bool", f"{dtype} {name}")


@tilec.jit
def float_ops_kernel(x_ptr, y_ptr, out_ptr, cmp_ptr, s, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    y = tl.load(y_ptr + offs, mask=m)
    o = out_ptr + offs
    tl.store(o, x + y, mask=m)
    tl.store(o + n, x - y, mask=m)
    tl.store(o + 2 * n, x * y, mask=m)
    tl.store(o + 3 * n, x / y, mask=m)
    tl.store(o + 4 * n, x // y, mask=m)
    tl.store(o + 5 * n, x % y, mask=m)
    tl.store(o + 6 * n, -x, mask=m)
    tl.store(o + 7 * n, x * s + 1.5, mask=m)
    tl.store(o + 8 * n, s - x / 2, mask=m)
    tl.store(o + 9 * n, 3 * x - y * 0.25, mask=m)
    c = cmp_ptr + offs
    tl.store(c, x == y, mask=m)
    tl.store(c + n, x != y, mask=m)
    tl.store(c + 2 * n, x < y, mask=m)
    tl.store(c + 3 * n, x <= y, mask=m)
    tl.store(c + 4 * n, x > y, mask=m)
    tl.store(c + 5 * n, x >= y, mask=m)
    tl.store(c + 6 * n, not (x < 0.5), mask=m)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_float_operators(backend, rng, dtype):
    n = 1000
    y = rand(rng, n, dtype, 0.5, 2.0) * np.where(rng.random(n) < 0.5, -1, 1).astype(np_dtype(dtype))
    # Quotients x / y stay away from integers, so // and % do not depend on the last bit of rounding.
    u = rng.integers(-3, 4, n) + rng.uniform(0.2, 0.8, n)
    u[::5] = 1.0  # some x == y
    x = round_to(y.astype(np.float64) * u, dtype)
    s = -1.75
    out, cmp = backend.out((10, n), dtype), backend.out((7, n), "bool")
    float_ops_kernel[(tilec.cdiv(n, 256),)](backend.put(x, dtype), backend.put(y, dtype), out, cmp, s, n, BLOCK=256)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    ref = [x64 + y64, x64 - y64, x64 * y64, x64 / y64, np.floor(x64 / y64), np.fmod(x64, y64), -x64,
           x64 * s + 1.5, s - x64 / 2, 3 * x64 - y64 * 0.25]
    out, cmp = backend.get(out), backend.get(cmp)
    for i, name in enumerate("+ - * / // % neg scalar* scalar- literals".split()):
        assert_close(out[i], ref[i], dtype, f"{dtype} {name}")
    ref_cmp = [x64 == y64, x64 != y64, x64 < y64, x64 <= y64, x64 > y64, x64 >= y64, ~(x64 < 0.5)]
    for i, name in enumerate("== != < <= > >= not".split()):
        assert_close(cmp[i], ref_cmp[i], "bool", f"{dtype} {name}")



# ---- math functions and elementwise helpers ----

MATH_NAMES = ("exp exp2 log log2 sqrt rsqrt abs sin cos sigmoid erf floor ceil maximum minimum fma clamp "
              "where methods pymin-pymax").split()


@tilec.jit
def math_kernel(x_ptr, p_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    p = tl.load(p_ptr + offs, mask=m)  # positive, for log/sqrt/rsqrt
    y = tl.load(y_ptr + offs, mask=m)
    o = out_ptr + offs
    tl.store(o, tl.exp(x), mask=m)
    tl.store(o + n, tl.exp2(x), mask=m)
    tl.store(o + 2 * n, tl.log(p), mask=m)
    tl.store(o + 3 * n, tl.log2(p), mask=m)
    tl.store(o + 4 * n, tl.sqrt(p), mask=m)
    tl.store(o + 5 * n, tl.rsqrt(p), mask=m)
    tl.store(o + 6 * n, tl.abs(x), mask=m)
    tl.store(o + 7 * n, tl.sin(x), mask=m)
    tl.store(o + 8 * n, tl.cos(x), mask=m)
    tl.store(o + 9 * n, tl.sigmoid(x), mask=m)
    tl.store(o + 10 * n, tl.erf(x), mask=m)
    tl.store(o + 11 * n, tl.floor(x * 3), mask=m)
    tl.store(o + 12 * n, tl.ceil(x * 3), mask=m)
    tl.store(o + 13 * n, tl.maximum(x, y), mask=m)
    tl.store(o + 14 * n, tl.minimum(x, y), mask=m)
    tl.store(o + 15 * n, tl.fma(x, y, p), mask=m)
    tl.store(o + 16 * n, tl.clamp(x, -0.5, y.abs() + 0.25), mask=m)
    tl.store(o + 17 * n, tl.where(x > y, x, p), mask=m)
    tl.store(o + 18 * n, x.exp() - p.sqrt(), mask=m)
    tl.store(o + 19 * n, min(x, y, 0.5) + max(x, -1.0), mask=m)


def erf(x):
    # Abramowitz-Stegun 7.1.26 is too coarse for fp64; math.erf is exact to the last bit.
    import math
    return np.vectorize(math.erf)(x)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_math_functions(backend, rng, dtype):
    n = 777
    x, y = rand(rng, n, dtype), rand(rng, n, dtype)
    p = rand(rng, n, dtype, 0.1, 4.0)
    # floor/ceil of 3x: keep 3x away from integers so rounding of the product cannot move them.
    x = round_to(np.where(np.abs(3 * x - np.round(3 * x)) < 0.05, x + 0.04, x), dtype)
    out = backend.out((20, n), dtype)
    math_kernel[(tilec.cdiv(n, 128),)](backend.put(x, dtype), backend.put(p, dtype), backend.put(y, dtype), out, n,
                                      BLOCK=128)
    x, y, p = (a.astype(np.float64) for a in (x, y, p))
    ref = [np.exp(x), np.exp2(x), np.log(p), np.log2(p), np.sqrt(p), 1 / np.sqrt(p), np.abs(x), np.sin(x), np.cos(x),
           1 / (1 + np.exp(-x)), erf(x), np.floor(x * 3), np.ceil(x * 3), np.maximum(x, y), np.minimum(x, y),
           x * y + p, np.minimum(np.maximum(x, -0.5), np.abs(y) + 0.25), np.where(x > y, x, p), np.exp(x) - np.sqrt(p),
           np.minimum(np.minimum(x, y), 0.5) + np.maximum(x, -1.0)]
    out = backend.get(out)
    for i, name in enumerate(MATH_NAMES):
        assert_close(out[i], ref[i], dtype, f"{dtype} {name}")


@tilec.jit
def int_minmax_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    y = tl.load(y_ptr + offs, mask=m)
    o = out_ptr + offs
    tl.store(o, tl.maximum(x, y), mask=m)
    tl.store(o + n, tl.minimum(x, y), mask=m)
    tl.store(o + 2 * n, tl.clamp(x, y - 3, y + 3), mask=m)
    tl.store(o + 3 * n, tl.abs(x), mask=m)
    tl.store(o + 4 * n, tl.where(x < y, x, y * 2), mask=m)
    tl.store(o + 5 * n, tl.cdiv(tl.abs(x), 7), mask=m)


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint16", "uint32"])
def test_int_elementwise(backend, rng, dtype):
    n = 300
    x, y = rand(rng, n, dtype), rand(rng, n, dtype, 10 if not is_signed(dtype) else None)
    out = backend.out((6, n), dtype)
    int_minmax_kernel[(tilec.cdiv(n, 128),)](backend.put(x), backend.put(y), out, n, BLOCK=128)
    x64, y64 = x.astype(np.int64), y.astype(np.int64)
    ref = [np.maximum(x64, y64), np.minimum(x64, y64), np.clip(x64, y64 - 3, y64 + 3), np.abs(x64),
           np.where(x64 < y64, x64, 2 * y64), (np.abs(x64) + 6) // 7]
    out = backend.get(out)
    for i, name in enumerate("maximum minimum clamp abs where cdiv".split()):
        assert_close(out[i], ref[i], dtype, f"{dtype} {name}")


# ---- dtypes and casts ----

CAST_DESTS = [d for d in ALL_DTYPES if d != "bfloat16"]


@tilec.jit
def cast_kernel(x_ptr, i8, i16, i32, i64, u8, u16, u32, u64, f16, f32, f64, b1, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    tl.store(i8 + offs, x.to(tl.int8), mask=m)
    tl.store(i16 + offs, x.to(tl.int16), mask=m)
    tl.store(i32 + offs, tl.cast(x, tl.int32), mask=m)
    tl.store(i64 + offs, x.to(i64.dtype.element_ty), mask=m)
    tl.store(u8 + offs, x.to(tl.uint8), mask=m)
    tl.store(u16 + offs, x.to(tl.uint16), mask=m)
    tl.store(u32 + offs, x.to(tl.uint32), mask=m)
    tl.store(u64 + offs, x.to(tl.uint64), mask=m)
    tl.store(f16 + offs, x.to(tl.float16), mask=m)
    tl.store(f32 + offs, tl.float32(x), mask=m)
    tl.store(f64 + offs, x.to(tl.float64), mask=m)
    tl.store(b1 + offs, x.to(tl.int1), mask=m)


def cast_reference(x, dest):
    if dest == "bool":
        return x != 0
    if np.issubdtype(x.dtype, np.floating) and dest not in ("float16", "float32", "float64"):
        return np.trunc(x.astype(np.float64)).astype(np.int64).astype(dest)
    return x.astype(np.float64 if x.dtype.kind == "f" else x.dtype).astype(dest)


@pytest.mark.parametrize("src", [d for d in ALL_DTYPES])
def test_casts(backend, rng, src):
    n = 200
    if src == "bool":
        x = rand(rng, n, src)
    elif src in FLOAT_DTYPES:
        # Conversions of floats to ints are defined only in range: stay within [0, 127).
        x = round_to(rng.uniform(0, 126, n), src)
    else:
        lo, hi = (-100, 100) if is_signed(src) else (0, 200)
        x = rng.integers(lo, hi, n).astype(src)
    outs = [backend.out(n, d) for d in CAST_DESTS]
    cast_kernel[(tilec.cdiv(n, 64),)](backend.put(x, src), *outs, n, BLOCK=64)
    for d, o in zip(CAST_DESTS, outs):
        ref = cast_reference(np.asarray(x), d)
        assert_close(backend.get(o), ref, d if d in ("float16", "float32", "float64") else "exact", f"{src} -> {d}")
    if src in FLOAT_DTYPES:
        # Negative floats truncate toward zero into the signed types.
        neg = round_to(rng.uniform(-100, -0.5, n), src)
        cast_kernel[(tilec.cdiv(n, 64),)](backend.put(neg, src), *outs, n, BLOCK=64)
        for d, o in zip(CAST_DESTS, outs):
            if d.startswith("int") or d.startswith("float") or d == "bool":
                assert_close(backend.get(o), cast_reference(np.asarray(neg), d),
                             d if d.startswith("float") else "exact", f"{src} -> {d} (negative)")


@tilec.jit
def bf16_kernel(x_ptr, y_ptr, b_ptr, f_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    tl.store(b_ptr + offs, x.to(tl.bfloat16), mask=m)
    y = tl.load(y_ptr + offs, mask=m)
    tl.store(f_ptr + offs, (y + y.to(tl.float16)).to(tl.float32), mask=m)


def test_bfloat16_casts(backend, rng):
    n = 300
    x = rand(rng, n, "float32")
    y = rand(rng, n, "bfloat16")
    b, f = backend.out(n, "bfloat16"), backend.out(n, "float32")
    bf16_kernel[(tilec.cdiv(n, 128),)](backend.put(x), backend.put(y, "bfloat16"), b, f, n, BLOCK=128)
    # Round-to-nearest-even into bf16 is exact against the host rounding.
    assert_close(backend.get(b), round_to(x, "bfloat16"), "exact", "fp32 -> bf16")
    # bf16 + fp16 promotes to fp32.
    assert_close(backend.get(f), 2 * y.astype(np.float64), "float16", "bf16 + fp16")


# ---- broadcasting and shape operations ----

@tilec.jit
def shapes_kernel(x_ptr, y_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr):
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    x = tl.load(x_ptr + rm)  # [M]
    y = tl.load(y_ptr + rn)  # [N]
    grid = rm[:, None] * N + rn[None, :]
    size = M * N
    tl.store(out_ptr + grid, x[:, None] + y[None, :])
    tl.store(out_ptr + size + grid, tl.broadcast_to(x[:, None], (M, N)) * tl.expand_dims(y, 0))
    tl.store(out_ptr + 2 * size + grid, tl.expand_dims(x, 1) - y)
    xy = x[:, None] * 10 + y[None, :]
    # reshape/view keep the row-major order: reading them back at the same flat offsets is the identity.
    tl.store(out_ptr + 3 * size + tl.arange(0, M * N), tl.reshape(xy, (M * N,)))
    tl.store(out_ptr + 4 * size + grid, tl.reshape(tl.reshape(xy, (N, M)), [M, N]) + 1)
    tl.store(out_ptr + 5 * size + rn[:, None] * M + rm[None, :], tl.trans(xy))
    tl.store(out_ptr + 6 * size + rn[:, None] * M + rm[None, :], xy.T * 2)
    tl.store(out_ptr + 7 * size + rn[:, None] * M + rm[None, :], tl.permute(xy, (1, 0)) - 1)
    t3 = tl.reshape(xy, (M, N // 2, 2))  # [M, N/2, 2] -> [2, M, N/2]
    r2 = tl.arange(0, 2)
    p = tl.permute(t3, (2, 0, 1))
    offs3 = r2[:, None, None] * (M * (N // 2)) + rm[None, :, None] * (N // 2) + tl.arange(0, N // 2)[None, None, :]
    tl.store(out_ptr + 8 * size + offs3, p)
    tl.store(out_ptr + 9 * size + grid, x[:, None] + 0 * xy)


def test_broadcast_and_shapes(backend, rng):
    m, n = 8, 16
    x, y = rand(rng, m, "float32"), rand(rng, n, "float32")
    out = backend.out((10, m, n), "float32")
    shapes_kernel[(1,)](backend.put(x), backend.put(y), out, M=m, N=n)
    out = backend.get(out)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    xy = x64[:, None] * 10 + y64[None, :]
    ref = [x64[:, None] + y64, x64[:, None] * y64, x64[:, None] - y64, xy, xy + 1, xy.T.reshape(m, n),
           (2 * xy.T).reshape(m, n), (xy.T - 1).reshape(m, n),
           xy.reshape(m, n // 2, 2).transpose(2, 0, 1).reshape(m, n), np.broadcast_to(x64[:, None], (m, n))]
    for i, name in enumerate("outer-add broadcast_to expand_dims reshape reshape2 trans .T permute permute3 bcast".split()):
        assert_close(out[i], ref[i], "float32", name)


@tilec.jit
def broadcast3_kernel(x_ptr, out_ptr, n_valid, A: tl.constexpr, B: tl.constexpr, C: tl.constexpr):
    ra, rb, rc = tl.arange(0, A), tl.arange(0, B), tl.arange(0, C)
    xa = tl.load(x_ptr + ra)
    xc = tl.load(x_ptr + A + rc)
    xac = tl.load(x_ptr + A + C + ra[:, None] * C + rc[None, :])
    offs = ra[:, None, None] * (B * C) + rb[None, :, None] * C + rc[None, None, :]
    size = A * B * C
    tl.store(out_ptr + offs, xac[:, None, :] + 0.5 * rb[None, :, None])  # the middle dim
    tl.store(out_ptr + size + offs, tl.broadcast_to(xa[:, None, None], (A, B, C)) * xc[None, None, :])  # outer and inner
    tl.store(out_ptr + 2 * size + offs, tl.exp(xa)[:, None, None] + tl.broadcast_to(tl.exp(xc)[None, None, :], (A, B, C)))
    # Broadcast masks and pointers: rows of xac repeated along B, masked on (b, c).
    m = (rb[None, :, None] < n_valid) & (rc[None, None, :] >= 1)
    p = x_ptr + A + C + ra[:, None, None] * C + rc[None, None, :]
    tl.store(out_ptr + 3 * size + offs, tl.load(p, mask=m, other=-1.0))


# Each kind of broadcast in 3-D, with a last dim of whole vectors (16) and one shorter than a vector (4).
@pytest.mark.parametrize("a,b,c", [(4, 8, 16), (2, 16, 4)])
def test_broadcast_3d(backend, rng, a, b, c):
    x = rand(rng, a + c + a * c, "float32")
    out = backend.out((4, a, b, c), "float32")
    n_valid = b - 3
    broadcast3_kernel[(1,)](backend.put(x), out, n_valid, A=a, B=b, C=c)
    out = backend.get(out)
    x64 = x.astype(np.float64)
    xa, xc, xac = x64[:a], x64[a:a + c], x64[a + c:].reshape(a, c)
    rb = np.arange(b, dtype=np.float64)
    m = (np.arange(b)[None, :, None] < n_valid) & (np.arange(c)[None, None, :] >= 1)
    ref = [xac[:, None, :] + 0.5 * rb[None, :, None], np.broadcast_to(xa[:, None, None] * xc[None, None, :], (a, b, c)),
           np.broadcast_to(np.exp(xa)[:, None, None] + np.exp(xc)[None, None, :], (a, b, c)),
           np.where(m, np.broadcast_to(xac[:, None, :], (a, b, c)), -1.0)]
    for i, name in enumerate("middle outer-inner heavy masked-load".split()):
        assert_close(out[i], ref[i], "float32", name)


# ---- reductions and scans ----

@tilec.jit
def reduce_kernel(x_ptr, out_ptr, idx_ptr, M: tl.constexpr, N: tl.constexpr):
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    x = tl.load(x_ptr + rm[:, None] * N + rn[None, :])
    # out rows: sum, max, min over axis 0 (N values each), then over axis 1 (M values), then axis=None.
    tl.store(out_ptr + rn, tl.sum(x, axis=0))
    tl.store(out_ptr + N + rn, tl.max(x, axis=0))
    tl.store(out_ptr + 2 * N + rn, tl.min(x, 0))
    tl.store(out_ptr + 3 * N + rm, tl.sum(x, axis=1))
    tl.store(out_ptr + 3 * N + M + rm, x.max(axis=1))
    tl.store(out_ptr + 3 * N + 2 * M + rm, tl.min(x, axis=1))
    base = 3 * N + 3 * M
    tl.store(out_ptr + base, tl.sum(x))
    tl.store(out_ptr + base + 1, tl.max(x, axis=None))
    tl.store(out_ptr + base + 2, x.min())
    kd = tl.sum(x, axis=1, keep_dims=True)  # [M, 1]
    tl.store(out_ptr + base + 3 + rm[:, None] + 0 * rn[None, :], kd + 0 * x)
    tl.store(out_ptr + base + 3 + M + rn[None, :], tl.max(x, axis=0, keep_dims=True))
    tl.store(idx_ptr + rn, tl.argmax(x, axis=0))
    tl.store(idx_ptr + N + rn, tl.argmin(x, axis=0))
    tl.store(idx_ptr + 2 * N + rm, tl.argmax(x, axis=1))
    tl.store(idx_ptr + 2 * N + M + rm, tl.argmin(x, 1))
    mx, imx = tl.max(x, axis=1, return_indices=True)
    tl.store(out_ptr + base + 3 + M + N + rm, mx)
    tl.store(idx_ptr + 2 * N + 2 * M + rm, imx)
    tl.store(idx_ptr + 2 * N + 3 * M, tl.argmax(x, axis=None))
    tl.store(idx_ptr + 2 * N + 3 * M + 1, tl.argmin(tl.reshape(x, (M * N,)), axis=0))


@pytest.mark.parametrize("dtype", ["float32", "int32", "float16", "int8", "uint16"])
def test_reductions(backend, rng, dtype):
    m, n = 16, 32
    if dtype in FLOAT_DTYPES:
        x = rand(rng, (m, n), dtype)
    else:
        # Few distinct values: ties, which argmax/argmin break toward the lowest index.
        x = rng.integers(1, 6, (m, n)).astype(dtype)
        if is_signed(dtype):
            x = (x - 3).astype(dtype)
    out_dtype = dtype if dtype in FLOAT_DTYPES or np.dtype(dtype).itemsize >= 4 else "int32"
    base = 3 * n + 3 * m
    out = backend.out(base + 3 + 2 * m + n, out_dtype)
    idx = backend.out(2 * n + 3 * m + 2, "int32")
    reduce_kernel[(1,)](backend.put(x, dtype), out, idx, M=m, N=n)
    x64 = x.astype(np.float64 if dtype in FLOAT_DTYPES else np.int64)
    ref = np.concatenate([x64.sum(0), x64.max(0), x64.min(0), x64.sum(1), x64.max(1), x64.min(1),
                          [x64.sum(), x64.max(), x64.min()], x64.sum(1), x64.max(0), x64.max(1)])
    ref_idx = np.concatenate([x64.argmax(0), x64.argmin(0), x64.argmax(1), x64.argmin(1), x64.argmax(1),
                              [x64.argmax(), x64.argmin()]])
    out, idx = backend.get(out), backend.get(idx)
    tol = out_dtype if dtype in FLOAT_DTYPES else "exact"
    # fp16 sums round at every step: compare the sums with the relative tolerance, the rest exactly.
    assert_close(out, ref, tol, f"{dtype} reductions")
    assert_close(idx, ref_idx, "exact", f"{dtype} argmax/argmin")


@tilec.jit
def cumsum_kernel(x_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr):
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    offs = rm[:, None] * N + rn[None, :]
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr + offs, tl.cumsum(x, axis=0))
    tl.store(out_ptr + M * N + offs, tl.cumsum(x, axis=1))
    tl.store(out_ptr + 2 * M * N + rn, tl.cumsum(tl.load(x_ptr + rn)))


@pytest.mark.parametrize("dtype", ["float32", "int32", "int8"])
def test_cumsum(backend, rng, dtype):
    m, n = 8, 64
    x = rand(rng, (m, n), dtype)
    out_dtype = "int32" if dtype == "int8" else dtype
    out = backend.out(2 * m * n + n, out_dtype)
    cumsum_kernel[(1,)](backend.put(x), out, M=m, N=n)
    x64 = x.astype(np.float64 if dtype == "float32" else np.int64)
    ref = np.concatenate([np.cumsum(x64, 0).ravel(), np.cumsum(x64, 1).ravel(), np.cumsum(x64[0])])
    assert_close(backend.get(out), ref, dtype if dtype == "float32" else "exact", f"{dtype} cumsum")


@tilec.jit
def long_scan_kernel(x_ptr, y_ptr, out_ptr, prod_ptr, N: tl.constexpr, M: tl.constexpr, K: tl.constexpr):
    # Rows longer than one warp's lanes (the GPU carries run totals across warps and register chunks).
    rn = tl.arange(0, N)
    x = tl.load(x_ptr + rn)
    tl.store(out_ptr + rn, tl.cumsum(x))
    tl.store(out_ptr + N + rn, tl.cumsum(x, reverse=True))
    offs = tl.arange(0, M)[:, None] * K + tl.arange(0, K)[None, :]
    tl.store(prod_ptr + offs, tl.cumprod(tl.load(y_ptr + offs), axis=1))


@pytest.mark.parametrize("n", [64, 2048])
def test_long_cumsum_cumprod(backend, rng, n):
    m, k = 4, 256
    x = rng.integers(-1000, 1000, n).astype(np.int32)
    y = rng.uniform(0.98, 1.02, (m, k)).astype(np.float32)
    out, prod = backend.out(2 * n, "int32"), backend.out(m * k, "float32")
    long_scan_kernel[(1,)](backend.put(x), backend.put(y), out, prod, N=n, M=m, K=k)
    ref = np.concatenate([np.cumsum(x.astype(np.int64)), np.cumsum(x[::-1].astype(np.int64))[::-1]])
    assert_close(backend.get(out), ref, "exact", "cumsum")
    assert_close(backend.get(prod), np.cumprod(y.astype(np.float64), 1).ravel(), "float32", "cumprod")


# ---- dot ----

@tilec.jit
def dot_kernel(a_ptr, b_ptr, c_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr,
               PRECISION: tl.constexpr, ACC: tl.constexpr):
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    rk = tl.arange(0, K)
    a = tl.load(a_ptr + rm[:, None] * K + rk[None, :])
    b = tl.load(b_ptr + rk[:, None] * N + rn[None, :])
    offs = rm[:, None] * N + rn[None, :]
    if ACC:
        tl.store(out_ptr + offs, tl.dot(a, b, acc=tl.load(c_ptr + offs), input_precision=PRECISION))
    else:
        tl.store(out_ptr + offs, tl.dot(a, b, input_precision=PRECISION))


@pytest.mark.parametrize("dtype,precision,shape,acc", [
    ("float32", "ieee", (16, 16, 16), True),
    ("float32", "ieee", (32, 64, 16), False),
    ("float32", None, (64, 32, 64), True),
    ("float16", None, (16, 32, 64), False),
    ("float16", None, (64, 64, 32), True),
    ("bfloat16", None, (32, 16, 32), True),
    ("bfloat16", None, (64, 128, 64), True),  # whole 32 x 32 x 32 blocks: AMX where the host has it
])
def test_dot(backend, rng, dtype, precision, shape, acc):
    m, n, k = shape
    a, b = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    c = rand(rng, (m, n), "float32")
    out = backend.out((m, n), "float32")
    dot_kernel[(1,)](backend.put(a, dtype), backend.put(b, dtype), backend.put(c), out, M=m, N=n, K=k,
                     PRECISION=precision, ACC=acc)
    ref = a.astype(np.float64) @ b.astype(np.float64) + (c if acc else 0)
    # fp16/bf16 inputs are exact in fp32 products; only tf32 rounds the fp32 inputs.
    assert_close(backend.get(out), ref, "float32" if precision == "ieee" or dtype != "float32" else "tf32")


@tilec.jit
def two_dots_kernel(a_ptr, b_ptr, out_ptr, M: tl.constexpr):
    r = tl.arange(0, M)
    offs = r[:, None] * M + r[None, :]
    a = tl.load(a_ptr + offs)
    b = tl.load(b_ptr + offs)
    tl.store(out_ptr + offs, tl.dot(a, b))
    tl.store(out_ptr + M * M + offs, tl.dot(a, b, acc=tl.full([M, M], 1.0, tl.float32)))


def test_two_fp16_dots_on_same_operands(rng):
    a, b = rand(rng, (16, 16), "float16"), rand(rng, (16, 16), "float16")
    out = np.full((2, 16, 16), np.nan, np.float32)
    two_dots_kernel[(1,)](a, b, out, M=16)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    assert_close(out, np.stack([ref, ref + 1]), "float32")


# ---- atomics ----

@tilec.jit
def histogram_kernel(keys_ptr, hist_ptr, n, num_bins, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    keys = tl.load(keys_ptr + offs, mask=mask, other=0)
    tl.atomic_add(hist_ptr + keys, 1, mask=mask & (keys >= 0) & (keys < num_bins))


def test_atomic_add_histogram(backend, rng):
    n, bins = 5000, 37
    keys = rng.integers(-5, bins + 5, n).astype(np.int32)  # some keys out of range: masked off
    hist = backend.put(np.zeros(bins, np.int32))
    histogram_kernel[(tilec.cdiv(n, 256),)](backend.put(keys), hist, n, bins, BLOCK=256)
    ref = np.bincount(keys[(keys >= 0) & (keys < bins)], minlength=bins)
    assert_close(backend.get(hist), ref, "exact")


@tilec.jit
def atomics_kernel(counter_ptr, tickets_ptr, fsum_ptr, vals_ptr, imax_ptr, imin_ptr, fmax_ptr, fmin_ptr, xchg_ptr,
                   old_ptr, lock_ptr, winner_ptr, n, NBINS: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    # A scalar atomic per program returns a distinct ticket to each.
    tl.store(tickets_ptr + pid, tl.atomic_add(counter_ptr, 1))
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    v = tl.load(vals_ptr + offs, mask=mask)
    bins = offs % NBINS
    tl.atomic_add(fsum_ptr + bins, v, mask=mask)
    tl.atomic_max(imax_ptr + bins, (v * 100).to(tl.int32), mask=mask)
    tl.atomic_min(imin_ptr + bins, (v * 100).to(tl.int32), mask=mask)
    tl.atomic_max(fmax_ptr + bins, v, mask=mask)
    tl.atomic_min(fmin_ptr + bins, v, mask=mask)
    # Each element swaps its own value in and gets the initial one back.
    tl.store(old_ptr + offs, tl.atomic_xchg(xchg_ptr + offs, v, mask=mask), mask=mask)
    # Exactly one program takes the lock; everyone records what it saw.
    tl.store(winner_ptr + pid, tl.atomic_cas(lock_ptr, 0, pid + 1))


def test_atomics(backend, rng):
    n, block, nbins = 3000, 128, 16
    grid = tilec.cdiv(n, block)
    vals = rand(rng, n, "float32")
    zeros_i, zeros_f = np.zeros(nbins, np.int32), np.zeros(nbins, np.float32)
    counter, tickets = backend.put(np.zeros(1, np.int32)), backend.out(grid, "int32")
    fsum = backend.put(zeros_f)
    imax, imin = backend.put(zeros_i - 1000), backend.put(zeros_i + 1000)
    fmax, fmin = backend.put(zeros_f - 10), backend.put(zeros_f + 10)
    init = rand(rng, n, "float32")
    xchg, old = backend.put(init), backend.out(n, "float32")
    lock, winner = backend.put(np.zeros(1, np.int32)), backend.out(grid, "int32")
    atomics_kernel[(grid,)](counter, tickets, fsum, backend.put(vals), imax, imin, fmax, fmin, xchg, old, lock, winner, n,
                            NBINS=nbins, BLOCK=block)
    bins = np.arange(n) % nbins
    v64 = vals.astype(np.float64)
    iv = np.trunc(vals * np.float32(100)).astype(np.int32)
    assert backend.get(counter)[0] == grid
    assert sorted(backend.get(tickets).tolist()) == list(range(grid))
    assert_close(backend.get(fsum), np.bincount(bins, weights=v64, minlength=nbins), "float32", "atomic_add fp32")
    assert_close(backend.get(imax), [iv[bins == b].max() for b in range(nbins)], "exact", "atomic_max i32")
    assert_close(backend.get(imin), [iv[bins == b].min() for b in range(nbins)], "exact", "atomic_min i32")
    assert_close(backend.get(fmax), [v64[bins == b].max() for b in range(nbins)], "float32", "atomic_max fp32")
    assert_close(backend.get(fmin), [v64[bins == b].min() for b in range(nbins)], "float32", "atomic_min fp32")
    assert_close(backend.get(xchg), vals, "float32", "atomic_xchg new")
    assert_close(backend.get(old), init, "float32", "atomic_xchg old")
    won, seen = backend.get(lock)[0], backend.get(winner)
    assert 1 <= won <= grid
    assert (seen == 0).sum() == 1 and seen[won - 1] == 0, "exactly the winner saw the lock free"
    assert (seen[seen != 0] == won).all()


# ---- hints ----

@tilec.jit
def hinted_add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    start = tl.multiple_of(tl.program_id(0) * BLOCK, BLOCK)
    offs = tl.max_contiguous(tl.multiple_of(start + tl.arange(0, BLOCK), BLOCK), BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)


def test_hints_do_not_change_results(backend, rng):
    n = 1000
    x, y = rand(rng, n, "float32"), rand(rng, n, "float32")
    out = backend.out(n + 24, "float32")
    hinted_add_kernel[(tilec.cdiv(n, 64),)](backend.put(x), backend.put(y), out, n, BLOCK=64)
    out = backend.get(out)
    assert_close(out[:n], x.astype(np.float64) + y, "float32")
    assert np.isnan(out[n:]).all()


# ---- control flow, helpers, compile-time evaluation ----

@tilec.jit
def _scaled(x, factor: tl.constexpr, bias):
    if factor == 1:
        return x + bias
    return x * factor + bias


@tilec.jit
def _row_sum(ptr, n, BLOCK: tl.constexpr):
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    for start in range(0, n, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        acc += tl.load(ptr + offs, mask=offs < n, other=0.0)
    return tl.sum(acc, axis=0)


@tilec.jit
def control_kernel(x_ptr, out_ptr, n, steps, flag, MODE: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    # static_range unrolls: acc = x * (1 + 2 + 3)
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    for i in tl.static_range(1, 4):
        acc += x * i
    tl.store(out_ptr + offs, acc)
    # runtime range with a step and a loop-carried tile and scalar
    acc2 = tl.zeros_like(x)
    count = 0
    for i in tl.range(2, steps, 3):
        acc2 = acc2 + x * i
        count += 1
    tl.store(out_ptr + BLOCK + offs, acc2 + count)
    # while with a loop-carried scalar
    k = 0
    total = x
    while k < steps:
        total = total * 0.5 + 1.0
        k += 2
    tl.store(out_ptr + 2 * BLOCK + offs, total)
    # runtime if/elif/else on a scalar
    if flag > 0:
        y = x + 1.0
    elif flag == 0:
        y = x - 1.0
    else:
        y = -x
    tl.store(out_ptr + 3 * BLOCK + offs, y)
    # constexpr if: only the taken branch is compiled
    if MODE == "double":
        z = x * 2
    else:
        z = x + 100.0
    tl.store(out_ptr + 4 * BLOCK + offs, z)
    # helpers inline with constexpr arguments
    tl.store(out_ptr + 5 * BLOCK + offs, _scaled(x, 3, 0.5) + _scaled(x, 1, 2.0))
    tl.store(out_ptr + 6 * BLOCK + offs, x * 0 + _row_sum(x_ptr, n, 32))
    # Python builtins on constexprs and a conditional expression
    tl.store(out_ptr + 7 * BLOCK + offs, x + min(BLOCK, 7) - max(2, 3) + (1.0 if MODE == "double" else -1.0))
    tl.store(out_ptr + 8 * BLOCK + offs, x if flag > 0 else x * 3)


@pytest.mark.parametrize("steps,flag", [(11, 1), (4, 0), (0, -3)])
def test_control_flow_and_helpers(backend, rng, steps, flag):
    block, n = 64, 50
    x = rand(rng, block, "float32")
    out = backend.out((9, block), "float32")
    control_kernel[(1,)](backend.put(x), out, n, steps, flag, MODE="double", BLOCK=block)
    x64 = x.astype(np.float64)
    rng_vals = list(range(2, steps, 3))
    total = x64.copy()
    for _ in range(0, steps, 2):
        total = total * 0.5 + 1.0
    y = x64 + 1 if flag > 0 else x64 - 1 if flag == 0 else -x64
    ref = [6 * x64, x64 * sum(rng_vals) + len(rng_vals), total, y, 2 * x64, (3 * x64 + 0.5) + (x64 + 2.0),
           np.full(block, x64[:n].sum()), x64 + 7 - 3 + 1.0, x64 if flag > 0 else 3 * x64]
    out = backend.get(out)
    for i, name in enumerate("static_range range while if constexpr-if helpers helper-loop builtins ternary".split()):
        assert_close(out[i], ref[i], "float32", name)


def test_constexpr_else_branch(backend, rng):
    x = rand(rng, 64, "float32")
    out = backend.out((9, 64), "float32")
    control_kernel[(1,)](backend.put(x), out, 50, 3, 2, MODE="other", BLOCK=64)
    out = backend.get(out)
    assert_close(out[4], x.astype(np.float64) + 100.0, "float32", "constexpr else")
    assert_close(out[7], x.astype(np.float64) + 7 - 3 - 1.0, "float32", "conditional expression")


@tilec.jit
def static_assert_kernel(x_ptr, BLOCK: tl.constexpr):
    tl.static_assert(BLOCK % 16 == 0, "BLOCK must be a multiple of 16")
    tl.store(x_ptr + tl.arange(0, BLOCK), tl.zeros([BLOCK], dtype=tl.float32))


def test_static_assert(backend):
    x = backend.out(64, "float32")
    static_assert_kernel[(1,)](x, BLOCK=32)
    assert (backend.get(x)[:32] == 0).all() and np.isnan(backend.get(x)[32:]).all()
    with pytest.raises(tilec.CompileError, match="static assertion failed: BLOCK must be a multiple of 16"):
        static_assert_kernel[(1,)](x, BLOCK=8)
