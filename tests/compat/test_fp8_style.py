"""Kernels in the style of the fp8, TMA-descriptor and target-dependent code of vLLM, SGLang,
the Triton tutorials and flash-linear-attention: per-token dynamic fp8 quantization, a
DeepSeek-style block-scaled w8a8 fp8 matmul, the tutorials' tensor-descriptor matmul, and a kernel
that picks inline PTX or libdevice through tl.target_info. fp8 data is torch's float8 dtypes (or
uint8 bytes through triton.reinterpret); references are float64 NumPy/torch on the CPU."""
import numpy as np
import pytest

import tilec as triton
import tilec.language as tl
from tilec.language.extra import libdevice
from tilec.language.target_info import cuda_capability_geq, is_cuda
from compat_check import close, rng  # noqa: F401 (fixtures)

torch = pytest.importorskip("torch")

FP8_E4M3_MAX = tl.constexpr(448.0)


@triton.jit
def per_token_quant_fp8_kernel(x_ptr, y_ptr, s_ptr, stride_x, stride_y, N, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < N
    x = tl.load(x_ptr + row * stride_x + cols, mask=mask, other=0.0).to(tl.float32)
    fp8_max = FP8_E4M3_MAX if y_ptr.dtype.element_ty == tl.float8e4nv else 57344.0
    scale = tl.maximum(tl.max(tl.abs(x)), eps) / fp8_max
    y = tl.clamp(x / scale, -fp8_max, fp8_max).to(y_ptr.dtype.element_ty)
    tl.store(y_ptr + row * stride_y + cols, y, mask=mask)
    tl.store(s_ptr + row, scale)


@pytest.mark.parametrize("out_dtype", [torch.float8_e4m3fn, torch.float8_e5m2])
def test_per_token_quant_fp8(rng, out_dtype):
    m, n = 17, 300
    x = torch.from_numpy(rng.standard_normal((m, n)).astype(np.float16) * 4)
    y = torch.empty((m, n), dtype=out_dtype)
    s = torch.full((m,), float("nan"))
    per_token_quant_fp8_kernel[(m,)](x, y, s, x.stride(0), y.stride(0), n, 1e-10, BLOCK=triton.next_power_of_2(n))
    fmax = torch.finfo(out_dtype).max
    ref_s = x.float().abs().amax(dim=1).clamp(min=1e-10) / fmax
    close(s.numpy(), ref_s.numpy(), tol=1e-6)
    q = (x.float() / s[:, None]).clamp(-fmax, fmax).to(out_dtype)
    assert torch.equal(y.view(torch.uint8), q.view(torch.uint8))


@triton.heuristics({"EVEN_K": lambda args: args["K"] % args["BLOCK_K"] == 0})
@triton.jit
def w8a8_block_fp8_matmul(A, B, C, As, Bs, M, N, K, group_n, group_k,
                          stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                          stride_as_m, stride_as_k, stride_bs_k, stride_bs_n,
                          BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, EVEN_K: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    offs_am = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)) % M
    offs_bn = (pid_n * BLOCK_N + tl.arange(0, BLOCK_N)) % N
    offs_k = tl.arange(0, BLOCK_K)
    a_ptrs = A + (offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak)
    b_ptrs = B + (offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn)
    As_ptrs = As + offs_am * stride_as_m
    offs_bsn = offs_bn // group_n
    Bs_ptrs = Bs + offs_bsn * stride_bs_n
    accumulator = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        if EVEN_K:
            a = tl.load(a_ptrs)
            b = tl.load(b_ptrs)
        else:
            a = tl.load(a_ptrs, mask=offs_k[None, :] < K - k * BLOCK_K, other=0.0)
            b = tl.load(b_ptrs, mask=offs_k[:, None] < K - k * BLOCK_K, other=0.0)
        k_start = k * BLOCK_K
        offs_ks = k_start // group_k
        a_s = tl.load(As_ptrs + offs_ks * stride_as_k)
        b_s = tl.load(Bs_ptrs + offs_ks * stride_bs_k)
        accumulator += tl.dot(a, b) * a_s[:, None] * b_s[None, :]
        a_ptrs += BLOCK_K * stride_ak
        b_ptrs += BLOCK_K * stride_bk
    if C.dtype.element_ty == tl.bfloat16:
        c = accumulator.to(tl.bfloat16)
    elif C.dtype.element_ty == tl.float16:
        c = accumulator.to(tl.float16)
    else:
        c = accumulator.to(tl.float32)
    offs_cm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_cn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    c_ptrs = C + stride_cm * offs_cm[:, None] + stride_cn * offs_cn[None, :]
    c_mask = (offs_cm[:, None] < M) & (offs_cn[None, :] < N)
    tl.store(c_ptrs, c, mask=c_mask)


@pytest.mark.parametrize("m, n, k", [(48, 64, 256), (37, 96, 200)])
def test_w8a8_block_fp8_matmul(rng, m, n, k):
    gn = gk = 32
    a_f = rng.standard_normal((m, k)).astype(np.float32)
    b_f = rng.standard_normal((k, n)).astype(np.float32)
    a_s = rng.uniform(0.5, 2, (m, triton.cdiv(k, gk))).astype(np.float32)
    b_s = rng.uniform(0.5, 2, (triton.cdiv(k, gk), triton.cdiv(n, gn))).astype(np.float32)
    a = torch.from_numpy(a_f).to(torch.float8_e4m3fn)
    # B stored as (N, K), as vLLM keeps the weight, and read through its transposed strides.
    bt = torch.from_numpy(b_f.T.copy()).to(torch.float8_e4m3fn)
    c = torch.full((m, n), float("nan"), dtype=torch.float32)
    grid = (triton.cdiv(m, 16), triton.cdiv(n, 32))
    w8a8_block_fp8_matmul[grid](a, bt, c, torch.from_numpy(a_s), torch.from_numpy(b_s), m, n, k, gn, gk,
                                a.stride(0), a.stride(1), bt.stride(1), bt.stride(0), c.stride(0), c.stride(1),
                                a_s.shape[1], 1, b_s.shape[1], 1, BLOCK_M=16, BLOCK_N=32, BLOCK_K=32)
    ad = a.to(torch.float64).numpy()
    bd = bt.to(torch.float64).numpy().T
    ref = np.zeros((m, n))
    for kb in range(triton.cdiv(k, gk)):
        ks = slice(kb * gk, (kb + 1) * gk)
        ref += (ad[:, ks] @ bd[ks, :]) * a_s[:, kb][:, None] * np.repeat(b_s[kb], gn)[None, :n]
    close(c.numpy(), ref, tol=1e-4)


@triton.jit
def matmul_kernel_descriptor(a_ptr, b_ptr, c_ptr, M, N, K,
                             BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr, BLOCK_SIZE_K: tl.constexpr):
    dtype = tl.float16
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    a_desc = tl.make_tensor_descriptor(a_ptr, shape=[M, K], strides=[K, 1], block_shape=[BLOCK_SIZE_M, BLOCK_SIZE_K])
    b_desc = tl.make_tensor_descriptor(b_ptr, shape=[N, K], strides=[K, 1], block_shape=[BLOCK_SIZE_N, BLOCK_SIZE_K])
    c_desc = tl.make_tensor_descriptor(c_ptr, shape=[M, N], strides=[N, 1], block_shape=[BLOCK_SIZE_M, BLOCK_SIZE_N])
    offs_am = pid_m * BLOCK_SIZE_M
    offs_bn = pid_n * BLOCK_SIZE_N
    accumulator = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
    for k in tl.range(0, tl.cdiv(K, BLOCK_SIZE_K)):
        offs_k = k * BLOCK_SIZE_K
        a = a_desc.load([offs_am, offs_k])
        b = b_desc.load([offs_bn, offs_k])
        accumulator = tl.dot(a, b.T, accumulator)
    c = accumulator.to(dtype)
    c_desc.store([offs_am, offs_bn], c)


@pytest.mark.parametrize("m, n, k", [(64, 64, 64), (50, 70, 90)])
def test_matmul_kernel_descriptor(rng, m, n, k):
    a = rng.uniform(-1, 1, (m, k)).astype(np.float16)
    b = rng.uniform(-1, 1, (n, k)).astype(np.float16)  # the tutorial keeps B as (N, K)
    c = np.full((m, n), np.nan, np.float16)
    triton.set_allocator(lambda size, align, stream: np.empty(size, np.int8))
    matmul_kernel_descriptor[(triton.cdiv(m, 32), triton.cdiv(n, 32))](a, b, c, m, n, k, BLOCK_SIZE_M=32,
                                                                    BLOCK_SIZE_N=32, BLOCK_SIZE_K=32)
    close(c, a.astype(np.float64) @ b.astype(np.float64).T, tol=2e-2)


@triton.jit
def fast_tanh(x):
    # flash-linear-attention style: inline PTX where the target has it, libdevice elsewhere.
    if is_cuda() and cuda_capability_geq(7, 5):
        return tl.inline_asm_elementwise("tanh.approx.f32 $0, $1;", "=f,f", [x], dtype=tl.float32, is_pure=True, pack=1)
    else:
        return libdevice.tanh(x)


@triton.jit
def gelu_tanh_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    tl.static_assert(BLOCK % tl.extra.cuda.num_threads() == 0)
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    inner = 0.7978845608028654 * (x + 0.044715 * x * x * x)
    tl.store(y_ptr + offs, 0.5 * x * (1.0 + fast_tanh(inner)), mask=mask)


def test_target_dependent_gelu(rng):
    target = triton.runtime.driver.active.get_current_target()
    block = 1024 if target.backend == "cuda" and target.arch >= 90 else 512
    n = 3000
    x = rng.uniform(-4, 4, n).astype(np.float32)
    y = np.full(n, np.nan, np.float32)
    gelu_tanh_kernel[(triton.cdiv(n, block),)](x, y, n, BLOCK=block, num_warps=4)
    xd = x.astype(np.float64)
    close(y, 0.5 * xd * (1 + np.tanh(0.7978845608028654 * (xd + 0.044715 * xd ** 3))), tol=1e-5)


@triton.jit
def fp8_bytes_dequant_kernel(q_ptr, s_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    q = tl.load(q_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, q.to(tl.float32) * tl.load(s_ptr), mask=mask)


def test_fp8_bytes_through_reinterpret(rng):
    n = 777
    raw = rng.integers(0, 256, n).astype(np.uint8)
    raw[(raw & 0x7F) == 0x7F] = 0x3C  # no NaN bytes
    out = np.full(n, np.nan, np.float32)
    fp8_bytes_dequant_kernel[(triton.cdiv(n, 256),)](triton.reinterpret(raw, tl.float8e4nv), np.float32([0.25]), out, n,
                                                     BLOCK=256)
    ref = torch.from_numpy(raw).view(torch.float8_e4m3fn).to(torch.float64).numpy() * 0.25
    close(out, ref, tol=0)
