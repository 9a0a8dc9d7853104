"""Flash-attention forward (samples/attention.py) causal and non-causal, head dims 64 and 128,
sequence lengths that are and are not multiples of the blocks, fp16 and bf16, over block /
num_warps / num_stages configs that take each GPU lowering (wgmma with A from registers and a
cp.async pipeline on sm_90, mma.sync elsewhere). Checked against float64 NumPy, outputs poisoned."""
import os
import sys

import numpy as np
import pytest

from conftest import assert_close, poison, rand

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples"))
from attention import attention_fwd  # noqa: E402

import tilec  # noqa: E402

# (BLOCK_M, BLOCK_N, num_warps, num_stages)
GPU_CONFIGS = [(128, 64, 8, 3), (128, 64, 4, 2), (64, 64, 4, 3), (128, 128, 8, 2), (64, 32, 4, 1)]
CPU_CONFIGS = [(32, 32, 4, 1)]


def reference(q, k, v, causal, scale):
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    s = q @ np.swapaxes(k, -1, -2) * scale
    if causal:
        n = s.shape[-1]
        s = np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    return (p / p.sum(axis=-1, keepdims=True)) @ v


def run(backend, rng, z, h, n_ctx, d, causal, dtype, config):
    bm, bn, warps, stages = config
    q_np, k_np, v_np = (rand(rng, (z, h, n_ctx, d), dtype, -1.0, 1.0) for _ in range(3))
    q, k, v = (backend.put(x, dtype) for x in (q_np, k_np, v_np))
    out = backend.put(poison((z, h, n_ctx, d), dtype), dtype)
    scale = d ** -0.5
    st = (h * n_ctx * d, n_ctx * d, d)
    attention_fwd[(tilec.cdiv(n_ctx, bm), z * h)](q, k, v, out, scale, *st, *st, *st, *st, h, n_ctx, HEAD_DIM=d,
                                                  BLOCK_M=bm, BLOCK_N=bn, CAUSAL=causal, num_warps=warps,
                                                  num_stages=stages)
    assert_close(backend.get(out), reference(q_np, k_np, v_np, causal, scale), dtype,
                 f"attention z={z} h={h} n={n_ctx} d={d} causal={causal} {dtype} {config}")


def configs(backend):
    return GPU_CONFIGS if backend.name == "cuda" else CPU_CONFIGS


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("d", [64, 128])
def test_attention(backend, rng, causal, d):
    for config in configs(backend):
        run(backend, rng, 1, 2, 256, d, causal, "float16", config)


@pytest.mark.parametrize("n_ctx", [200, 77])
def test_attention_masked_lengths(backend, rng, n_ctx):
    for config in configs(backend):
        for causal in (False, True):
            run(backend, rng, 2, 1, n_ctx, 64, causal, "float16", config)


def test_attention_bf16(backend, rng):
    if not backend.supports("bfloat16"):
        pytest.skip(f"{backend.name} has no bfloat16 tensors here")
    for config in configs(backend)[:2]:
        run(backend, rng, 1, 2, 192, 64, True, "bfloat16", config)
