"""Kernels in the style of vLLM / SGLang: optional bias and scale arguments passed as None
(`if bias_ptr:` / `if scale is not None:`), module-level tl.constexpr globals and constexpr
defaults, `triton.next_power_of_2` on constexprs inside the kernel, `triton.language.core`-style
names (tl.tensor annotations), autotune with prune_configs_by and restore_value on an in-place
update, and early exit for padded tokens."""
import numpy as np
import pytest

import tilec as triton
import tilec.language as tl
from tilec.language import core as tlc
from compat_check import close, retune, rng  # noqa: F401 (fixtures)

PAD_SLOT_ID: tl.constexpr = tl.constexpr(-1)
DEFAULT_BLOCK = tl.constexpr(64)


@triton.jit
def _apply_scale(x: tl.tensor, scale) -> tl.tensor:
    if scale is not None:
        x = x * scale
    return x


@triton.jit
def scaled_add_bias_kernel(x_ptr, bias_ptr, out_ptr, scale, n_cols, stride, HAS_BIAS: tlc.constexpr = False,
                           BLOCK: tl.constexpr = DEFAULT_BLOCK):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    for start in range(0, n_cols, BLOCK):
        offs = start + cols
        m = offs < n_cols
        x = tl.load(x_ptr + row * stride + offs, mask=m, other=0.0).to(tl.float32)
        x = _apply_scale(x, scale)
        if bias_ptr:
            x += tl.load(bias_ptr + offs, mask=m, other=0.0)
        tl.store(out_ptr + row * stride + offs, x, mask=m)


@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("scale", [None, 0.5, 3])
def test_optional_args(rng, with_bias, scale):
    rows, cols = 3, 150
    x = rng.standard_normal((rows, cols)).astype(np.float32)
    bias = rng.standard_normal(cols).astype(np.float32) if with_bias else None
    out = np.empty_like(x)
    scaled_add_bias_kernel[(rows,)](x, bias, out, scale, cols, cols)
    ref = x.astype(np.float64) * (1 if scale is None else scale) + (bias if with_bias else 0)
    close(out, ref, 1e-6)


@triton.jit
def reshape_and_cache_kernel(key_ptr, key_cache_ptr, slot_mapping_ptr, num_heads, head_size: tl.constexpr):
    token_idx = tl.program_id(0)
    slot_idx = tl.load(slot_mapping_ptr + token_idx)
    if slot_idx == PAD_SLOT_ID:
        return
    HEAD_BLOCK: tl.constexpr = triton.next_power_of_2(head_size)
    offs = tl.arange(0, HEAD_BLOCK)
    for h in range(num_heads):
        src = key_ptr + token_idx * num_heads * head_size + h * head_size + offs
        dst = key_cache_ptr + slot_idx * num_heads * head_size + h * head_size + offs
        tl.store(dst, tl.load(src, mask=offs < head_size), mask=offs < head_size)


def test_early_exit_padded_tokens(rng):
    tokens, heads, head_size, slots = 6, 2, 24, 10
    key = rng.standard_normal((tokens, heads, head_size)).astype(np.float32)
    cache = np.full((slots, heads, head_size), 7.0, np.float32)
    slot_mapping = np.array([3, -1, 0, 9, -1, 5], np.int64)
    reshape_and_cache_kernel[(tokens,)](key, cache, slot_mapping, heads, head_size=head_size)
    ref = np.full_like(cache, 7.0)
    for t, s in enumerate(slot_mapping):
        if s >= 0:
            ref[s] = key[t]
    np.testing.assert_array_equal(cache, ref)


@triton.jit
def _helper_early_return(x, limit):
    if limit < 0:
        return x * 0
    if limit > 100:
        return x * 2
    return x + limit


@triton.jit
def early_return_helper_kernel(x_ptr, out_ptr, limit, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, _helper_early_return(tl.load(x_ptr + offs), limit))


@pytest.mark.parametrize("limit,fn", [(-5, lambda x: x * 0), (500, lambda x: x * 2), (7, lambda x: x + 7)])
def test_helper_with_early_returns(limit, fn):
    x = np.arange(16, dtype=np.int32)
    out = np.empty_like(x)
    early_return_helper_kernel[(1,)](x, out, limit, BLOCK=16)
    np.testing.assert_array_equal(out, fn(x))


def early_prune(configs, named_args, **kwargs):
    return [c for c in configs if c.kwargs["BLOCK_N"] <= max(16, triton.next_power_of_2(named_args["N"]))]


def perf_model(**kwargs):
    return -kwargs["BLOCK_N"]  # prefer the largest blocks


@triton.autotune(configs=[triton.Config({"BLOCK_N": b}) for b in (16, 32, 64, 128, 256)], key=["N"],
                 prune_configs_by={"early_config_prune": early_prune, "perf_model": perf_model, "top_k": 2},
                 restore_value=["x_ptr"], warmup=1, rep=2)
@triton.jit
def inplace_rotate_kernel(x_ptr, N, BLOCK_N: tl.constexpr):
    offs = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    m = offs < N
    x = tl.load(x_ptr + offs, mask=m)
    tl.store(x_ptr + offs, x * 2 + 1, mask=m)


def test_autotune_prune_and_restore_value(rng, retune):
    n = 100
    x = rng.integers(-100, 100, n).astype(np.int64)
    buf = x.copy()
    inplace_rotate_kernel[lambda m: (triton.cdiv(n, m["BLOCK_N"]),)](buf, n)
    np.testing.assert_array_equal(buf, x * 2 + 1)  # applied exactly once despite the timing runs
    assert inplace_rotate_kernel.best_config.kwargs["BLOCK_N"] in (64, 128)
    assert set(map(str, inplace_rotate_kernel.configs_timings)) == {"BLOCK_N: 64, num_warps: 4, num_stages: 3",
                                                                     "BLOCK_N: 128, num_warps: 4, num_stages: 3"}


@triton.jit
def silu_and_mul_kernel(o_ptr, o_stride, x_ptr, x_stride, d, BLOCK_SIZE: tl.constexpr) -> None:
    i = tl.program_id(axis=0).to(tl.int64)
    j = tl.program_id(axis=1)
    o_row_ptr = o_ptr + o_stride * i
    x_row_ptr = x_ptr + x_stride * i
    offsets = j * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < d
    a = tl.load(x_row_ptr + offsets, mask=mask).to(tl.float32)
    b = tl.load(x_row_ptr + offsets + d, mask=mask).to(tl.float32)
    result = a * tl.sigmoid(a) * b
    tl.store(o_row_ptr + offsets, result.to(o_ptr.dtype.element_ty), mask=mask)


def test_silu_and_mul(rng):
    rows, d = 4, 300
    x = rng.standard_normal((rows, 2 * d)).astype(np.float16)
    o = np.empty((rows, d), np.float16)
    silu_and_mul_kernel[(rows, triton.cdiv(d, 128))](o, d, x, 2 * d, d, BLOCK_SIZE=128)
    a, b = x[:, :d].astype(np.float64), x[:, d:].astype(np.float64)
    close(o, a / (1 + np.exp(-a)) * b, 5e-3)
