"""The tutorial matmul (samples/matmul.py) over shapes that are not multiples of the block (masked
edges), transposed operands (strides), fp16 and bf16, and block / num_warps / num_stages configs that
take each GPU lowering: wgmma with a cp.async pipeline (sm_90), mma.sync with the pipeline, and the
unpipelined fallbacks. Checked against float64 NumPy with poisoned outputs on every backend."""
import os
import sys

import numpy as np
import pytest

from conftest import Backend, assert_close, poison, rand

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples"))
from matmul import matmul_kernel  # noqa: E402

import tilec  # noqa: E402

# (BLOCK_M, BLOCK_N, BLOCK_K, num_warps, num_stages)
GPU_CONFIGS = [(128, 128, 64, 4, 3), (128, 256, 64, 8, 3), (64, 128, 64, 4, 4), (128, 64, 32, 4, 2),
               (64, 64, 32, 4, 1)]
CPU_CONFIGS = [(32, 32, 32, 4, 3)]
SHAPES = [(256, 256, 256), (300, 200, 160), (129, 257, 72)]


def run(backend, rng, shape, dtype, config, trans_a=False, trans_b=False):
    m, n, k = shape
    bm, bn, bk, warps, stages = config
    a_np, b_np = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    # A transposed in memory: a (k, m) buffer read through swapped strides.
    a_mem = np.ascontiguousarray(a_np.T) if trans_a else a_np
    b_mem = np.ascontiguousarray(b_np.T) if trans_b else b_np
    a, b = backend.put(a_mem, dtype), backend.put(b_mem, dtype)
    c = backend.put(poison((m, n), dtype), dtype)
    sam, sak = (1, m) if trans_a else (k, 1)
    sbk, sbn = (1, k) if trans_b else (n, 1)
    grid = (tilec.cdiv(m, bm) * tilec.cdiv(n, bn),)
    matmul_kernel[grid](a, b, c, m, n, k, sam, sak, sbk, sbn, n, 1, BLOCK_SIZE_M=bm, BLOCK_SIZE_N=bn, BLOCK_SIZE_K=bk,
                        GROUP_SIZE_M=4, num_warps=warps, num_stages=stages)
    ref = a_np.astype(np.float64) @ b_np.astype(np.float64)
    assert_close(backend.get(c), ref, dtype, f"matmul {shape} {dtype} {config}")


def configs(backend):
    return GPU_CONFIGS if backend.name == "cuda" else CPU_CONFIGS


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_matmul_masked_edges(backend, rng, shape, dtype):
    if not backend.supports(dtype):
        pytest.skip(f"{backend.name} has no {dtype} tensors here")
    for config in configs(backend):
        run(backend, rng, shape, dtype, config)


# fp32 operands on the CPU (the GPU's default tf32 dot rounds them): the packed tiles come from vector
# loads; the two tiles take the micro-kernel's 6-row blocks with 4- and 2-row edges and rows of 1, 2
# and 4 vectors (which ones depends on the SIMD level).
@pytest.mark.parametrize("shape", SHAPES)
def test_matmul_float32_on_cpu(rng, shape):
    for config in [(64, 64, 32, 1, 1), (32, 16, 16, 1, 1)]:
        run(Backend("cpu"), rng, shape, "float32", config)


@pytest.mark.parametrize("trans_a,trans_b", [(True, False), (False, True), (True, True)])
def test_matmul_transposed_operands(backend, rng, trans_a, trans_b):
    for config in configs(backend)[:2]:
        run(backend, rng, (192, 160, 128), "float16", config, trans_a, trans_b)
