"""The tl functions tilec builds in its standard library (tilec/standard_library.cpp) against NumPy,
on the `backend` fixture with poisoned outputs: tl.sort, tl.topk, tl.gather, tl.histogram, tl.reduce
and tl.associative_scan with @jit combine functions (one and two tiles, every axis, keep_dims,
reverse), tl.reduce_or, tl.interleave, tl.cat, tl.ravel, tl.softmax, tl.swizzle2d; the tensor
method forms; Triton names tilec lacks fail at compile time, naming the function."""
import numpy as np
import pytest

import tilec
import tilec.language as tl
from conftest import assert_close, rand


def grid2(m, n):
    return tl.arange(0, m)[:, None] * n + tl.arange(0, n)[None, :]


# ---- sort, topk ----

@tilec.jit
def sort_kernel(x_ptr, out_ptr, top_ptr, M: tl.constexpr, N: tl.constexpr, DESC: tl.constexpr, K: tl.constexpr):
    offs = tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :]
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr + offs, tl.sort(x, descending=DESC))
    top_offs = tl.arange(0, M)[:, None] * K + tl.arange(0, K)[None, :]
    tl.store(top_ptr + top_offs, x.topk(K))


@pytest.mark.parametrize("dtype", ["float32", "int32", "int8", "float16"])
@pytest.mark.parametrize("desc", [False, True])
def test_sort_topk(backend, rng, dtype, desc):
    m, n, k = 4, 64, 8
    x = rand(rng, (m, n), dtype)
    x[0, :8] = x[0, 0]  # ties
    out, top = backend.out((m, n), dtype), backend.out((m, k), dtype)
    sort_kernel[(1,)](backend.put(x), out, top, M=m, N=n, DESC=desc, K=k)
    ref = np.sort(x, axis=1)
    np.testing.assert_array_equal(backend.get(out), ref[:, ::-1] if desc else ref)
    np.testing.assert_array_equal(backend.get(top), np.sort(x, axis=1)[:, ::-1][:, :k])


@tilec.jit
def sort_1d_kernel(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs).sort())


@pytest.mark.parametrize("n", [1, 2, 128])
def test_sort_1d(backend, rng, n):
    x = rand(rng, n, "float32")
    out = backend.out(n, "float32")
    sort_1d_kernel[(1,)](backend.put(x), out, N=n)
    np.testing.assert_array_equal(backend.get(out), np.sort(x))


# ---- gather, histogram ----

@tilec.jit
def gather_kernel(x_ptr, idx_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr, AXIS: tl.constexpr):
    x = tl.load(x_ptr + tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :])
    if AXIS == 0:
        offs = tl.arange(0, K)[:, None] * N + tl.arange(0, N)[None, :]
    else:
        offs = tl.arange(0, M)[:, None] * K + tl.arange(0, K)[None, :]
    idx = tl.load(idx_ptr + offs)
    tl.store(out_ptr + offs, tl.gather(x, idx, AXIS))


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "uint8", "bool"])
def test_gather(backend, rng, axis, dtype):
    m, n, k = 8, 16, 32
    x = rand(rng, (m, n), dtype)
    if dtype.startswith("float"):
        x[0, 0], x[1, 1] = -0.0, np.nan
    shape = (k, n) if axis == 0 else (m, k)
    idx = rng.integers(0, (m if axis == 0 else n), shape).astype(np.int32)
    out = backend.out(shape, dtype)
    gather_kernel[(1,)](backend.put(x), backend.put(idx), out, M=m, N=n, K=k, AXIS=axis)
    ref = np.take_along_axis(x, idx, axis)
    got = backend.get(out)
    if dtype.startswith("float"):
        # Bit-exact (-0.0 included), except NaN payloads: the GPU's fp16 <-> fp32 conversions
        # give NaNs the canonical payload.
        nan = np.isnan(ref)
        assert np.array_equal(np.isnan(got), nan)
        got, ref = np.where(nan, 0, got), np.where(nan, 0, ref)
    np.testing.assert_array_equal(got.view(np.uint8) if dtype != "bool" else got, ref.view(np.uint8) if dtype != "bool" else ref)


@tilec.jit
def histogram_kernel(x_ptr, out_ptr, masked_ptr, limit, N: tl.constexpr, BINS: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr + tl.arange(0, BINS), tl.histogram(x, BINS))
    tl.store(masked_ptr + tl.arange(0, BINS), x.histogram(BINS, mask=offs < limit))


def test_histogram(backend, rng):
    n, bins = 256, 16
    x = rng.integers(-3, bins + 3, n).astype(np.int32)  # values outside [0, BINS) count nowhere
    out, masked = backend.out(bins, "int32"), backend.out(bins, "int32")
    histogram_kernel[(1,)](backend.put(x), out, masked, 100, N=n, BINS=bins)

    def hist(v):
        v = v[(v >= 0) & (v < bins)]
        return np.bincount(v, minlength=bins)
    np.testing.assert_array_equal(backend.get(out), hist(x))
    np.testing.assert_array_equal(backend.get(masked), hist(x[:100]))


# ---- reduce and associative_scan with @jit combine functions ----

@tilec.jit
def add_fn(a, b):
    return a + b


@tilec.jit
def first_nonzero_fn(a, b):
    # Not commutative: keeps the left operand unless it is 0, so operand order is observable.
    return tl.where(a != 0, a, b)


@tilec.jit
def argmax_fn(v1, i1, v2, i2):
    take_left = (v1 > v2) | ((v1 == v2) & (i1 < i2))
    return tl.where(take_left, v1, v2), tl.where(take_left, i1, i2)


@tilec.jit
def reduce_kernel(x_ptr, sum_ptr, first_ptr, all_ptr, keep_ptr, val_ptr, idx_ptr, M: tl.constexpr, N: tl.constexpr,
                  AXIS: tl.constexpr):
    x = tl.load(x_ptr + tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :])
    R: tl.constexpr = N if AXIS == 0 else M
    r = tl.arange(0, R)
    tl.store(sum_ptr + r, tl.reduce(x, AXIS, add_fn))
    tl.store(first_ptr + r, x.reduce(AXIS, first_nonzero_fn))
    tl.store(all_ptr, tl.reduce(x, None, add_fn))
    kept = tl.reduce(x, AXIS, add_fn, keep_dims=True)
    if AXIS == 0:
        tl.store(keep_ptr + tl.arange(0, 1)[:, None] * N + tl.arange(0, N)[None, :], kept)
    else:
        tl.store(keep_ptr + tl.arange(0, M)[:, None] + tl.arange(0, 1)[None, :], kept)
    idx = tl.broadcast_to(tl.arange(0, N)[None, :], (M, N)) if AXIS != 0 else tl.broadcast_to(tl.arange(0, M)[:, None], (M, N))
    v, i = tl.reduce((x, idx), AXIS, argmax_fn)
    tl.store(val_ptr + r, v)
    tl.store(idx_ptr + r, i)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_reduce_combine_fn(backend, rng, axis):
    m, n = 8, 32
    x = rng.integers(-3, 4, (m, n)).astype(np.int32)
    x[:, 0] = 0
    ax = axis % 2
    r = n if ax == 0 else m
    outs = [backend.out(r, "int32"), backend.out(r, "int32"), backend.out(1, "int32"),
            backend.out((1, n) if ax == 0 else (m, 1), "int32"), backend.out(r, "int32"), backend.out(r, "int32")]
    reduce_kernel[(1,)](backend.put(x), *outs, M=m, N=n, AXIS=axis)
    got = [backend.get(o) for o in outs]
    np.testing.assert_array_equal(got[0], x.sum(ax))
    xt = x if ax == 1 else x.T
    first = np.array([row[np.flatnonzero(row)[0]] if np.any(row) else 0 for row in xt])
    np.testing.assert_array_equal(got[1], first)
    assert got[2][0] == x.sum()
    np.testing.assert_array_equal(got[3], x.sum(ax, keepdims=True))
    np.testing.assert_array_equal(got[4], x.max(ax))
    np.testing.assert_array_equal(got[5], x.argmax(ax))  # NumPy, like argmax_fn, breaks ties to the left


@tilec.jit
def reduce_1d_kernel(x_ptr, out_ptr, N: tl.constexpr):
    x = tl.load(x_ptr + tl.arange(0, N))
    tl.store(out_ptr, tl.reduce(x, 0, add_fn))
    tl.store(out_ptr + 1, tl.reduce(x, 0, add_fn, keep_dims=True).reshape(1).sum(0))
    tl.store(out_ptr + 2, tl.reduce_or(x, 0))
    tl.store(out_ptr + 3, tl.reduce(x.reshape(1, N), None, add_fn))
    tl.store(out_ptr + 4, tl.reduce(x.reshape(N, 1), 1, add_fn).sum(0))  # a dim of 1


def test_reduce_1d(backend, rng):
    n = 64
    x = rng.integers(-1000, 1000, n).astype(np.int32)
    out = backend.out(5, "int32")
    reduce_1d_kernel[(1,)](backend.put(x), out, N=n)
    got = backend.get(out)
    assert got[0] == x.sum() and got[1] == x.sum() and got[3] == x.sum() and got[4] == x.sum()
    assert got[2] == np.bitwise_or.reduce(x)


@tilec.jit
def scan_kernel(x_ptr, sum_ptr, first_ptr, rev_ptr, v_ptr, i_ptr, M: tl.constexpr, N: tl.constexpr, AXIS: tl.constexpr):
    offs = tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :]
    x = tl.load(x_ptr + offs)
    tl.store(sum_ptr + offs, tl.associative_scan(x, AXIS, add_fn))
    tl.store(first_ptr + offs, x.associative_scan(AXIS, first_nonzero_fn))
    tl.store(rev_ptr + offs, tl.associative_scan(x, AXIS, add_fn, reverse=True))
    idx = tl.broadcast_to(tl.arange(0, N)[None, :], (M, N)) if AXIS != 0 else tl.broadcast_to(tl.arange(0, M)[:, None], (M, N))
    v, i = tl.associative_scan((x, idx), AXIS, argmax_fn)
    tl.store(v_ptr + offs, v)
    tl.store(i_ptr + offs, i)


@pytest.mark.parametrize("axis", [0, 1])
def test_associative_scan_combine_fn(backend, rng, axis):
    m, n = 4, 16
    x = rng.integers(-3, 4, (m, n)).astype(np.int64)
    outs = [backend.out((m, n), "int64") for _ in range(4)] + [backend.out((m, n), "int32")]
    scan_kernel[(1,)](backend.put(x), *outs, M=m, N=n, AXIS=axis)
    got = [backend.get(o) for o in outs]
    np.testing.assert_array_equal(got[0], np.cumsum(x, axis))
    xm = np.moveaxis(x, axis, 1)
    first = np.zeros_like(xm)
    for r in range(xm.shape[0]):
        cur = 0
        for c in range(xm.shape[1]):
            cur = cur if cur != 0 else xm[r, c]
            first[r, c] = cur
    np.testing.assert_array_equal(got[1], np.moveaxis(first, 1, axis))
    np.testing.assert_array_equal(got[2], np.flip(np.cumsum(np.flip(x, axis), axis), axis))
    np.testing.assert_array_equal(got[3], np.maximum.accumulate(x, axis))
    iarg = np.zeros_like(xm, dtype=np.int32)
    for r in range(xm.shape[0]):
        for c in range(xm.shape[1]):
            iarg[r, c] = np.argmax(xm[r, :c + 1])
    np.testing.assert_array_equal(got[4], np.moveaxis(iarg, 1, axis))


# ---- shape functions ----

@tilec.jit
def shape_kernel(a_ptr, b_ptr, inter_ptr, cat_ptr, ravel_ptr, M: tl.constexpr, N: tl.constexpr):
    offs = tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :]
    a = tl.load(a_ptr + offs)
    b = tl.load(b_ptr + offs)
    tl.store(inter_ptr + tl.arange(0, M)[:, None] * (2 * N) + tl.arange(0, 2 * N)[None, :], tl.interleave(a, b))
    tl.store(cat_ptr + tl.arange(0, 2 * M)[:, None] * N + tl.arange(0, N)[None, :], tl.cat(a, b, can_reorder=True))
    tl.store(ravel_ptr + tl.arange(0, M * N), a.ravel())


def test_interleave_cat_ravel(backend, rng):
    m, n = 4, 8
    a, b = rand(rng, (m, n), "float32"), rand(rng, (m, n), "float32")
    inter, cat, rav = backend.out((m, 2 * n), "float32"), backend.out((2 * m, n), "float32"), backend.out(m * n, "float32")
    shape_kernel[(1,)](backend.put(a), backend.put(b), inter, cat, rav, M=m, N=n)
    np.testing.assert_array_equal(backend.get(inter), np.stack([a, b], -1).reshape(m, 2 * n))
    np.testing.assert_array_equal(backend.get(cat), np.concatenate([a, b], 0))
    np.testing.assert_array_equal(backend.get(rav), a.reshape(-1))


@tilec.jit
def softmax_swizzle_kernel(x_ptr, out_ptr, i_ptr, j_ptr, M: tl.constexpr, N: tl.constexpr):
    offs = tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :]
    tl.store(out_ptr + offs, tl.softmax(tl.load(x_ptr + offs), 1))
    i, j = tl.swizzle2d(tl.arange(0, M)[:, None], tl.arange(0, N)[None, :], M, N, 3)
    tl.store(i_ptr + offs, i)
    tl.store(j_ptr + offs, j)


def test_softmax_swizzle2d(backend, rng):
    m, n = 8, 16
    x = rand(rng, (m, n), "float32")
    out, oi, oj = backend.out((m, n), "float32"), backend.out((m, n), "int32"), backend.out((m, n), "int32")
    softmax_swizzle_kernel[(1,)](backend.put(x), out, oi, oj, M=m, N=n)
    e = np.exp(x.astype(np.float64) - x.max(1, keepdims=True))
    assert_close(backend.get(out), e / e.sum(1, keepdims=True), "float32")
    # Column-major order within groups of 3 rows (the last group has 2).
    ref_i, ref_j = np.zeros((m, n), np.int32), np.zeros((m, n), np.int32)
    for i in range(m):
        for j in range(n):
            lin = i * n + j
            g0 = (lin // (3 * n)) * 3
            rows = min(m - g0, 3)
            w = lin % (3 * n)
            ref_i[i, j], ref_j[i, j] = g0 + w % rows, w // rows
    np.testing.assert_array_equal(backend.get(oi), ref_i)
    np.testing.assert_array_equal(backend.get(oj), ref_j)


@tilec.jit
def arith_kernel(x_ptr, y_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr):
    x = tl.load(x_ptr + tl.arange(0, M))[:, None]
    y = tl.load(y_ptr + tl.arange(0, N))[None, :]
    tl.assume(M > 0)
    bx, by = tl.broadcast(x, y)
    offs = tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :]
    tl.store(out_ptr + offs, tl.add(bx, by))
    tl.store(out_ptr + M * N + offs, tl.sub(x, y, sanitize_overflow=False))
    tl.store(out_ptr + 2 * M * N + offs, tl.mul(bx, y))
    tl.store(out_ptr + 3 * M * N + offs, tl.fdiv(x, y, ieee_rounding=True))
    s1, s2 = tl.broadcast(tl.load(x_ptr), y)  # a scalar and a tile
    tl.store(out_ptr + 4 * M * N + offs, s1 + s2 + bx * 0)


def test_arith_and_broadcast(backend, rng):
    m, n = 4, 8
    x, y = rand(rng, m, "float32"), rand(rng, n, "float32")
    out = backend.out(5 * m * n, "float32")
    arith_kernel[(1,)](backend.put(x), backend.put(y), out, M=m, N=n)
    got = backend.get(out).reshape(5, m, n)
    X, Y = x[:, None], y[None, :]
    np.testing.assert_array_equal(got[0], X + Y)
    np.testing.assert_array_equal(got[1], X - Y)
    np.testing.assert_array_equal(got[2], X * Y)
    np.testing.assert_array_equal(got[3], (X / Y).astype(np.float32))
    np.testing.assert_array_equal(got[4], np.broadcast_to(x[0] + Y, (m, n)))


@tilec.jit
def merge_sqrt_kernel(x_ptr, out_ptr, root_ptr, N: tl.constexpr, DESC: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr + offs, tl.bitonic_merge(x, descending=DESC))
    tl.store(root_ptr + offs, tl.sqrt_rn(tl.abs(x)) + tl.TRITON_MAX_TENSOR_NUMEL * 0)


@pytest.mark.parametrize("desc", [False, True])
def test_bitonic_merge_sqrt_rn(backend, rng, desc):
    n = 64
    a = np.sort(rand(rng, n // 2, "float32"))
    b = np.sort(rand(rng, n // 2, "float32"))[::-1]
    x = np.concatenate([a, b])  # ascending then descending: bitonic
    out, root = backend.out(n, "float32"), backend.out(n, "float32")
    merge_sqrt_kernel[(1,)](backend.put(x), out, root, N=n, DESC=desc)
    ref = np.sort(x)
    np.testing.assert_array_equal(backend.get(out), ref[::-1] if desc else ref)
    np.testing.assert_array_equal(backend.get(root), np.sqrt(np.abs(x)))


# ---- names of Triton's language that tilec lacks ----

@pytest.mark.parametrize("name", ["map_elementwise", "philox_impl", "pi32_t"])
def test_missing_triton_name_is_a_compile_error(name):
    src = f"""
import tilec
import tilec.language as tl

@tilec.jit
def k(x_ptr):
    x = tl.{name}(x_ptr)
"""
    with pytest.raises(Exception, match=rf"tl\.{name} \(part of Triton's triton.language\) is not implemented by tilec"):
        tilec.compile(src, "k", "x_ptr:*fp32:16")
