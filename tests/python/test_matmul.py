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
import tilec.language as tl  # noqa: E402

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


@tilec.jit
def dot_accumulate(a_ptr, b_ptr, c_ptr, M, N, K, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
                   OUT: tl.constexpr, PRECISION: tl.constexpr, B_K_MAJOR: tl.constexpr = False):
    # A K loop of tl.dot(a, b, acc, out_dtype=OUT) with masked edges, one output tile per program.
    # B_K_MAJOR: b_ptr holds B transposed, [N, K] (a linear layer's weight, x @ w.T): B is K-major,
    # which wgmma needs for tf32, int8 and fp8 operands (sm_90).
    offs_m = tl.program_id(0) * BM + tl.arange(0, BM)
    offs_n = tl.program_id(1) * BN + tl.arange(0, BN)
    offs_k = tl.arange(0, BK)
    acc = tl.zeros((BM, BN), dtype=OUT)
    for k in range(0, K, BK):
        a = tl.load(a_ptr + offs_m[:, None] * K + (k + offs_k)[None, :],
                    mask=(offs_m[:, None] < M) & ((k + offs_k)[None, :] < K), other=0)
        if B_K_MAJOR:
            b = tl.trans(tl.load(b_ptr + offs_n[:, None] * K + (k + offs_k)[None, :],
                                 mask=(offs_n[:, None] < N) & ((k + offs_k)[None, :] < K), other=0))
        else:
            b = tl.load(b_ptr + (k + offs_k)[:, None] * N + offs_n[None, :],
                        mask=((k + offs_k)[:, None] < K) & (offs_n[None, :] < N), other=0)
        acc = tl.dot(a, b, acc, out_dtype=OUT, input_precision=PRECISION)
    tl.store(c_ptr + offs_m[:, None] * N + offs_n[None, :], acc, mask=(offs_m[:, None] < M) & (offs_n[None, :] < N))


# (input dtype, out_dtype, input_precision, tolerance key): every pair tl.dot takes on tensor cores
# (mma.sync / wgmma) or the FMA fallback.
DOT_PAIRS = [("float16", "float32", "ieee", "float16"), ("bfloat16", "float32", "ieee", "bfloat16"),
             ("float16", "float16", "ieee", "float16"), ("bfloat16", "bfloat16", "ieee", "bfloat16"),
             ("float32", "float32", "tf32", "tf32"), ("float32", "float32", "ieee", "float32"),
             ("int8", "int32", "ieee", "exact")]


# (input dtype, out_dtype, input_precision, tolerance key, BK): k rows of 128 bytes.
K_MAJOR_PAIRS = [("float16", "float32", "ieee", "float16", 64), ("float32", "float32", "tf32", "tf32", 32),
                 ("int8", "int32", "ieee", "exact", 128)]


@pytest.mark.parametrize("pair", K_MAJOR_PAIRS, ids=lambda p: f"{p[0]}-{p[1]}-{p[2]}")
def test_dot_k_major_b(backend, rng, pair):
    dtype, out_dtype, precision, tol, bk = pair
    if not backend.supports(dtype) or not backend.supports(out_dtype):
        pytest.skip(f"{backend.name} has no {dtype} tensors here")
    m, n, k = 144, 80, 4 * bk + 16  # masked edges in m, n and the last k block
    a_np, w_np = rand(rng, (m, k), dtype), rand(rng, (n, k), dtype)
    a, w = backend.put(a_np, dtype), backend.put(w_np, dtype)
    c = backend.put(poison((m, n), out_dtype), out_dtype)
    dot_accumulate[(tilec.cdiv(m, 64), tilec.cdiv(n, 64))](a, w, c, m, n, k, BM=64, BN=64, BK=bk, OUT=getattr(tl, out_dtype),
                                                          PRECISION=precision, B_K_MAJOR=True, num_warps=4, num_stages=3)
    ref = a_np.astype(np.float64) @ w_np.astype(np.float64).T
    assert_close(backend.get(c), ref, out_dtype if tol == "exact" else tol, f"k-major dot {pair}")


@pytest.mark.parametrize("fp8", ["float8e4nv", "float8e5"])
def test_dot_k_major_b_fp8_on_cuda(rng, fp8):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available() or torch.cuda.get_device_capability() < (8, 9):
        pytest.skip("fp8 tensor-core dots need an sm_89+ GPU")
    tt = {"float8e4nv": torch.float8_e4m3fn, "float8e5": torch.float8_e5m2}[fp8]
    m, n, k = 144, 80, 4 * 128 + 16
    # Small integers are exact in both fp8 formats, so the fp32 sums are exact too.
    a = torch.from_numpy(rng.integers(-3, 4, (m, k)).astype(np.float32)).cuda().to(tt)
    w = torch.from_numpy(rng.integers(-3, 4, (n, k)).astype(np.float32)).cuda().to(tt)
    c = torch.full((m, n), float("nan"), device="cuda")
    dot_accumulate[(tilec.cdiv(m, 64), tilec.cdiv(n, 64))](a, w, c, m, n, k, BM=64, BN=64, BK=128, OUT=tl.float32,
                                                          PRECISION="ieee", B_K_MAJOR=True, num_warps=4, num_stages=3)
    ref = a.double() @ w.double().T
    assert torch.equal(c.double(), ref), f"fp8 {fp8} k-major dot"


@pytest.mark.parametrize("pair", DOT_PAIRS, ids=lambda p: f"{p[0]}-{p[1]}-{p[2]}")
def test_dot_every_dtype_pair(backend, rng, pair):
    dtype, out_dtype, precision, tol = pair
    if not backend.supports(dtype) or not backend.supports(out_dtype):
        pytest.skip(f"{backend.name} has no {dtype} tensors here")
    m, n, k = 80, 72, 96  # not multiples of the 64 x 64 x 32 block: masked edges in every dimension
    a_np, b_np = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    a, b = backend.put(a_np, dtype), backend.put(b_np, dtype)
    c = backend.put(poison((m, n), out_dtype), out_dtype)
    bm, bn, bk = 64, 64, 32
    dot_accumulate[(tilec.cdiv(m, bm), tilec.cdiv(n, bn))](a, b, c, m, n, k, BM=bm, BN=bn, BK=bk,
                                                          OUT=getattr(tl, out_dtype), PRECISION=precision)
    ref = a_np.astype(np.float64) @ b_np.astype(np.float64)
    assert_close(backend.get(c), ref, out_dtype if tol == "exact" else tol, f"dot {pair}")


# The CPU backend updates a loop-carried accumulator in place when the dot is its only reader in
# that loop body. Not allowed, and checked here: an accumulator carried by an outer loop and read by
# a dot in an inner one (each inner iteration must see the same value), and two accumulators that
# swap storages every iteration.
@tilec.jit
def _dot_accumulators_kernel(a_ptr, b_ptr, outer_ptr, swap_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tile = offs[:, None] * BLOCK + offs[None, :]
    a = tl.load(a_ptr + tile)
    b = tl.load(b_ptr + tile)
    acc = tl.zeros((BLOCK, BLOCK), dtype=tl.float32)
    for _ in range(2):
        total = tl.zeros((BLOCK, BLOCK), dtype=tl.float32)
        for _ in range(3):
            total += tl.dot(a, b, acc)
        acc = total
    tl.store(outer_ptr + tile, acc)
    x = tl.zeros((BLOCK, BLOCK), dtype=tl.float32)
    y = tl.zeros((BLOCK, BLOCK), dtype=tl.float32) + 1.0
    for _ in range(3):
        x, y = tl.dot(a, b, y), x
    tl.store(swap_ptr + tile, x - y)


def test_dot_accumulator_not_aliased_wrongly_on_cpu(rng):
    block = 32
    a, b = rand(rng, (block, block), "float32"), rand(rng, (block, block), "float32")
    outer, swap = poison((block, block), "float32"), poison((block, block), "float32")
    _dot_accumulators_kernel[(1,)](a, b, outer, swap, BLOCK=block)
    ab = a.astype(np.float64) @ b.astype(np.float64)
    acc = np.zeros_like(ab)
    for _ in range(2):
        acc = 3 * (ab + acc)
    x, y = np.zeros_like(ab), np.ones_like(ab)
    for _ in range(3):
        x, y = ab + y, x
    assert_close(outer, acc, "float32", "outer-loop accumulator")
    assert_close(swap, x - y, "float32", "swapped accumulators")
