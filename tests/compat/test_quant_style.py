"""Kernels in the style of vLLM / SGLang / AWQ / bitsandbytes quantization and KV-cache code:
int4 unpacking with shifts and tl.join, per-token dynamic int8 quantization with libdevice.rint
and tl.clamp, blockwise absmax quantization under autotune, and SGLang's kv-index builder with a
None start-offset pointer tested as `if kv_start_idx:`."""
import numpy as np
import pytest

import tilec as triton
import tilec.language as tl
from tilec.language.extra import libdevice
from compat_check import close, retune, rng  # noqa: F401 (fixtures)

AWQ_ORDER = tl.constexpr(0)


@triton.jit
def unpack_int4_kernel(packed_ptr, scales_ptr, zeros_ptr, out_ptr, N_PACKED: tl.constexpr):
    # Each uint8 holds two 4-bit values: low nibble first (as AWQ/GPTQ-style dequantizers read them).
    row = tl.program_id(0)
    offs = tl.arange(0, N_PACKED)
    packed = tl.load(packed_ptr + row * N_PACKED + offs).to(tl.int32)
    lo = packed & 0xF
    hi = (packed >> 4) & 0xF
    q = tl.reshape(tl.join(lo, hi), (2 * N_PACKED,))
    scale = tl.load(scales_ptr + row)
    zero = tl.load(zeros_ptr + row) if zeros_ptr is not None else 8
    out = (q - zero).to(tl.float32) * scale
    tl.store(out_ptr + row * 2 * N_PACKED + tl.arange(0, 2 * N_PACKED), out.to(out_ptr.dtype.element_ty))


@pytest.mark.parametrize("with_zeros", [False, True])
def test_unpack_int4(rng, with_zeros):
    rows, n_packed = 3, 16
    packed = rng.integers(0, 256, (rows, n_packed)).astype(np.uint8)
    scales = rng.uniform(0.01, 0.1, rows).astype(np.float32)
    zeros = rng.integers(0, 16, rows).astype(np.int32) if with_zeros else None
    out = np.empty((rows, 2 * n_packed), np.float16)
    unpack_int4_kernel[(rows,)](packed, scales, zeros, out, N_PACKED=n_packed)
    q = np.stack([packed & 0xF, packed >> 4], -1).reshape(rows, -1).astype(np.float64)
    z = zeros[:, None] if with_zeros else 8
    close(out, (q - z) * scales[:, None], 2e-3)


@triton.jit
def per_token_quant_int8_kernel(x_ptr, xq_ptr, scale_ptr, stride_x, stride_xq, N, BLOCK: tl.constexpr):
    row_id = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < N
    x = tl.load(x_ptr + row_id * stride_x + cols, mask=mask, other=0.0).to(tl.float32)
    absmax = tl.maximum(tl.max(tl.abs(x)), 1e-10)
    scale_x = absmax / 127
    x_q = x * (127 / absmax)
    x_q = libdevice.rint(x_q).to(tl.int8)
    tl.store(xq_ptr + row_id * stride_xq + cols, x_q, mask=mask)
    tl.store(scale_ptr + row_id, scale_x)


def test_per_token_quant_int8(rng):
    rows, n = 5, 300
    x = rng.standard_normal((rows, n)).astype(np.float16)
    xq = np.empty((rows, n), np.int8)
    scale = np.empty(rows, np.float32)
    per_token_quant_int8_kernel[(rows,)](x, xq, scale, n, n, n, BLOCK=triton.next_power_of_2(n))
    x64 = x.astype(np.float32)
    absmax = np.abs(x64).max(1)
    close(scale, absmax / 127, 1e-6)
    ref = np.rint(x64 * (127 / absmax[:, None]).astype(np.float32))
    assert np.abs(xq.astype(np.int32) - ref).max() <= 1 and (xq == ref).mean() > 0.99


@triton.autotune(configs=[triton.Config({"BLOCK_SIZE": 64}), triton.Config({"BLOCK_SIZE": 256})], key=["n_elements"],
                 warmup=1, rep=2)
@triton.jit
def quantize_blockwise_kernel(x_ptr, absmax_ptr, out_ptr, n_elements, QBLOCK: tl.constexpr, BLOCK_SIZE: tl.constexpr):
    # One program per BLOCK_SIZE elements, one absmax per QBLOCK of them (bitsandbytes-style).
    tl.static_assert(BLOCK_SIZE % QBLOCK == 0)
    pid = tl.program_id(0)
    offs = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    x = tl.load(x_ptr + offs, mask=offs < n_elements, other=0.0)
    blocks = tl.reshape(x, (BLOCK_SIZE // QBLOCK, QBLOCK))
    absmax = tl.max(tl.abs(blocks), axis=1)
    q = libdevice.round(blocks / tl.maximum(absmax, 1e-12)[:, None] * 127.0)
    q = tl.clamp(q, -127.0, 127.0).to(tl.int8)
    tl.store(out_ptr + offs, tl.reshape(q, (BLOCK_SIZE,)), mask=offs < n_elements)
    qb = pid * (BLOCK_SIZE // QBLOCK) + tl.arange(0, BLOCK_SIZE // QBLOCK)
    tl.store(absmax_ptr + qb, absmax, mask=qb * QBLOCK < n_elements)


def test_quantize_blockwise(rng, retune):
    n, qblock = 1024, 32
    x = rng.standard_normal(n).astype(np.float32)
    out = np.empty(n, np.int8)
    absmax = np.empty(n // qblock, np.float32)
    quantize_blockwise_kernel[lambda m: (triton.cdiv(n, m["BLOCK_SIZE"]),)](x, absmax, out, n, QBLOCK=qblock)
    blocks = x.reshape(-1, qblock)
    ref_absmax = np.abs(blocks).max(1)
    close(absmax, ref_absmax, 0)
    scaled = blocks / ref_absmax[:, None] * 127.0
    ref = np.clip(np.sign(scaled) * np.floor(np.abs(scaled) + 0.5), -127, 127).reshape(-1)
    assert np.abs(out.astype(np.int32) - ref).max() <= 1 and (out == ref).mean() > 0.99


@triton.jit
def create_flashinfer_kv_indices_triton(req_to_token_ptr, req_pool_indices_ptr, page_kernel_lens_ptr, kv_indptr,
                                        kv_start_idx, kv_indices_ptr, req_to_token_ptr_stride: tl.constexpr):
    BLOCK_SIZE: tl.constexpr = 512
    pid = tl.program_id(axis=0)
    req_pool_index = tl.load(req_pool_indices_ptr + pid)
    kv_indices_offset = tl.load(kv_indptr + pid)
    kv_start = 0
    kv_end = 0
    if kv_start_idx:
        kv_start = tl.load(kv_start_idx + pid).to(tl.int32)
        kv_end = kv_start
    kv_end += tl.load(page_kernel_lens_ptr + pid).to(tl.int32)
    num_loop = tl.cdiv(kv_end - kv_start, BLOCK_SIZE)
    for i in range(num_loop):
        offset = tl.arange(0, BLOCK_SIZE).to(tl.int64) + i * BLOCK_SIZE
        mask = offset < kv_end - kv_start
        data = tl.load(req_to_token_ptr + req_pool_index * req_to_token_ptr_stride + kv_start + offset, mask=mask)
        tl.store(kv_indices_ptr + kv_indices_offset + offset, data, mask=mask)


@pytest.mark.parametrize("with_start", [False, True])
def test_kv_indices(rng, with_start):
    pool, max_ctx, bs = 6, 1500, 3
    req_to_token = rng.integers(0, 10 ** 6, (pool, max_ctx)).astype(np.int32)
    req_pool_indices = np.array([4, 0, 2], np.int64)
    lens = np.array([700, 5, 1100], np.int32)
    starts = np.array([10, 0, 300], np.int64) if with_start else None
    indptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int32)
    out = np.full(indptr[-1], -1, np.int32)
    create_flashinfer_kv_indices_triton[(bs,)](req_to_token, req_pool_indices, lens, indptr, starts, out,
                                               req_to_token_ptr_stride=max_ctx)
    s = starts if with_start else np.zeros(bs, np.int64)
    ref = np.concatenate([req_to_token[req_pool_indices[b], s[b]:s[b] + lens[b]] for b in range(bs)])
    np.testing.assert_array_equal(out, ref)
