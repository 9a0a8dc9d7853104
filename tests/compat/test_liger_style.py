"""Kernels in the style of Liger-Kernel: row-wise norms and fused activations launched with
BLOCK_SIZE = next_power_of_2(n_cols), casting modes as module-level tl.constexpr globals,
libdevice rsqrt/tanh, in-place gradient writes and optional (None) weight pointers."""
import numpy as np
import pytest

import tilec as triton
import tilec.language as tl
from compat_helpers import gelu_tanh as helpers_gelu
from compat_helpers import row_scale
from tilec.language.extra.libdevice import rsqrt, tanh
from compat_check import close, retune, rng  # noqa: F401 (fixtures)

_CASTING_MODE_NONE: tl.constexpr = tl.constexpr(-1)
_CASTING_MODE_LLAMA = tl.constexpr(0)
_CASTING_MODE_GEMMA = tl.constexpr(1)
MAX_FUSED_SIZE = 65536


def calculate_settings(n):
    block = triton.next_power_of_2(n)
    if block > MAX_FUSED_SIZE:
        raise RuntimeError("too many columns")
    num_warps = 4 if block < 2048 else 8
    return block, num_warps


@triton.jit
def _rms_norm_forward_kernel(Y_ptr, Y_row_stride, X_ptr, X_row_stride, W_ptr, W_row_stride, RSTD_ptr, RSTD_row_stride,
                             n_cols, eps, offset, casting_mode: tl.constexpr, BLOCK_SIZE: tl.constexpr):
    row_idx = tl.program_id(0)
    col_offsets = tl.arange(0, BLOCK_SIZE)
    mask = col_offsets < n_cols
    Y_ptr += row_idx * Y_row_stride
    X_ptr += row_idx * X_row_stride
    RSTD_ptr += row_idx * RSTD_row_stride
    X_row = tl.load(X_ptr + col_offsets, mask=mask, other=0)
    X_row_dtype = X_row.dtype
    W_row = tl.load(W_ptr + col_offsets, mask=mask, other=0)
    if casting_mode == _CASTING_MODE_LLAMA:
        X_row = X_row.to(tl.float32)
    if casting_mode == _CASTING_MODE_GEMMA:
        W_row = W_row.to(tl.float32)
        X_row = X_row.to(tl.float32)
    mean_square = tl.sum(X_row * X_row, axis=0) / n_cols
    rstd = rsqrt(mean_square + eps)
    tl.store(RSTD_ptr, rstd)
    X_row = X_row * rstd
    if casting_mode == _CASTING_MODE_LLAMA:
        X_row = X_row.to(X_row_dtype)
    Y_row = X_row * (offset + W_row)
    if casting_mode == _CASTING_MODE_GEMMA:
        Y_row = Y_row.to(X_row_dtype)
    tl.store(Y_ptr + col_offsets, Y_row, mask=mask)


@pytest.mark.parametrize("casting_mode", [-1, 0, 1])
def test_rms_norm(rng, casting_mode):
    n_rows, n_cols = 7, 300
    x = rng.standard_normal((n_rows, n_cols)).astype(np.float32)
    w = rng.standard_normal(n_cols).astype(np.float32)
    y = np.empty_like(x)
    rstd = np.empty(n_rows, np.float32)
    block, num_warps = calculate_settings(n_cols)
    _rms_norm_forward_kernel[(n_rows,)](y, y.strides[0] // 4, x, x.strides[0] // 4, w, 0, rstd, 1, n_cols, 1e-6, 1.0,
                                        casting_mode=casting_mode, BLOCK_SIZE=block, num_warps=num_warps)
    ref_rstd = 1 / np.sqrt((x.astype(np.float64) ** 2).mean(1) + 1e-6)
    close(rstd, ref_rstd)
    close(y, x * ref_rstd[:, None] * (1.0 + w), 1e-4)


@triton.jit
def silu(x):
    return x * tl.sigmoid(x)


@triton.jit
def _swiglu_forward_kernel(a_ptr, b_ptr, c_ptr, stride, n_cols: tl.constexpr, BLOCK_SIZE: tl.constexpr):
    program_id = tl.program_id(0).to(tl.int64)
    a_ptr += program_id * stride
    b_ptr += program_id * stride
    c_ptr += program_id * stride
    col_offsets = tl.arange(0, BLOCK_SIZE)
    mask = col_offsets < n_cols
    a_row = tl.load(a_ptr + col_offsets, mask=mask, other=0).to(tl.float32)
    b_row = tl.load(b_ptr + col_offsets, mask=mask, other=0)
    c_row = silu(a_row).to(b_row.dtype) * b_row
    tl.store(c_ptr + col_offsets, c_row, mask=mask)


@triton.jit
def _swiglu_backward_kernel(dc_ptr, a_ptr, b_ptr, stride, n_cols: tl.constexpr, BLOCK_SIZE: tl.constexpr):
    # Gradients are written in place over the inputs, as Liger does to save memory.
    program_id = tl.program_id(0).to(tl.int64)
    dc_ptr += program_id * stride
    a_ptr += program_id * stride
    b_ptr += program_id * stride
    col_offsets = tl.arange(0, BLOCK_SIZE)
    mask = col_offsets < n_cols
    dc_row = tl.load(dc_ptr + col_offsets, mask=mask, other=0)
    a_row = tl.load(a_ptr + col_offsets, mask=mask, other=0).to(tl.float32)
    b_row = tl.load(b_ptr + col_offsets, mask=mask, other=0)
    sig_a = tl.sigmoid(a_row)
    silu_a = a_row * sig_a
    db_row = dc_row * silu_a
    da_row = dc_row * (silu_a * (1 - sig_a) + sig_a) * b_row
    tl.store(a_ptr + col_offsets, da_row, mask=mask)
    tl.store(b_ptr + col_offsets, db_row, mask=mask)


def test_swiglu_forward_backward(rng):
    rows, cols = 5, 100
    a = rng.standard_normal((rows, cols)).astype(np.float32)
    b = rng.standard_normal((rows, cols)).astype(np.float32)
    dc = rng.standard_normal((rows, cols)).astype(np.float32)
    c = np.empty_like(a)
    block, _ = calculate_settings(cols)
    _swiglu_forward_kernel[(rows,)](a, b, c, cols, n_cols=cols, BLOCK_SIZE=block)
    sig = 1 / (1 + np.exp(-a.astype(np.float64)))
    close(c, a * sig * b, 1e-5)
    a2, b2 = a.copy(), b.copy()
    _swiglu_backward_kernel[(rows,)](dc, a2, b2, cols, n_cols=cols, BLOCK_SIZE=block)
    close(b2, dc * a * sig, 1e-5)
    close(a2, dc * (a * sig * (1 - sig) + sig) * b, 1e-5)


@triton.jit
def _geglu_tanh_forward_kernel(a, b, c, stride, n_cols: tl.constexpr, BLOCK_SIZE: tl.constexpr):
    program_id = tl.program_id(0).to(tl.int64)
    a += program_id * stride
    b += program_id * stride
    c += program_id * stride
    col_offsets = tl.arange(0, BLOCK_SIZE)
    mask = col_offsets < n_cols
    a_row = tl.load(a + col_offsets, mask=mask, other=0).to(tl.float32)
    b_row = tl.load(b + col_offsets, mask=mask, other=0)
    sqrt_2_over_pi = 0.7978845608028654
    a_cubed = a_row * a_row * a_row
    tanh_arg = sqrt_2_over_pi * (a_row + 0.044715 * a_cubed)
    tanh_result = tanh(tanh_arg)
    geglu_a = 0.5 * a_row * (1 + tanh_result)
    c_row = geglu_a.to(b_row.dtype) * b_row
    tl.store(c + col_offsets, c_row, mask=mask)


def test_geglu_tanh(rng):
    rows, cols = 3, 64
    a = rng.standard_normal((rows, cols)).astype(np.float32)
    b = rng.standard_normal((rows, cols)).astype(np.float32)
    c = np.empty_like(a)
    _geglu_tanh_forward_kernel[(rows,)](a, b, c, cols, n_cols=cols, BLOCK_SIZE=64)
    a64 = a.astype(np.float64)
    ref = 0.5 * a64 * (1 + np.tanh(0.7978845608028654 * (a64 + 0.044715 * a64 ** 3))) * b
    close(c, ref, 1e-5)


@triton.jit
def liger_cross_entropy_kernel(X_ptr, X_stride, Y_ptr, Y_stride, weight_ptr, loss_ptr, loss_stride, n_cols,
                               n_non_ignore, ignore_index, label_smoothing: tl.constexpr, HAS_WEIGHT: tl.constexpr,
                               BLOCK_SIZE: tl.constexpr):
    program_id = tl.program_id(0).to(tl.int64)
    Y_ptr += program_id * Y_stride
    y = tl.load(Y_ptr)
    X_ptr += program_id * X_stride
    if y == ignore_index:
        for i in range(0, n_cols, BLOCK_SIZE):
            X_offsets = i + tl.arange(0, BLOCK_SIZE)
            tl.store(X_ptr + X_offsets, 0.0, mask=X_offsets < n_cols)
        return
    loss_ptr += program_id * loss_stride
    m = float("-inf")
    d = 0.0
    ori_X_y = tl.load(X_ptr + y).cast(tl.float32)
    for i in range(0, n_cols, BLOCK_SIZE):
        X_offsets = i + tl.arange(0, BLOCK_SIZE)
        X_block = tl.load(X_ptr + X_offsets, mask=X_offsets < n_cols, other=float("-inf")).cast(tl.float32)
        block_max = tl.max(X_block)
        m_new = tl.maximum(m, block_max)
        d = d * tl.exp(m - m_new) + tl.sum(tl.exp(X_block - m_new))
        m = m_new
    lse = m + tl.log(d)
    w = 1.0
    if HAS_WEIGHT:
        w = tl.load(weight_ptr + y).cast(tl.float32)
    for i in range(0, n_cols, BLOCK_SIZE):
        X_offsets = i + tl.arange(0, BLOCK_SIZE)
        X_block = tl.load(X_ptr + X_offsets, mask=X_offsets < n_cols, other=float("-inf")).cast(tl.float32)
        X_block = tl.exp(X_block - m) / d
        X_block = tl.where(X_offsets != y, X_block, X_block - 1.0)
        X_block = X_block * w / n_non_ignore
        tl.store(X_ptr + X_offsets, X_block, mask=X_offsets < n_cols)
    loss = (lse - ori_X_y) * w / n_non_ignore
    tl.store(loss_ptr, loss)


@pytest.mark.parametrize("with_weight", [False, True])
def test_cross_entropy_inplace_grad(rng, with_weight):
    rows, cols = 6, 1000
    x = rng.standard_normal((rows, cols)).astype(np.float32)
    y = rng.integers(0, cols, rows).astype(np.int64)
    y[2] = -100
    weight = rng.uniform(0.5, 2, cols).astype(np.float32) if with_weight else None
    loss = np.zeros(rows, np.float32)
    grad = x.copy()
    n_non_ignore = int((y != -100).sum())
    liger_cross_entropy_kernel[(rows,)](grad, cols, y, 1, weight, loss, 1, cols, n_non_ignore, -100,
                                        label_smoothing=0.0, HAS_WEIGHT=weight is not None, BLOCK_SIZE=256)
    x64 = x.astype(np.float64)
    lse = np.log(np.exp(x64 - x64.max(1, keepdims=True)).sum(1)) + x64.max(1)
    for r in range(rows):
        if y[r] == -100:
            assert (grad[r] == 0).all() and loss[r] == 0
            continue
        w = weight[y[r]] if with_weight else 1.0
        close(loss[r], (lse[r] - x64[r, y[r]]) * w / n_non_ignore, 1e-5)
        g = np.exp(x64[r] - lse[r])
        g[y[r]] -= 1
        close(grad[r], g * w / n_non_ignore, 1e-5)


@triton.jit
def _gelu_scaled_kernel(x_ptr, scale_ptr, y_ptr, n_cols, BLOCK_SIZE: tl.constexpr):
    # Helpers imported from another module, as Liger imports from liger_kernel.ops.utils.
    row = tl.program_id(0)
    offs = tl.arange(0, BLOCK_SIZE)
    mask = offs < n_cols
    x = tl.load(x_ptr + row * n_cols + offs, mask=mask, other=0.0)
    y = helpers_gelu(x)
    y = row_scale(y, scale_ptr, row)
    tl.store(y_ptr + row * n_cols + offs, y, mask=mask)


@pytest.mark.parametrize("with_scale", [False, True])
def test_helpers_from_another_module(rng, with_scale):
    rows, cols = 3, 100
    x = rng.standard_normal((rows, cols)).astype(np.float32)
    scale = rng.uniform(1, 2, rows).astype(np.float32) if with_scale else None
    y = np.empty_like(x)
    _gelu_scaled_kernel[(rows,)](x, scale, y, cols, BLOCK_SIZE=128)
    x64 = x.astype(np.float64)
    ref = 0.5 * x64 * (1 + np.tanh(0.7978845608028654 * (x64 + 0.044715 * x64 ** 3)))
    close(y, ref * (scale[:, None] if with_scale else 1), 1e-5)
