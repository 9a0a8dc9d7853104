"""Kernels in the style of FlagGems' tensor ops and Triton-based attention/quantization code:
tl.flip, tl.split / tl.join (interleaved pairs, rotary halves), tl.xor_sum, tl.cumprod,
tl.umulhi (hashing), tl.max_constancy, tl.debug_barrier, tl.static_print, and maximum with
PropagateNan.ALL."""
import numpy as np
import pytest

import tilec as triton
import tilec.language as tl
from compat_check import close, retune, rng  # noqa: F401 (fixtures)


@triton.jit
def flip_kernel(x_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr, DIM: tl.constexpr):
    offs = tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :]
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr + offs, tl.flip(x, DIM))


@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("dtype", ["float32", "int16", "float16"])
def test_flip(rng, dim, dtype):
    x = rng.standard_normal((8, 16)).astype(dtype) if dtype != "int16" else rng.integers(-999, 999, (8, 16)).astype(dtype)
    x[0, 0] = -0.0 if dtype != "int16" else 5
    out = np.empty_like(x)
    flip_kernel[(1,)](x, out, M=8, N=16, DIM=dim)
    np.testing.assert_array_equal(out, np.flip(x, dim))
    if dtype != "int16":
        assert np.signbit(np.flip(out, dim)[0, 0])


@triton.jit
def interleave_kernel(a_ptr, b_ptr, out_ptr, back_a_ptr, back_b_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    a = tl.load(a_ptr + offs)
    b = tl.load(b_ptr + offs)
    pairs = tl.join(a, b)                      # [N, 2]
    flat = tl.reshape(pairs, (2 * N,))
    tl.store(out_ptr + tl.arange(0, 2 * N), flat)
    x, y = tl.split(tl.reshape(flat, (N, 2)))  # back to the halves
    tl.store(back_a_ptr + offs, x)
    tl.store(back_b_ptr + offs, y)


def test_split_join_roundtrip(rng):
    n = 32
    a = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    out = np.empty(2 * n, np.float32)
    ba, bb = np.empty_like(a), np.empty_like(b)
    interleave_kernel[(1,)](a, b, out, ba, bb, N=n)
    np.testing.assert_array_equal(out, np.stack([a, b], 1).reshape(-1))
    np.testing.assert_array_equal(ba, a)
    np.testing.assert_array_equal(bb, b)


@triton.jit
def rotary_interleaved_kernel(x_ptr, cos_ptr, sin_ptr, out_ptr, HALF: tl.constexpr):
    # GPT-J style rotary embedding on interleaved (even, odd) pairs.
    offs = tl.arange(0, 2 * HALF)
    x = tl.load(x_ptr + tl.program_id(0) * 2 * HALF + offs)
    x_even, x_odd = tl.split(tl.reshape(x, (HALF, 2)))
    cos = tl.load(cos_ptr + tl.arange(0, HALF))
    sin = tl.load(sin_ptr + tl.arange(0, HALF))
    out = tl.reshape(tl.join(x_even * cos - x_odd * sin, x_odd * cos + x_even * sin), (2 * HALF,))
    tl.store(out_ptr + tl.program_id(0) * 2 * HALF + offs, out)


def test_rotary_interleaved(rng):
    rows, half = 3, 8
    x = rng.standard_normal((rows, 2 * half)).astype(np.float32)
    th = rng.uniform(0, 3, half)
    cos, sin = np.cos(th).astype(np.float32), np.sin(th).astype(np.float32)
    out = np.empty_like(x)
    rotary_interleaved_kernel[(rows,)](x, cos, sin, out, HALF=half)
    e, o = x[:, 0::2].astype(np.float64), x[:, 1::2].astype(np.float64)
    ref = np.stack([e * cos - o * sin, o * cos + e * sin], -1).reshape(rows, -1)
    close(out, ref, 1e-6)


@triton.jit
def xor_hash_kernel(x_ptr, out_ptr, rows_out_ptr, M: tl.constexpr, N: tl.constexpr):
    offs = tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :]
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr, tl.xor_sum(x))
    tl.store(rows_out_ptr + tl.arange(0, M), tl.xor_sum(x, axis=1))


def test_xor_sum(rng):
    x = rng.integers(0, 2 ** 31, (4, 16)).astype(np.uint32)
    out, rows = np.zeros(1, np.uint32), np.zeros(4, np.uint32)
    xor_hash_kernel[(1,)](x, out, rows, M=4, N=16)
    assert out[0] == np.bitwise_xor.reduce(x.reshape(-1))
    np.testing.assert_array_equal(rows, np.bitwise_xor.reduce(x, axis=1))


@triton.jit
def cumprod_kernel(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.program_id(0) * N + tl.arange(0, N)
    tl.store(out_ptr + offs, tl.cumprod(tl.load(x_ptr + offs), axis=0))


@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_cumprod(rng, dtype):
    x = rng.uniform(0.5, 1.5, (3, 16)).astype(dtype) if dtype == "float32" else rng.integers(-3, 4, (3, 16)).astype(dtype)
    out = np.empty_like(x)
    cumprod_kernel[(3,)](x, out, N=16)
    close(out, np.cumprod(x.astype(np.float64), 1), 1e-5)


@triton.jit
def hash_kernel(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    tl.static_print("hash_kernel N =", N)
    group = tl.max_constancy(offs // 8, 8)
    h = tl.umulhi(x, 0x9E3779B1) ^ (x * 0x85EBCA6B) ^ group.to(tl.uint32)
    tl.debug_barrier()
    tl.store(out_ptr + offs, h)


def test_umulhi_hash(rng):
    x = rng.integers(0, 2 ** 32, 64, dtype=np.uint64).astype(np.uint32)
    out = np.empty_like(x)
    hash_kernel[(1,)](x, out, N=64)
    x64 = x.astype(np.uint64)
    ref = ((x64 * np.uint64(0x9E3779B1)) >> np.uint64(32)) ^ ((x64 * np.uint64(0x85EBCA6B)) & np.uint64(0xFFFFFFFF))
    ref ^= np.arange(64, dtype=np.uint64) // np.uint64(8)
    np.testing.assert_array_equal(out, ref.astype(np.uint32))


@triton.jit
def nan_max_kernel(x_ptr, y_ptr, out_ptr, out_none_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    y = tl.load(y_ptr + offs)
    tl.store(out_ptr + offs, tl.maximum(x, y, propagate_nan=tl.PropagateNan.ALL))
    tl.store(out_none_ptr + offs, tl.minimum(x, y, propagate_nan=tl.PropagateNan.NONE))


def test_propagate_nan(rng):
    x = rng.standard_normal(16).astype(np.float32)
    y = rng.standard_normal(16).astype(np.float32)
    x[3], y[5] = np.nan, np.nan
    out, out_none = np.empty_like(x), np.empty_like(x)
    nan_max_kernel[(1,)](x, y, out, out_none, N=16)
    np.testing.assert_array_equal(out, np.maximum(x, y))
    np.testing.assert_array_equal(out_none, np.fmin(x, y))
