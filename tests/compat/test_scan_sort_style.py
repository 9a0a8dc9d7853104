"""Kernels in the style of Mamba / flash-linear-attention's chunked scans (tl.associative_scan with a
@jit combine over a tuple: a first-order linear recurrence), MoE routing in vLLM/SGLang
(tl.topk / tl.sort over expert scores, tl.histogram of expert ids), FlagGems' tl.gather and
tl.reduce with a @jit combine (a max with its index), and tl.cumsum(reverse=True)."""
import numpy as np
import pytest

import tilec as triton
import tilec.language as tl
from compat_check import close, rng  # noqa: F401 (fixtures)


@triton.jit
def first_order_op(l_a, l_b, r_a, r_b):
    # h_t = a_t * h_{t-1} + b_t, composed: (l then r).
    return r_a * l_a, r_a * l_b + r_b


@triton.jit
def linear_recurrence_kernel(a_ptr, b_ptr, h_ptr, stride_row, L: tl.constexpr, REVERSE: tl.constexpr):
    row = tl.program_id(0)
    offs = row * stride_row + tl.arange(0, L)
    a = tl.load(a_ptr + offs).to(tl.float32)
    b = tl.load(b_ptr + offs).to(tl.float32)
    _, h = tl.associative_scan((a, b), axis=0, combine_fn=first_order_op, reverse=REVERSE)
    tl.store(h_ptr + offs, h)


@pytest.mark.parametrize("reverse", [False, True])
def test_linear_recurrence(rng, reverse):
    rows, length = 3, 64
    a = rng.uniform(0.5, 1.0, (rows, length)).astype(np.float32)
    b = rng.standard_normal((rows, length)).astype(np.float32)
    h = np.full((rows, length), np.nan, np.float32)
    linear_recurrence_kernel[(rows,)](a, b, h, length, L=length, REVERSE=reverse)
    ref = np.zeros((rows, length))
    for r in range(rows):
        acc = 0.0
        steps = range(length - 1, -1, -1) if reverse else range(length)
        for t in steps:
            acc = a[r, t] * acc + b[r, t]
            ref[r, t] = acc
    close(h, ref, 1e-4)


@triton.jit
def moe_topk_kernel(scores_ptr, weights_ptr, hist_ptr, sorted_ptr, n_tokens, E: tl.constexpr, K: tl.constexpr,
                    BLOCK_T: tl.constexpr):
    t = tl.arange(0, BLOCK_T)
    e = tl.arange(0, E)
    mask = t < n_tokens
    s = tl.load(scores_ptr + t[:, None] * E + e[None, :], mask=mask[:, None], other=float("-inf"))
    top = tl.topk(s, K)                                    # [BLOCK_T, K], descending
    kk = tl.arange(0, K)
    tl.store(weights_ptr + t[:, None] * K + kk[None, :], tl.softmax(top, 1), mask=mask[:, None])
    # Each token's best expert, counted per expert (padding tokens masked out).
    best = tl.argmax(s, 1)
    tl.store(hist_ptr + e, tl.histogram(best, E, mask=mask))
    tl.store(sorted_ptr + t[:, None] * E + e[None, :], s.sort(descending=False), mask=mask[:, None])


def test_moe_topk(rng):
    n, e, k = 13, 16, 4
    s = rng.standard_normal((n, e)).astype(np.float32)
    w = np.full((n, k), np.nan, np.float32)
    hist = np.full(e, -1, np.int32)
    srt = np.full((n, e), np.nan, np.float32)
    moe_topk_kernel[(1,)](s, w, hist, srt, n, E=e, K=k, BLOCK_T=16)
    top = np.sort(s, 1)[:, ::-1][:, :k].astype(np.float64)
    ex = np.exp(top - top.max(1, keepdims=True))
    close(w, ex / ex.sum(1, keepdims=True))
    np.testing.assert_array_equal(hist, np.bincount(s.argmax(1), minlength=e))
    np.testing.assert_array_equal(srt, np.sort(s, 1))


@triton.jit
def _max_with_index(a, ia, b, ib):
    left = (a > b) | ((a == b) & (ia < ib))
    return tl.where(left, a, b), tl.where(left, ia, ib)


@triton.jit
def gather_rows_kernel(x_ptr, idx_ptr, out_ptr, best_ptr, M: tl.constexpr, N: tl.constexpr):
    rows = tl.arange(0, M)
    cols = tl.arange(0, N)
    x = tl.load(x_ptr + rows[:, None] * N + cols[None, :])
    idx = tl.load(idx_ptr + rows[:, None] * N + cols[None, :])
    tl.store(out_ptr + rows[:, None] * N + cols[None, :], tl.gather(x, idx, 1))
    val, where = tl.reduce((x, tl.broadcast_to(cols[None, :], (M, N))), 1, _max_with_index)
    tl.store(best_ptr + rows, where)


def test_gather_and_reduce(rng):
    m, n = 8, 32
    x = rng.standard_normal((m, n)).astype(np.float16)
    idx = rng.integers(0, n, (m, n)).astype(np.int64)
    out = np.full((m, n), np.nan, np.float16)
    best = np.full(m, -1, np.int32)
    gather_rows_kernel[(1,)](x, idx, out, best, M=m, N=n)
    np.testing.assert_array_equal(out, np.take_along_axis(x, idx, 1))
    np.testing.assert_array_equal(best, x.argmax(1))


@triton.jit
def suffix_sum_kernel(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    tl.store(out_ptr + offs, tl.cumsum(tl.load(x_ptr + offs), 0, reverse=True))


def test_suffix_sum(rng):
    x = rng.integers(-100, 100, 128).astype(np.int32)
    out = np.zeros_like(x)
    suffix_sum_kernel[(1,)](x, out, N=128)
    np.testing.assert_array_equal(out, np.cumsum(x[::-1])[::-1])
