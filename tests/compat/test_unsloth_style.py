"""Kernels in the style of Unsloth: heuristics deciding constexpr flags from runtime arguments
(stacked over jit), tl.math.* spellings, logit softcapping with libdevice tanh, RoPE in place,
early `return` for padded rows, and MAX_FUSED_SIZE-style launch settings."""
import numpy as np
import pytest

import tilec as triton
import tilec.language as tl
from tilec.language.extra import libdevice
from compat_check import close, retune, rng  # noqa: F401 (fixtures)


@triton.heuristics({"DO_SOFTCAPPING": lambda args: bool(args["DO_SOFTCAPPING"]),
                    "DO_LOGIT_SCALING": lambda args: bool(args["DO_LOGIT_SCALING"])})
@triton.jit
def _cross_entropy_forward(logits_ptr, logits_row_stride, loss_ptr, logsumexp_ptr, labels_ptr, VOCAB_SIZE,
                           BLOCK_SIZE: tl.constexpr, DO_SOFTCAPPING: tl.constexpr, SOFTCAP, DO_LOGIT_SCALING: tl.constexpr,
                           LOGIT_SCALE):
    row_idx = tl.program_id(0)
    logits_ptr += row_idx * triton.cdiv(logits_row_stride, 1)
    col_offsets = tl.arange(0, BLOCK_SIZE)
    mask = col_offsets < VOCAB_SIZE
    label_idx = tl.load(labels_ptr + row_idx).to(tl.int32)
    logits = tl.load(logits_ptr + col_offsets, mask=mask, other=-float("inf")).to(tl.float32)
    if DO_LOGIT_SCALING:
        logits = LOGIT_SCALE * logits
    if DO_SOFTCAPPING:
        logits = SOFTCAP * libdevice.tanh(logits / SOFTCAP)
    c = tl.max(logits, 0)
    logsumexp = c + tl.log(tl.sum(tl.exp(logits - c), 0))
    if label_idx != -100:
        x = tl.load(logits_ptr + label_idx).to(tl.float32)
        if DO_LOGIT_SCALING:
            x = LOGIT_SCALE * x
        if DO_SOFTCAPPING:
            x = SOFTCAP * libdevice.tanh(x / SOFTCAP)
        loss = logsumexp - x
    else:
        loss = 0.0
    tl.store(logsumexp_ptr + row_idx, logsumexp)
    tl.store(loss_ptr + row_idx, loss)


@pytest.mark.parametrize("softcap,scale", [(0, 0), (30.0, 0), (0, 0.5), (20.0, 2.0)])
def test_cross_entropy_softcapping(rng, softcap, scale):
    rows, vocab = 4, 500
    logits = (rng.standard_normal((rows, vocab)) * 10).astype(np.float32)
    labels = rng.integers(0, vocab, rows).astype(np.int64)
    labels[1] = -100
    loss = np.empty(rows, np.float32)
    lse = np.empty(rows, np.float32)
    _cross_entropy_forward[(rows,)](logits, vocab, loss, lse, labels, vocab, BLOCK_SIZE=512,
                                    DO_SOFTCAPPING=softcap, SOFTCAP=float(softcap), DO_LOGIT_SCALING=scale,
                                    LOGIT_SCALE=float(scale))
    z = logits.astype(np.float64)
    if scale:
        z = scale * z
    if softcap:
        z = softcap * np.tanh(z / softcap)
    ref_lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
    close(lse, ref_lse, 1e-5)
    ref_loss = np.where(labels != -100, ref_lse - z[np.arange(rows), np.maximum(labels, 0)], 0)
    close(loss, ref_loss, 1e-4)


ROPE_GROUP_SIZE: int = 4


@triton.heuristics({"BACKWARD_PASS": lambda args: bool(args["BACKWARD_PASS"])})
@triton.jit
def _rope_embedding(Q, Q_row_stride, cos, cos_row_stride, sin, sin_row_stride, seqlen, head_dim: tl.constexpr,
                    n_heads: tl.constexpr, BACKWARD_PASS: tl.constexpr, BLOCK_SIZE: tl.constexpr):
    ROPE_GROUP_SIZE: tl.constexpr = 4
    row_position = tl.program_id(0)
    group_head_position = tl.program_id(1)
    col_offsets = tl.arange(0, BLOCK_SIZE)
    half_head_dim = head_dim // 2
    mask = col_offsets < half_head_dim
    sin1 = tl.load(sin + (row_position % seqlen) * sin_row_stride + half_head_dim * 0 + col_offsets, mask=mask, other=0)
    cos1 = tl.load(cos + (row_position % seqlen) * cos_row_stride + half_head_dim * 0 + col_offsets, mask=mask, other=0)
    if BACKWARD_PASS:
        sin1 = -sin1
    head_start = group_head_position * ROPE_GROUP_SIZE
    head_end = min((head_start + ROPE_GROUP_SIZE), n_heads)
    for k in range(head_start, head_end):
        offs_q1 = row_position * Q_row_stride + k * head_dim + col_offsets
        offs_q2 = row_position * Q_row_stride + k * head_dim + col_offsets + half_head_dim
        Q1 = tl.load(Q + offs_q1, mask=mask, other=0).to(sin1.dtype)
        Q2 = tl.load(Q + offs_q2, mask=mask, other=0).to(sin1.dtype)
        tl.store(Q + offs_q1, Q1 * cos1 - Q2 * sin1, mask=mask)
        tl.store(Q + offs_q2, Q2 * cos1 + Q1 * sin1, mask=mask)


@pytest.mark.parametrize("backward", [False, True])
def test_rope_in_place(rng, backward):
    seqlen, n_heads, head_dim = 6, 6, 16
    q = rng.standard_normal((seqlen, n_heads * head_dim)).astype(np.float32)
    theta = rng.uniform(0, 6, (seqlen, head_dim // 2))
    cos, sin = np.cos(theta).astype(np.float32), np.sin(theta).astype(np.float32)
    out = q.copy()
    groups = triton.cdiv(n_heads, ROPE_GROUP_SIZE)
    _rope_embedding[(seqlen, groups)](out, out.shape[1], cos, cos.shape[1], sin, sin.shape[1], seqlen, head_dim=head_dim,
                                      n_heads=n_heads, BACKWARD_PASS=backward, BLOCK_SIZE=triton.next_power_of_2(head_dim // 2))
    qh = q.reshape(seqlen, n_heads, head_dim).astype(np.float64)
    s = -sin if backward else sin
    q1, q2 = qh[..., :head_dim // 2], qh[..., head_dim // 2:]
    ref = np.concatenate([q1 * cos[:, None] - q2 * s[:, None], q2 * cos[:, None] + q1 * s[:, None]], -1)
    close(out.reshape(seqlen, n_heads, head_dim), ref, 1e-5)


@triton.jit
def _exact_forward_kernel(e, g, h, n_elements, BLOCK_SIZE: tl.constexpr):
    block_idx = tl.program_id(0)
    offsets = block_idx * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    e_row = tl.load(e + offsets, mask=mask, other=0).to(tl.float32)
    g_row = tl.load(g + offsets, mask=mask, other=0)
    f_row = 0.5 * e_row * (tl.math.erf(tl.math.rsqrt(2.0) * e_row) + 1.0)
    f_row = f_row.to(g_row.dtype)
    tl.store(h + offsets, f_row * g_row, mask=mask)


def test_geglu_exact(rng):
    from math import erf
    n = 1000
    e = rng.standard_normal(n).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)
    h = np.empty_like(e)
    _exact_forward_kernel[(triton.cdiv(n, 256),)](e, g, h, n, BLOCK_SIZE=256)
    ref = np.array([0.5 * v * (1 + erf(v / np.sqrt(2))) for v in e.astype(np.float64)]) * g
    close(h, ref, 1e-5)


@triton.jit
def _layernorm_forward(Y, Y_row_stride, X, X_row_stride, W, b, r, mu, n_cols, eps, BLOCK_SIZE: tl.constexpr):
    row_idx = tl.program_id(0)
    col_offsets = tl.arange(0, BLOCK_SIZE)
    mask = col_offsets < n_cols
    Y += row_idx * Y_row_stride
    X += row_idx * X_row_stride
    r += row_idx
    mu += row_idx
    X_row = tl.load(X + col_offsets, mask=mask, other=0).to(tl.float32)
    W_row = tl.load(W + col_offsets, mask=mask, other=0).to(tl.float32)
    b_row = tl.load(b + col_offsets, mask=mask, other=0).to(tl.float32)
    mean_X = tl.sum(X_row, axis=0) / n_cols
    XX = tl.where(mask, X_row - mean_X, 0)
    row_var = tl.sum(XX * XX, axis=0) / n_cols
    inv_var = tl.math.rsqrt(row_var + eps)
    tl.store(r, inv_var)
    tl.store(mu, mean_X)
    output = (XX * inv_var) * W_row + b_row
    tl.store(Y + col_offsets, output, mask=mask)


def test_layernorm(rng):
    rows, cols = 5, 200
    x = rng.standard_normal((rows, cols)).astype(np.float32)
    w, bias = rng.standard_normal(cols).astype(np.float32), rng.standard_normal(cols).astype(np.float32)
    y = np.empty_like(x)
    r, mu = np.empty(rows, np.float32), np.empty(rows, np.float32)
    _layernorm_forward[(rows,)](y, cols, x, cols, w, bias, r, mu, cols, 1e-5, BLOCK_SIZE=256)
    x64 = x.astype(np.float64)
    close(mu, x64.mean(1), 1e-5)
    close(r, 1 / np.sqrt(x64.var(1) + 1e-5), 1e-4)
    close(y, (x64 - x64.mean(1, keepdims=True)) / np.sqrt(x64.var(1, keepdims=True) + 1e-5) * w + bias, 1e-4)
