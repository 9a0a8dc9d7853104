"""More kernels in project styles: FlagGems' isclose / nan_to_num / normal_ / uniform_ (libdevice
predicates, tl.randn4x / tl.rand4x), attorch's softmax (heuristics above autotune), a Mamba-style
selective-state update (heuristics from `args[...] is not None`, None pointers, softplus through
tl.math.log1p), and Liger's KL divergence (string constexpr globals choosing the reduction)."""
import numpy as np
import pytest

import tilec as triton
import tilec.language as tl
from tilec.language.extra import libdevice
from compat_check import close, retune, rng  # noqa: F401 (fixtures)
from test_flaggems_style import philox_ref, uniform_ref


@triton.jit
def isclose_kernel(a_ptr, b_ptr, out_ptr, n, rtol, atol, EQUAL_NAN: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    a = tl.load(a_ptr + offs, mask=m).to(tl.float32)
    b = tl.load(b_ptr + offs, mask=m).to(tl.float32)
    close_ = libdevice.fabs(a - b) <= atol + rtol * libdevice.fabs(b)
    finite = (libdevice.isinf(a) == 0) & (libdevice.isinf(b) == 0)
    res = tl.where(finite, close_, a == b)
    if EQUAL_NAN:
        res = res | ((libdevice.isnan(a) != 0) & (libdevice.isnan(b) != 0))
    tl.store(out_ptr + offs, res, mask=m)


@pytest.mark.parametrize("equal_nan", [False, True])
def test_isclose(rng, equal_nan):
    n = 400
    a = rng.standard_normal(n).astype(np.float32)
    b = a + rng.standard_normal(n).astype(np.float32) * rng.choice([1e-7, 1e-2], n).astype(np.float32)
    a[:4] = [np.nan, np.inf, -np.inf, np.nan]
    b[:4] = [np.nan, np.inf, np.inf, 1.0]
    out = np.empty(n, np.bool_)
    isclose_kernel[(triton.cdiv(n, 128),)](a, b, out, n, 1e-5, 1e-6, EQUAL_NAN=equal_nan, BLOCK=128)
    np.testing.assert_array_equal(out, np.isclose(a, b, 1e-5, 1e-6, equal_nan))


@triton.jit
def nan_to_num_kernel(x_ptr, out_ptr, n, nan, posinf, neginf, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    x = tl.where(libdevice.isnan(x) != 0, nan, x)
    x = tl.where(x == float("inf"), posinf, x)
    x = tl.where(x == float("-inf"), neginf, x)
    tl.store(out_ptr + offs, x, mask=m)


def test_nan_to_num(rng):
    x = rng.standard_normal(100).astype(np.float64)
    x[[3, 7, 11]] = [np.nan, np.inf, -np.inf]
    out = np.empty_like(x)
    nan_to_num_kernel[(1,)](x, out, 100, 0.5, 1e30, -1e30, BLOCK=128)
    np.testing.assert_array_equal(out, np.nan_to_num(x, nan=0.5, posinf=np.float32(1e30), neginf=np.float32(-1e30)))


@triton.heuristics({"BLOCK": lambda args: 1024 if args["N"] >= 4096 else 256})
@triton.jit(do_not_specialize=["philox_seed", "philox_offset"])
def randn_kernel(out_ptr, N, mean, std, philox_seed, philox_offset, BLOCK: tl.constexpr):
    UNROLL: tl.constexpr = 4
    i4 = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    r0, r1, r2, r3 = tl.randn4x(philox_seed, i4 + philox_offset)
    off0 = tl.program_id(0) * BLOCK * UNROLL + tl.arange(0, BLOCK)
    tl.store(out_ptr + off0, r0 * std + mean, mask=off0 < N)
    tl.store(out_ptr + off0 + BLOCK, r1 * std + mean, mask=off0 + BLOCK < N)
    tl.store(out_ptr + off0 + 2 * BLOCK, r2 * std + mean, mask=off0 + 2 * BLOCK < N)
    tl.store(out_ptr + off0 + 3 * BLOCK, r3 * std + mean, mask=off0 + 3 * BLOCK < N)


def test_normal_fill():
    n = 1 << 14
    out = np.empty(n, np.float32)
    randn_kernel[(triton.cdiv(n, 1024 * 4),)](out, n, 2.0, 0.5, 99, 0)
    assert abs(out.mean() - 2.0) < 0.02 and abs(out.std() - 0.5) < 0.02
    again = np.empty(n, np.float32)
    randn_kernel[(triton.cdiv(n, 1024 * 4),)](again, n, 2.0, 0.5, 99, 0)
    np.testing.assert_array_equal(out, again)


@triton.jit
def uniform_kernel(out_ptr, N, low, high, seed, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    u0, u1, u2, u3 = tl.rand4x(seed, offs)
    tl.store(out_ptr + offs, u2 * (high - low) + low, mask=offs < N)


def test_uniform_fill_matches_philox():
    n = 1000
    out = np.empty(n, np.float32)
    uniform_kernel[(triton.cdiv(n, 256),)](out, n, -1.0, 3.0, 2024, BLOCK=256)
    u = uniform_ref(philox_ref(2024, np.arange(triton.cdiv(n, 256) * 256))[2])[:n]
    np.testing.assert_array_equal(out, u * np.float32(4.0) + np.float32(-1.0))


@triton.heuristics({"BLOCK_SIZE_FEAT": lambda args: triton.next_power_of_2(args["feat_dim"])})
@triton.autotune(configs=[triton.Config({"BLOCK_SIZE_BATCH": 1}), triton.Config({"BLOCK_SIZE_BATCH": 4})],
                 key=["batch_dim", "feat_dim"], warmup=1, rep=2)
@triton.jit
def softmax_forward_kernel(input_pointer, output_pointer, batch_dim, feat_dim, input_batch_stride, output_batch_stride,
                           log: tl.constexpr, BLOCK_SIZE_BATCH: tl.constexpr, BLOCK_SIZE_FEAT: tl.constexpr):
    batch_pid = tl.program_id(axis=0)
    batch_offset = batch_pid * BLOCK_SIZE_BATCH + tl.arange(0, BLOCK_SIZE_BATCH)
    feat_offset = tl.arange(0, BLOCK_SIZE_FEAT)
    batch_mask = batch_offset < batch_dim
    feat_mask = feat_offset < feat_dim
    input_pointer += input_batch_stride * batch_offset[:, None] + feat_offset[None, :]
    output_pointer += output_batch_stride * batch_offset[:, None] + feat_offset[None, :]
    input = tl.load(input_pointer, mask=batch_mask[:, None] & feat_mask[None, :], other=-float("inf")).to(tl.float32)
    input -= tl.max(input, axis=1)[:, None]
    numerator = tl.exp(input)
    denominator = tl.sum(numerator, axis=1)[:, None]
    if log:
        output = input - tl.log(denominator)
    else:
        output = numerator / denominator
    tl.store(output_pointer, output, mask=batch_mask[:, None] & feat_mask[None, :])


@pytest.mark.parametrize("log", [False, True])
def test_softmax(rng, retune, log):
    b, f = 7, 100
    x = rng.standard_normal((b, f)).astype(np.float32)
    out = np.empty_like(x)
    softmax_forward_kernel[lambda m: (triton.cdiv(b, m["BLOCK_SIZE_BATCH"]),)](x, out, b, f, f, f, log=log)
    x64 = x.astype(np.float64) - x.max(1, keepdims=True)
    ref = x64 - np.log(np.exp(x64).sum(1, keepdims=True)) if log else np.exp(x64) / np.exp(x64).sum(1, keepdims=True)
    close(out, ref, 1e-5)


@triton.jit
def softplus(dt):
    return tl.where(dt <= 20.0, tl.math.log1p(tl.exp(dt)), dt)


@triton.heuristics({"HAS_DT_BIAS": lambda args: args["dt_bias_ptr"] is not None})
@triton.heuristics({"HAS_D": lambda args: args["D_ptr"] is not None})
@triton.heuristics({"BLOCK_SIZE_DSTATE": lambda args: triton.next_power_of_2(args["dstate"])})
@triton.jit
def _selective_scan_update_kernel(state_ptr, x_ptr, dt_ptr, dt_bias_ptr, A_ptr, B_ptr, C_ptr, D_ptr, out_ptr, dim,
                                  dstate, DT_SOFTPLUS: tl.constexpr, HAS_DT_BIAS: tl.constexpr, HAS_D: tl.constexpr,
                                  BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_DSTATE: tl.constexpr):
    pid_m = tl.program_id(axis=0)
    offs_m = pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)
    offs_n = tl.arange(0, BLOCK_SIZE_DSTATE)
    state_ptrs = state_ptr + offs_m[:, None] * dstate + offs_n[None, :]
    mask = (offs_m[:, None] < dim) & (offs_n[None, :] < dstate)
    state = tl.load(state_ptrs, mask=mask, other=0.0)
    x = tl.load(x_ptr + offs_m, mask=offs_m < dim, other=0.0).to(tl.float32)
    dt = tl.load(dt_ptr + offs_m, mask=offs_m < dim, other=0.0).to(tl.float32)
    if HAS_DT_BIAS:
        dt += tl.load(dt_bias_ptr + offs_m, mask=offs_m < dim, other=0.0).to(tl.float32)
    if DT_SOFTPLUS:
        dt = softplus(dt)
    A = tl.load(A_ptr + offs_m[:, None] * dstate + offs_n[None, :], mask=mask, other=0.0).to(tl.float32)
    dA = tl.exp(A * dt[:, None])
    B = tl.load(B_ptr + offs_n, mask=offs_n < dstate, other=0.0).to(tl.float32)
    C = tl.load(C_ptr + offs_n, mask=offs_n < dstate, other=0.0).to(tl.float32)
    dB = B[None, :] * dt[:, None]
    state = state * dA + dB * x[:, None]
    tl.store(state_ptrs, state, mask=mask)
    out = tl.sum(state * C[None, :], axis=1)
    if HAS_D:
        out += x * tl.load(D_ptr + offs_m, mask=offs_m < dim, other=0.0).to(tl.float32)
    tl.store(out_ptr + offs_m, out, mask=offs_m < dim)


@pytest.mark.parametrize("has_bias,has_d", [(False, False), (True, True)])
def test_selective_state_update(rng, has_bias, has_d):
    dim, dstate = 40, 12
    state = rng.standard_normal((dim, dstate)).astype(np.float32)
    x, dt = rng.standard_normal(dim).astype(np.float32), rng.standard_normal(dim).astype(np.float32)
    dt_bias = rng.standard_normal(dim).astype(np.float32) if has_bias else None
    A = -rng.uniform(0.5, 2, (dim, dstate)).astype(np.float32)
    B, C = rng.standard_normal(dstate).astype(np.float32), rng.standard_normal(dstate).astype(np.float32)
    D = rng.standard_normal(dim).astype(np.float32) if has_d else None
    out = np.empty(dim, np.float32)
    s = state.copy()
    _selective_scan_update_kernel[(triton.cdiv(dim, 16),)](s, x, dt, dt_bias, A, B, C, D, out, dim, dstate,
                                                           DT_SOFTPLUS=True, BLOCK_SIZE_M=16)
    d = dt.astype(np.float64) + (dt_bias if has_bias else 0)
    d = np.where(d <= 20, np.log1p(np.exp(d)), d)
    ref_state = state * np.exp(A * d[:, None]) + B[None, :] * d[:, None] * x[:, None]
    close(s, ref_state, 1e-5)
    close(out, (ref_state * C).sum(1) + (x * D if has_d else 0), 1e-4)


_REDUCTION_MODE_NONE: tl.constexpr = tl.constexpr("none")
_REDUCTION_MODE_SUM: tl.constexpr = tl.constexpr("sum")
_REDUCTION_MODE_BATCHMEAN: tl.constexpr = tl.constexpr("batchmean")


@triton.jit
def _kldiv_kernel_forward(y_ptr, y_stride, gt_ptr, gt_stride, loss_ptr, loss_stride, n_cols, eps,
                          BLOCK_SIZE: tl.constexpr, log_target: tl.constexpr = False,
                          reduction: tl.constexpr = _REDUCTION_MODE_BATCHMEAN):
    pid = tl.program_id(0).to(tl.int64)
    y_ptr += pid * y_stride
    gt_ptr += pid * gt_stride
    loss_ptr += pid * loss_stride
    base_offsets = tl.arange(0, BLOCK_SIZE)
    loss_sum = 0.0
    for i in range(0, n_cols, BLOCK_SIZE):
        offsets = i + base_offsets
        mask = offsets < n_cols
        y = tl.load(y_ptr + offsets, mask=mask, other=0.0)
        y_true = tl.load(gt_ptr + offsets, mask=mask, other=0.0)
        if not log_target:
            loss = y_true * (tl.log(tl.maximum(y_true, eps)) - y)
        else:
            loss = tl.exp(y_true) * (y_true - y)
        if reduction == _REDUCTION_MODE_NONE:
            tl.store(loss_ptr + offsets, loss, mask=mask)
        else:
            loss_sum += tl.sum(loss, axis=0)
    if reduction != _REDUCTION_MODE_NONE:
        tl.store(loss_ptr, loss_sum)


@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(rng, reduction, log_target):
    b, v = 4, 300
    y = np.log(rng.dirichlet(np.ones(v), b)).astype(np.float32)
    p = rng.dirichlet(np.ones(v), b)
    gt = (np.log(p) if log_target else p).astype(np.float32)
    loss = np.empty((b, v) if reduction == "none" else (b,), np.float32)
    _kldiv_kernel_forward[(b,)](y, v, gt, v, loss, v if reduction == "none" else 1, v, 1e-10, BLOCK_SIZE=128,
                                log_target=log_target, reduction=reduction)
    g = gt.astype(np.float64)
    ref = np.exp(g) * (g - y) if log_target else g * (np.log(np.maximum(g, 1e-10)) - y)
    close(loss, ref if reduction == "none" else ref.sum(1), 1e-4)
