#!/usr/bin/env python3
"""GPU benchmarks of tilec against Triton and PyTorch (written for an H100; any recent NVIDIA GPU).

    PYTHONPATH=build/python python3 bench/gpu_bench.py [--out RESULTS_GPU.md] [--quick]

Needs torch with CUDA; Triton is optional (its columns read "n/a" without it). Inputs are random
(never zeros) and the same tensors go to tilec, Triton and PyTorch:

  vector add   2^28 fp32                      GB/s of 3*n*4 bytes
  softmax      32768x1024 and 8192x4096 fp32  GB/s of 2*M*N*4 bytes
  layernorm    16384x4096 fp32 (fwd)          GB/s of (2*M*N + 2*N + 2*M)*4 bytes (x,w,b in; y,mean,rstd out)
  matmul       8192^3 fp16, fp32 accumulate   TFLOP/s of 2*M*N*K (torch.matmul = cuBLAS)
  d2d copy     2^28 fp32                      GB/s of 2*n*4 bytes: the bandwidth ceiling
  descriptor   8192x8192 fp16 y = x * 0.5     GB/s of 2*M*N*2 bytes, through host TensorDescriptors
  desc_matmul  4096^3 fp16 through host TensorDescriptors (TMA in both compilers)   TFLOP/s
  compat       every tests/compat kernel      ms per launch, tilec / Triton time (target <= 1.1x);
               (bench/compat_bench.py; its group gets at least 30 minutes)

tilec runs the kernels of samples/ (the Triton tutorials' kernels); the Triton kernels are the
tutorials' own, copied below, with their fixed (autotune-free) launch configurations. tilec gets
Triton's configuration first and a few others; the best is reported, every one is listed.

Every result is checked against torch in float64 before it is timed (normwise relative error
max|y - ref| / max|ref|; fp32 < 1e-5, fp16 < 1e-2); a wrong result prints FAIL and no number.
Times: triton.testing.do_bench, median (20th/80th percentiles for the spread); CUDA events
without Triton. Also: host overhead per launch of a 1-program kernel (N launches timed with the
host clock and one synchronize at the end, divided by N) for tilec (kernel[grid] per call, and
the launcher hoisted), Triton, torch.add and the floor (tilec's cubin launched by cuLaunchKernel
in a C++ loop), and cold / warm first calls in a new process (bench/first_call.py: import -> first
result, torch import and CUDA context creation excluded; each child's steps and tilec's
TILEC_LOG=compile stage times are printed).

Any failing measurement prints its error and the script goes on with the rest.
"""
import argparse
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SAMPLES = os.path.join(REPO, "samples")
sys.path.insert(0, SAMPLES)
if os.path.isdir(os.path.join(REPO, "build", "python")):
    sys.path.insert(0, os.path.join(REPO, "build", "python"))


def find_nvrtc():
    """tilec dlopens libnvrtc; pip-installed torch ships it under site-packages/nvidia/, which the
    default search does not see. Returns a path (or None) for TILEC_NVRTC_PATH."""
    cands = []
    for base in sys.path:
        if not base or not os.path.isdir(os.path.join(base, "nvidia")):
            continue
        cands += glob.glob(os.path.join(base, "nvidia", "**", "libnvrtc.so*"), recursive=True)
    cands = [c for c in cands if "builtins" not in os.path.basename(c)]
    if not cands:
        return None
    # prefer the newest major version (.so.13 over .so.12), then the plain soname
    cands.sort(key=lambda p: (os.path.basename(p).split(".so")[-1], -len(p)), reverse=True)
    return cands[0]


if not os.environ.get("TILEC_NVRTC_PATH"):
    _nvrtc = find_nvrtc()
    if _nvrtc:
        os.environ["TILEC_NVRTC_PATH"] = _nvrtc

import torch  # noqa: E402

torch.set_grad_enabled(False)

try:
    import triton  # noqa: E402
    import triton.language as tl  # noqa: E402
    TRITON_ERROR = None
except Exception as e:  # noqa: BLE001
    triton = None
    tl = None
    TRITON_ERROR = f"{type(e).__name__}: {e}"

try:
    import tilec  # noqa: E402
    from layernorm import _layer_norm_fwd_fused as tc_layernorm  # noqa: E402
    from matmul import matmul_kernel as tc_matmul  # noqa: E402
    from softmax import softmax_kernel as tc_softmax  # noqa: E402
    from vector_add import add_kernel as tc_add  # noqa: E402
    TILEC_ERROR = None
except Exception as e:  # noqa: BLE001
    tilec = None
    TILEC_ERROR = f"{type(e).__name__}: {e}"

import compat_bench  # noqa: E402
import first_call  # noqa: E402
import shared_kernels  # noqa: E402

SHARED_NAMES = ("attn_fwd", "rmsnorm_fwd", "linear_fwd", "desc_scale", "desc_matmul")
TC_SHARED = {n: tilec.jit(getattr(shared_kernels, n)) for n in SHARED_NAMES} if tilec else {}
TR_SHARED = {n: triton.jit(getattr(shared_kernels, n)) for n in SHARED_NAMES} if triton else {}

DEV = "cuda"
FAILURES = []


def cdiv(a, b):
    return (a + b - 1) // b


def next_power_of_2(n):
    return 1 if n <= 1 else 1 << (int(n) - 1).bit_length()


# ----------------------------------------------------------------------------------------------
# Triton kernels, copied from the Triton tutorials (01 vector add, 02 fused softmax, 03 matmul,
# 05 layer norm forward)

if triton is not None:
    @triton.jit
    def tr_add_kernel(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
        pid = tl.program_id(axis=0)
        block_start = pid * BLOCK_SIZE
        offsets = block_start + tl.arange(0, BLOCK_SIZE)
        mask = offsets < n_elements
        x = tl.load(x_ptr + offsets, mask=mask)
        y = tl.load(y_ptr + offsets, mask=mask)
        output = x + y
        tl.store(output_ptr + offsets, output, mask=mask)

    # tutorial 02, one program per row (the tutorial's original form; the same algorithm as
    # samples/softmax.py)
    @triton.jit
    def tr_softmax_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_rows, n_cols,
                          BLOCK_SIZE: tl.constexpr):
        row_idx = tl.program_id(0)
        row_start_ptr = input_ptr + row_idx * input_row_stride
        col_offsets = tl.arange(0, BLOCK_SIZE)
        input_ptrs = row_start_ptr + col_offsets
        mask = col_offsets < n_cols
        row = tl.load(input_ptrs, mask=mask, other=-float('inf'))
        row_minus_max = row - tl.max(row, axis=0)
        numerator = tl.exp(row_minus_max)
        denominator = tl.sum(numerator, axis=0)
        softmax_output = numerator / denominator
        output_row_start_ptr = output_ptr + row_idx * output_row_stride
        output_ptrs = output_row_start_ptr + col_offsets
        tl.store(output_ptrs, softmax_output, mask=mask)

    # tutorial 02, current form: persistent programs looping over rows
    @triton.jit
    def tr_softmax_persistent(output_ptr, input_ptr, input_row_stride, output_row_stride, n_rows, n_cols,
                              BLOCK_SIZE: tl.constexpr, num_stages: tl.constexpr):
        row_start = tl.program_id(0)
        row_step = tl.num_programs(0)
        for row_idx in tl.range(row_start, n_rows, row_step, num_stages=num_stages):
            row_start_ptr = input_ptr + row_idx * input_row_stride
            col_offsets = tl.arange(0, BLOCK_SIZE)
            input_ptrs = row_start_ptr + col_offsets
            mask = col_offsets < n_cols
            row = tl.load(input_ptrs, mask=mask, other=-float('inf'))
            row_minus_max = row - tl.max(row, axis=0)
            numerator = tl.exp(row_minus_max)
            denominator = tl.sum(numerator, axis=0)
            softmax_output = numerator / denominator
            output_row_start_ptr = output_ptr + row_idx * output_row_stride
            output_ptrs = output_row_start_ptr + col_offsets
            tl.store(output_ptrs, softmax_output, mask=mask)

    @triton.jit
    def tr_layer_norm_fwd(X, Y, W, B, Mean, Rstd, stride, N, eps, BLOCK_SIZE: tl.constexpr):
        row = tl.program_id(0)
        Y += row * stride
        X += row * stride
        mean = 0
        _mean = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
        for off in range(0, N, BLOCK_SIZE):
            cols = off + tl.arange(0, BLOCK_SIZE)
            a = tl.load(X + cols, mask=cols < N, other=0.).to(tl.float32)
            _mean += a
        mean = tl.sum(_mean, axis=0) / N
        _var = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
        for off in range(0, N, BLOCK_SIZE):
            cols = off + tl.arange(0, BLOCK_SIZE)
            x = tl.load(X + cols, mask=cols < N, other=0.).to(tl.float32)
            x = tl.where(cols < N, x - mean, 0.)
            _var += x * x
        var = tl.sum(_var, axis=0) / N
        rstd = 1 / tl.sqrt(var + eps)
        tl.store(Mean + row, mean)
        tl.store(Rstd + row, rstd)
        for off in range(0, N, BLOCK_SIZE):
            cols = off + tl.arange(0, BLOCK_SIZE)
            mask = cols < N
            w = tl.load(W + cols, mask=mask)
            b = tl.load(B + cols, mask=mask)
            x = tl.load(X + cols, mask=mask, other=0.).to(tl.float32)
            x_hat = (x - mean) * rstd
            y = x_hat * w + b
            tl.store(Y + cols, y, mask=mask)

    @triton.jit
    def tr_matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                         BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr, BLOCK_SIZE_K: tl.constexpr,
                         GROUP_SIZE_M: tl.constexpr):
        pid = tl.program_id(axis=0)
        num_pid_m = tl.cdiv(M, BLOCK_SIZE_M)
        num_pid_n = tl.cdiv(N, BLOCK_SIZE_N)
        num_pid_in_group = GROUP_SIZE_M * num_pid_n
        group_id = pid // num_pid_in_group
        first_pid_m = group_id * GROUP_SIZE_M
        group_size_m = min(num_pid_m - first_pid_m, GROUP_SIZE_M)
        pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
        pid_n = (pid % num_pid_in_group) // group_size_m
        offs_am = (pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)) % M
        offs_bn = (pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)) % N
        offs_k = tl.arange(0, BLOCK_SIZE_K)
        a_ptrs = a_ptr + (offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak)
        b_ptrs = b_ptr + (offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn)
        accumulator = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
        for k in range(0, tl.cdiv(K, BLOCK_SIZE_K)):
            a = tl.load(a_ptrs, mask=offs_k[None, :] < K - k * BLOCK_SIZE_K, other=0.0)
            b = tl.load(b_ptrs, mask=offs_k[:, None] < K - k * BLOCK_SIZE_K, other=0.0)
            accumulator = tl.dot(a, b, accumulator)
            a_ptrs += BLOCK_SIZE_K * stride_ak
            b_ptrs += BLOCK_SIZE_K * stride_bk
        c = accumulator.to(c_ptr.dtype.element_ty)
        offs_cm = pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)
        offs_cn = pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)
        c_ptrs = c_ptr + stride_cm * offs_cm[:, None] + stride_cn * offs_cn[None, :]
        c_mask = (offs_cm[:, None] < M) & (offs_cn[None, :] < N)
        tl.store(c_ptrs, c, mask=c_mask)


# ----------------------------------------------------------------------------------------------
# measurement helpers

def bench_ms(fn, args):
    """(median, p20, p80) milliseconds of fn on the GPU."""
    if triton is not None:
        try:
            r = triton.testing.do_bench(fn, warmup=args.warmup_ms, rep=args.rep_ms, quantiles=[0.5, 0.2, 0.8])
            return float(r[0]), float(r[1]), float(r[2])
        except TypeError:
            m = triton.testing.do_bench(fn, warmup=args.warmup_ms, rep=args.rep_ms, return_mode="median")
            return float(m), float(m), float(m)
    # CUDA events fallback
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    torch.cuda.synchronize()
    est = max(start.elapsed_time(end), 1e-3)
    n = max(5, min(1000, int(args.rep_ms / est)))
    times = []
    for _ in range(n):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return statistics.median(times), times[int(0.2 * (n - 1))], times[int(0.8 * (n - 1))]


def rel_err(out, ref):
    """Normwise relative error in float64: max|out - ref| / max|ref| (inf if out is not finite)."""
    o = out.double()
    if o.shape != ref.shape or not bool(torch.isfinite(o).all()):
        return float("inf")
    err = (o - ref).abs().max().item() / max(ref.abs().max().item(), 1e-300)
    del o
    return err


class Bench:
    """Collects rows: one per (benchmark, implementation, config)."""

    def __init__(self, args):
        self.args = args
        self.rows = []

    def run(self, bench, impl, config, launch, result, ref, tol, work, unit):
        """Checks launch()'s result (result() after one launch) against ref, then times launch.
        work is bytes (GB/s), flops (TFLOP/s) or None (time only)."""
        row = {"bench": bench, "impl": impl, "config": config, "unit": unit}
        self.rows.append(row)
        try:
            launch()
            torch.cuda.synchronize()
            if ref is not None:
                err = rel_err(result(), ref)
                row["rel_err"] = err
                if not err < tol:
                    raise AssertionError(f"wrong result: rel err {err:.3e} (tolerance {tol:.0e})")
            ms, lo, hi = bench_ms(launch, self.args)
            row.update(ms=ms, ms_p20=lo, ms_p80=hi)
            if work is not None:
                scale = 1e12 if unit == "TFLOP/s" else 1e9
                row["value"] = work / (ms * 1e-3) / scale
                row["value_lo"] = work / (hi * 1e-3) / scale
                row["value_hi"] = work / (lo * 1e-3) / scale
            print(f"  {bench:28s} {impl:8s} {config:44s} {row.get('value', ms):10.2f} {unit}  "
                  f"({ms:.4f} ms, p20-p80 {lo:.4f}-{hi:.4f})"
                  + (f"  rel err {row['rel_err']:.1e}" if "rel_err" in row else ""), flush=True)
        except Exception as e:  # noqa: BLE001
            msg = f"{type(e).__name__}: {e}".strip()
            row["error"] = msg
            print(f"  FAIL {bench} {impl} [{config}]: {msg}", flush=True)
            if self.args.verbose:
                traceback.print_exc()
            FAILURES.append((f"{bench} / {impl} [{config}]", msg))
        return row

    def fail(self, bench, impl, config, msg, unit=""):
        print(f"  FAIL {bench} {impl} [{config}]: {msg}", flush=True)
        self.rows.append({"bench": bench, "impl": impl, "config": config, "unit": unit, "error": msg})
        FAILURES.append((f"{bench} / {impl} [{config}]", msg))


def guarded(fn):
    """Runs one benchmark group; an exception is printed and the script continues."""
    def wrapper(b, *a, **k):
        try:
            return fn(b, *a, **k)
        except Exception as e:  # noqa: BLE001
            msg = f"{type(e).__name__}: {e}"
            print(f"  FAIL {fn.__name__}: {msg}", flush=True)
            traceback.print_exc()
            FAILURES.append((fn.__name__, msg))
        finally:
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
    wrapper.__name__ = fn.__name__
    return wrapper


def randn(*shape, dtype=torch.float32, gen=None):
    return torch.randn(*shape, device=DEV, dtype=dtype, generator=gen)


# ----------------------------------------------------------------------------------------------
# benchmarks

@guarded
def bench_vector_add(b, gen):
    n = (1 << 28) if not b.args.quick else (1 << 24)
    name = f"vector add 2^{n.bit_length() - 1} fp32"
    x = randn(n, gen=gen)
    y = randn(n, gen=gen)
    ref = x.double() + y.double()
    nbytes = 3 * n * 4
    out = torch.empty_like(x)

    def res():
        return out
    if tilec is not None:
        for block in (1024, 2048, 4096):
            for warps in (4, 8):
                out.fill_(float("nan"))
                b.run(name, "tilec", f"BLOCK_SIZE={block} num_warps={warps}",
                      lambda block=block, warps=warps: tc_add[(cdiv(n, block),)](x, y, out, n, BLOCK_SIZE=block,
                                                                               num_warps=warps),
                      res, ref, 1e-5, nbytes, "GB/s")
    else:
        b.fail(name, "tilec", "-", TILEC_ERROR, "GB/s")
    if triton is not None:
        out.fill_(float("nan"))
        b.run(name, "triton", "BLOCK_SIZE=1024 num_warps=4 (tutorial)",
              lambda: tr_add_kernel[(cdiv(n, 1024),)](x, y, out, n, BLOCK_SIZE=1024), res, ref, 1e-5, nbytes, "GB/s")
    out.fill_(float("nan"))
    b.run(name, "torch", "torch.add(out=)", lambda: torch.add(x, y, out=out), res, ref, 1e-5, nbytes, "GB/s")
    del ref
    torch.cuda.empty_cache()
    # the bandwidth ceiling: a device-to-device copy of the same size
    b.run(f"d2d copy 2^{n.bit_length() - 1} fp32", "torch", "out.copy_(x) (ceiling)", lambda: out.copy_(x),
          lambda: out, None, None, 2 * n * 4, "GB/s")


def softmax_warps(block):
    # the tutorial's heuristic
    return 16 if block >= 4096 else 8 if block >= 2048 else 4


@guarded
def bench_softmax(b, gen, m, n):
    if b.args.quick:
        m = min(m, 4096)
    name = f"softmax {m}x{n} fp32"
    x = randn(m, n, gen=gen)
    ref = torch.softmax(x.double(), dim=1)
    out = torch.empty_like(x)
    nbytes = 2 * m * n * 4
    block = next_power_of_2(n)
    warps0 = softmax_warps(block)

    def res():
        return out
    if tilec is not None:
        for warps in dict.fromkeys((warps0, 4, 8, 16)):
            out.fill_(float("nan"))
            b.run(name, "tilec", f"BLOCK_SIZE={block} num_warps={warps}, 1 row/program",
                  lambda warps=warps: tc_softmax[(m,)](out, x, x.stride(0), out.stride(0), m, n, BLOCK_SIZE=block,
                                                       num_warps=warps),
                  res, ref, 1e-5, nbytes, "GB/s")
    else:
        b.fail(name, "tilec", "-", TILEC_ERROR, "GB/s")
    if triton is not None:
        out.fill_(float("nan"))
        b.run(name, "triton", f"BLOCK_SIZE={block} num_warps={warps0}, 1 row/program (tutorial)",
              lambda: tr_softmax_kernel[(m,)](out, x, x.stride(0), out.stride(0), m, n, BLOCK_SIZE=block,
                                              num_warps=warps0),
              res, ref, 1e-5, nbytes, "GB/s")
        try:
            cfg = persistent_softmax_config(x, out, m, n, block)
            out.fill_(float("nan"))
            b.run(name, "triton", f"persistent, {cfg['programs']} programs num_warps=8 num_stages={cfg['stages']} (tutorial)",
                  lambda: tr_softmax_persistent[(cfg["programs"], 1, 1)](out, x, x.stride(0), out.stride(0), m, n,
                                                                         BLOCK_SIZE=block, num_stages=cfg["stages"],
                                                                         num_warps=8),
                  res, ref, 1e-5, nbytes, "GB/s")
        except Exception as e:  # noqa: BLE001
            b.fail(name, "triton", "persistent (tutorial)", f"{type(e).__name__}: {e}", "GB/s")
    holder = {}
    b.run(name, "torch", "torch.softmax(dim=1)", lambda: holder.__setitem__("y", torch.softmax(x, dim=1)),
          lambda: holder["y"], ref, 1e-5, nbytes, "GB/s")


def persistent_softmax_config(x, out, m, n, block):
    """The occupancy computation of tutorial 02 (current form)."""
    from triton.runtime import driver
    props = driver.active.utils.get_device_properties(torch.cuda.current_device())
    num_sm, num_regs, size_smem = props["multiprocessor_count"], props["max_num_regs"], props["max_shared_mem"]
    warp_size = 32
    num_warps = 8
    num_stages = 4 if size_smem > 200000 else 2
    kernel = tr_softmax_persistent.warmup(out, x, x.stride(0), out.stride(0), m, n, BLOCK_SIZE=block,
                                          num_stages=num_stages, num_warps=num_warps, grid=(1,))
    kernel._init_handles()
    n_regs = max(kernel.n_regs, 1)
    smem = kernel.metadata.shared
    occupancy = num_regs // (n_regs * warp_size * num_warps)
    if smem > 0:
        occupancy = min(occupancy, size_smem // smem)
    programs = max(1, min(num_sm * max(occupancy, 1), m))
    return {"programs": programs, "stages": num_stages}


@guarded
def bench_layernorm(b, gen):
    m, n = (16384, 4096) if not b.args.quick else (4096, 4096)
    eps = 1e-5
    name = f"layernorm {m}x{n} fp32"
    x = randn(m, n, gen=gen) * 2.0 + 0.5
    w = torch.rand(n, device=DEV, dtype=torch.float32, generator=gen) + 0.5
    bias = randn(n, gen=gen)
    ref = torch.nn.functional.layer_norm(x.double(), (n,), w.double(), bias.double(), eps)
    x64 = x.double()
    ref_mean = x64.mean(dim=1)
    ref_rstd = 1.0 / torch.sqrt(x64.var(dim=1, unbiased=False) + eps)
    del x64
    y = torch.empty_like(x)
    mean = torch.empty(m, device=DEV, dtype=torch.float32)
    rstd = torch.empty(m, device=DEV, dtype=torch.float32)
    nbytes = (2 * m * n + 2 * n + 2 * m) * 4
    block0 = min(65536 // x.element_size(), next_power_of_2(n))
    warps0 = min(max(block0 // 256, 1), 8)

    def res():
        e = max(rel_err(mean, ref_mean), rel_err(rstd, ref_rstd))
        if not e < 1e-5:
            raise AssertionError(f"mean/rstd wrong: rel err {e:.3e}")
        return y
    if tilec is not None:
        for block, warps in dict.fromkeys(((block0, warps0), (block0, 4), (block0, 16), (1024, 4), (2048, 8))):
            y.fill_(float("nan"))
            b.run(name, "tilec", f"BLOCK_SIZE={block} num_warps={warps}, 1 row/program",
                  lambda block=block, warps=warps: tc_layernorm[(m,)](x, y, w, bias, mean, rstd, x.stride(0), n, eps,
                                                                     BLOCK_SIZE=block, num_warps=warps),
                  res, ref, 1e-5, nbytes, "GB/s")
    else:
        b.fail(name, "tilec", "-", TILEC_ERROR, "GB/s")
    if triton is not None:
        y.fill_(float("nan"))
        b.run(name, "triton", f"BLOCK_SIZE={block0} num_warps={warps0} (tutorial)",
              lambda: tr_layer_norm_fwd[(m,)](x, y, w, bias, mean, rstd, x.stride(0), n, eps, BLOCK_SIZE=block0,
                                              num_warps=warps0),
              res, ref, 1e-5, nbytes, "GB/s")
    holder = {}
    b.run(name, "torch", "F.layer_norm", lambda: holder.__setitem__(
        "y", torch.nn.functional.layer_norm(x, (n,), w, bias, eps)), lambda: holder["y"], ref, 1e-5, nbytes, "GB/s")


# (BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M, num_warps, num_stages): both compilers run every one and
# the table shows each one's best.
# 128 bytes of k per row, as for 16-bit inputs with BLOCK_K=64.
TF32_CONFIGS = [(128, 128, 32, 8, 4, 3), (128, 256, 32, 8, 8, 3), (128, 128, 32, 8, 8, 3), (64, 128, 32, 8, 4, 4)]
MATMUL_CONFIGS = [(128, 128, 64, 8, 4, 3), (128, 128, 64, 8, 4, 4), (128, 256, 64, 8, 8, 3), (128, 128, 64, 8, 8, 3),
                  (64, 128, 64, 8, 4, 4), (128, 64, 64, 8, 4, 4)]


@guarded
def bench_matmul(b, gen, size, dtype):
    M = N = K = size if not b.args.quick else min(size, 2048)
    # tf32: fp32 tensors, the tutorial kernel's default input_precision (B N-major: mma.sync on sm_90).
    dt = {"fp16": torch.float16, "bf16": torch.bfloat16, "tf32": torch.float32}[dtype]
    name = f"matmul {M}^3 {dtype} (fp32 acc)"
    a = randn(M, K, dtype=dt, gen=gen)
    bm = randn(K, N, dtype=dt, gen=gen)
    ref = a.double() @ bm.double()
    c = torch.empty(M, N, device=DEV, dtype=dt)
    flops = 2.0 * M * N * K

    def res():
        return c

    def launcher(kernel, bm_, bn_, bk_, g, w, s):
        grid = (cdiv(M, bm_) * cdiv(N, bn_),)
        return lambda: kernel[grid](a, bm, c, M, N, K, a.stride(0), a.stride(1), bm.stride(0), bm.stride(1),
                                    c.stride(0), c.stride(1), BLOCK_SIZE_M=bm_, BLOCK_SIZE_N=bn_, BLOCK_SIZE_K=bk_,
                                    GROUP_SIZE_M=g, num_warps=w, num_stages=s)
    for impl, kernel, err in (("tilec", tc_matmul, TILEC_ERROR), ("triton", tr_matmul_kernel if triton else None, TRITON_ERROR)):
        if kernel is None:
            b.fail(name, impl, "-", err, "TFLOP/s")
            continue
        for cfg in MATMUL_CONFIGS if dt != torch.float32 else TF32_CONFIGS:
            c.fill_(float("nan"))
            b.run(name, impl, "BLOCK {}/{}/{} GROUP {} num_warps={} num_stages={}".format(*cfg),
                  launcher(kernel, *cfg), res, ref, 1e-2, flops, "TFLOP/s")
    c.fill_(float("nan"))
    torch.backends.cuda.matmul.allow_tf32 = dt == torch.float32
    try:
        b.run(name, "torch", "torch.matmul(out=) (cuBLAS" + (", tf32)" if dt == torch.float32 else ")"),
              lambda: torch.matmul(a, bm, out=c), res, ref, 1e-2, flops, "TFLOP/s")
    finally:
        torch.backends.cuda.matmul.allow_tf32 = False


@guarded
def bench_linear(b, gen, dtype):
    """x @ w.T (w stored [N, K]) per input dtype: the K-major B that wgmma needs for tf32/int8/fp8."""
    M = N = K = 4096 if not b.args.quick else 1024
    dt, out, prec, bk = {"fp16": (torch.float16, torch.float32, "ieee", 64), "tf32": (torch.float32, torch.float32, "tf32", 32),
                         "int8": (torch.int8, torch.int32, "ieee", 128), "fp8e4nv": (torch.float8_e4m3fn, torch.float32, "ieee", 128)}[dtype]
    name = f"linear x @ w.T {M}^3 {dtype}"
    if dt == torch.int8:
        x, w = (torch.randint(-8, 8, s, device=DEV, dtype=dt, generator=gen) for s in ((M, K), (N, K)))
    else:
        x, w = (randn(*s, gen=gen).to(dt) for s in ((M, K), (N, K)))
    ref = x.double() @ w.double().T
    y = torch.empty(M, N, device=DEV, dtype=out)
    tl_out = "int32" if out == torch.int32 else "float32"
    flops = 2.0 * M * N * K

    def launcher(kernel, bm, bn, w_, s, lang):
        grid = (cdiv(M, bm), cdiv(N, bn))
        return lambda: kernel[grid](x, w, y, M, N, K, BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk, OUT=getattr(lang, tl_out),
                                    PRECISION=prec, num_warps=w_, num_stages=s)
    configs = [(128, 128, 8, 3), (128, 256, 8, 3), (128, 128, 4, 4), (64, 128, 4, 4)]
    tol = 1e-2 if dt != torch.int8 else 1e-12  # int8 sums are exact
    for impl, table, err, lang in (("tilec", TC_SHARED, TILEC_ERROR, tilec and tilec.language),
                                   ("triton", TR_SHARED, TRITON_ERROR, triton and triton.language)):
        if not table:
            b.fail(name, impl, "-", err, "TFLOP/s")
            continue
        for cfg in configs:
            y.fill_(0)
            b.run(name, impl, "BLOCK_M={} BLOCK_N={} num_warps={} num_stages={}".format(*cfg) + f" BLOCK_K={bk}",
                  launcher(table["linear_fwd"], *cfg, lang), lambda: y, ref, tol, flops, "TFLOP/s")
    if dt in (torch.float16, torch.float32):
        holder = {}
        torch.backends.cuda.matmul.allow_tf32 = True  # tl.dot's default precision for fp32 inputs
        try:
            b.run(name, "torch", "x @ w.T (cuBLAS" + (", tf32)" if dt == torch.float32 else ", fp16 out)"),
                  lambda: holder.__setitem__("y", x @ w.T), lambda: holder["y"], ref, 1e-2, flops, "TFLOP/s")
        finally:
            torch.backends.cuda.matmul.allow_tf32 = False


@guarded
def bench_attention(b, gen, head_dim, causal):
    Z, H, N_CTX = (4, 32, 4096) if not b.args.quick else (1, 8, 1024)
    name = f"flash attention fwd fp16 {Z}x{H}x{N_CTX} d{head_dim}" + (" causal" if causal else "")
    q, k, v = (randn(Z, H, N_CTX, head_dim, dtype=torch.float16, gen=gen) for _ in range(3))
    out = torch.empty_like(q)
    sm_scale = head_dim ** -0.5
    ref = torch.nn.functional.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=causal,
                                                           scale=sm_scale).double()
    flops = 4.0 * Z * H * N_CTX * N_CTX * head_dim * (0.5 if causal else 1.0)

    def launcher(kernel, bm, bn, w, s):
        grid = (cdiv(N_CTX, bm), Z * H)
        return lambda: kernel[grid](q, k, v, out, sm_scale, q.stride(0), q.stride(1), q.stride(2), k.stride(0), k.stride(1),
                                    k.stride(2), v.stride(0), v.stride(1), v.stride(2), out.stride(0), out.stride(1),
                                    out.stride(2), H, N_CTX, HEAD_DIM=head_dim, BLOCK_M=bm, BLOCK_N=bn, CAUSAL=causal,
                                    num_warps=w, num_stages=s)
    configs = [(128, 64, 4, 2), (128, 64, 8, 3), (128, 128, 8, 2), (64, 64, 4, 3)]
    for impl, table, err in (("tilec", TC_SHARED, TILEC_ERROR), ("triton", TR_SHARED, TRITON_ERROR)):
        if not table:
            b.fail(name, impl, "-", err, "TFLOP/s")
            continue
        for cfg in configs:
            out.fill_(float("nan"))
            b.run(name, impl, "BLOCK_M={} BLOCK_N={} num_warps={} num_stages={}".format(*cfg),
                  launcher(table["attn_fwd"], *cfg), lambda: out, ref, 1e-2, flops, "TFLOP/s")
    holder = {}
    b.run(name, "torch", "scaled_dot_product_attention (flash)", lambda: holder.__setitem__(
        "o", torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=sm_scale)),
        lambda: holder["o"], ref, 1e-2, flops, "TFLOP/s")


@guarded
def bench_rmsnorm(b, gen):
    m, n = (16384, 8192) if not b.args.quick else (4096, 8192)
    name = f"rmsnorm {m}x{n} bf16"
    x = randn(m, n, dtype=torch.bfloat16, gen=gen)
    w = randn(n, dtype=torch.bfloat16, gen=gen)
    y = torch.empty_like(x)
    eps = 1e-6
    xd = x.double()
    ref = xd * torch.rsqrt(xd.pow(2).mean(-1, keepdim=True) + eps) * w.double()
    nbytes = 2 * m * n * 2
    block = next_power_of_2(n)
    for impl, table, err in (("tilec", TC_SHARED, TILEC_ERROR), ("triton", TR_SHARED, TRITON_ERROR)):
        if not table:
            b.fail(name, impl, "-", err, "GB/s")
            continue
        for warps in (8, 16, 32):
            y.fill_(float("nan"))
            b.run(name, impl, f"BLOCK_SIZE={block} num_warps={warps}, 1 row/program",
                  lambda warps=warps: table["rmsnorm_fwd"][(m,)](x, w, y, x.stride(0), n, eps, BLOCK_SIZE=block,
                                                                 num_warps=warps),
                  lambda: y, ref, 1e-2, nbytes, "GB/s")
    holder = {}
    b.run(name, "torch", "F.rms_norm", lambda: holder.__setitem__("y", torch.nn.functional.rms_norm(x, (n,), w, eps)),
          lambda: holder["y"], ref, 1e-2, nbytes, "GB/s")


def descriptor_compilers(b, name, unit):
    """(impl, shared kernel table, its TensorDescriptor class) per compiler that loaded; a FAIL row
    for one that did not."""
    for impl, table, err, module in (("tilec", TC_SHARED, TILEC_ERROR, "tilec.tools.tensor_descriptor"),
                                     ("triton", TR_SHARED, TRITON_ERROR, "triton.tools.tensor_descriptor")):
        if not table:
            b.fail(name, impl, "-", err, unit)
            continue
        yield impl, table, __import__(module, fromlist=["TensorDescriptor"]).TensorDescriptor


@guarded
def bench_descriptor(b, gen):
    m, n = (8192, 8192) if not b.args.quick else (4096, 4096)
    name = f"descriptor scale {m}x{n} fp16"
    x = randn(m, n, dtype=torch.float16, gen=gen)
    y = torch.empty_like(x)
    ref = x.double() * 0.5
    nbytes = 2 * m * n * 2
    for impl, table, TensorDescriptor in descriptor_compilers(b, name, "GB/s"):
        for bm, bn, warps in ((64, 128, 4), (128, 128, 8), (32, 256, 4)):
            xd, yd = TensorDescriptor.from_tensor(x, [bm, bn]), TensorDescriptor.from_tensor(y, [bm, bn])
            y.fill_(float("nan"))
            b.run(name, impl, f"block {bm}x{bn} num_warps={warps}",
                  lambda xd=xd, yd=yd, bm=bm, bn=bn, warps=warps: table["desc_scale"][(m // bm, n // bn)](
                      xd, yd, 0.5, BM=bm, BN=bn, num_warps=warps),
                  lambda: y, ref, 1e-2, nbytes, "GB/s")


@guarded
def bench_descriptor_matmul(b, gen):
    M = N = K = 4096 if not b.args.quick else 2048
    name = f"descriptor matmul {M}^3 fp16 (fp32 acc)"
    a = randn(M, K, dtype=torch.float16, gen=gen)
    bm = randn(K, N, dtype=torch.float16, gen=gen)
    c = torch.empty(M, N, device=DEV, dtype=torch.float16)
    ref = a.double() @ bm.double()
    flops = 2.0 * M * N * K
    for impl, table, TensorDescriptor in descriptor_compilers(b, name, "TFLOP/s"):
        for bm_, bn_, bk_, g, w, st in MATMUL_CONFIGS:
            ad = TensorDescriptor.from_tensor(a, [bm_, bk_])
            bd = TensorDescriptor.from_tensor(bm, [bk_, bn_])
            cd = TensorDescriptor.from_tensor(c, [bm_, bn_])
            c.fill_(float("nan"))
            grid = (cdiv(M, bm_) * cdiv(N, bn_),)
            b.run(name, impl, f"BLOCK {bm_}/{bn_}/{bk_} GROUP {g} num_warps={w} num_stages={st}",
                  lambda ad=ad, bd=bd, cd=cd, grid=grid, bm_=bm_, bn_=bn_, bk_=bk_, g=g, w=w, st=st: table["desc_matmul"][grid](
                      ad, bd, cd, M, N, K, BM=bm_, BN=bn_, BK=bk_, GROUP_SIZE_M=g, num_warps=w, num_stages=st),
                  lambda: c, ref, 1e-2, flops, "TFLOP/s")
    c.fill_(float("nan"))
    b.run(name, "torch", "torch.matmul(out=) (cuBLAS)", lambda: torch.matmul(a, bm, out=c), lambda: c, ref, 1e-2, flops, "TFLOP/s")


# ----------------------------------------------------------------------------------------------
# launch overhead and first calls

def host_launch_overhead(launch, n_launch, reps):
    """Seconds per launch: N launches timed with the host clock, synchronize at the end, / N."""
    launch()
    torch.cuda.synchronize()
    for _ in range(200):
        launch()
    torch.cuda.synchronize()
    per = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(n_launch):
            launch()
        torch.cuda.synchronize()
        per.append((time.perf_counter() - t0) / n_launch)
    return statistics.median(per), min(per), max(per)


@guarded
def bench_launch_overhead(b, gen):
    n = 16
    x = randn(n, gen=gen)
    y = randn(n, gen=gen)
    out = torch.empty_like(x)
    ref = x.double() + y.double()
    name = "launch overhead, 1 program (16 elements)"
    impls = []
    if tilec is not None:
        impls.append(("tilec", "add_kernel[(1,)], BLOCK_SIZE=16", lambda: tc_add[(1,)](x, y, out, n, BLOCK_SIZE=16)))
        hoisted = tc_add[(1,)]
        impls.append(("tilec", "launch = add_kernel[(1,)] hoisted", lambda: hoisted(x, y, out, n, BLOCK_SIZE=16)))
    else:
        b.fail(name, "tilec", "-", TILEC_ERROR, "us")
    if triton is not None:
        impls.append(("triton", "add_kernel[(1,)], BLOCK_SIZE=16",
                      lambda: tr_add_kernel[(1,)](x, y, out, n, BLOCK_SIZE=16)))
    impls.append(("torch", "torch.add(out=) on 16 elements", lambda: torch.add(x, y, out=out)))
    for impl, config, launch in impls:
        row = {"bench": name, "impl": impl, "config": config, "unit": "us"}
        b.rows.append(row)
        try:
            out.fill_(float("nan"))
            launch()
            torch.cuda.synchronize()
            err = rel_err(out, ref)
            row["rel_err"] = err
            if not err < 1e-5:
                raise AssertionError(f"wrong result: rel err {err:.3e}")
            med, lo, hi = host_launch_overhead(launch, b.args.launches, 7)
            row.update(value=med * 1e6, value_lo=lo * 1e6, value_hi=hi * 1e6, lower_is_better=True)
            print(f"  {name:28s} {impl:8s} {config:44s} {med * 1e6:10.2f} us  (min {lo * 1e6:.2f}, max {hi * 1e6:.2f})",
                  flush=True)
        except Exception as e:  # noqa: BLE001
            msg = f"{type(e).__name__}: {e}"
            row["error"] = msg
            print(f"  FAIL {name} {impl}: {msg}", flush=True)
            FAILURES.append((f"{name} / {impl}", msg))
    # The floor: the same cubin launched by cuLaunchKernel in a C++ loop (no argument handling),
    # timed the same way (host clock, one synchronize at the end).
    if tilec is not None:
        row = {"bench": name, "impl": "floor", "config": "raw cuLaunchKernel of tilec's cubin, C++ loop", "unit": "us"}
        b.rows.append(row)
        try:
            ck = tc_add.warmup(x, y, out, n, BLOCK_SIZE=16)
            per = [tilec._C._time_raw_cuda_launches(ck, (1,), (x, y, out, n), b.args.launches) for _ in range(7)]
            row.update(value=statistics.median(per) * 1e6, value_lo=min(per) * 1e6, value_hi=max(per) * 1e6,
                       lower_is_better=True)
            print(f"  {name:28s} {'floor':8s} {row['config']:44s} {row['value']:10.2f} us  "
                  f"(min {row['value_lo']:.2f}, max {row['value_hi']:.2f})", flush=True)
        except Exception as e:  # noqa: BLE001
            msg = f"{type(e).__name__}: {e}"
            row["error"] = msg
            print(f"  FAIL {name} floor: {msg}", flush=True)
            FAILURES.append((f"{name} / floor", msg))


@guarded
def bench_first_calls(b, gen):
    """Cold and warm first calls in new processes (bench/first_call.py): each child's step times
    and tilec's TILEC_LOG=compile lines are printed, the medians become rows."""
    compilers = (["tilec"] if tilec is not None else []) + (["triton"] if triton is not None else [])
    if tilec is None:
        b.fail("first call", "tilec", "-", TILEC_ERROR, "ms")

    def fail(label, impl, msg):
        print(f"  FAIL {label} {impl}: {msg}", flush=True)
        FAILURES.append((f"{label} / {impl}", msg))
    first_call.bench_first_calls(b, compilers, fail)


# ----------------------------------------------------------------------------------------------
# report

def best_row(rows, impl):
    ok = [r for r in rows if r["impl"] == impl and "value" in r]
    if not ok:
        failed = [r for r in rows if r["impl"] == impl]
        return failed[0] if failed else None
    lower = ok[0].get("lower_is_better", False)
    return (min if lower else max)(ok, key=lambda r: r["value"])


def fmt(r):
    if r is None:
        return "n/a"
    if "value" not in r:
        return "FAIL"
    v = r["value"]
    p = 1 if v >= 100 else 2
    return f"{v:.{p}f} ({r['value_lo']:.{p}f}-{r['value_hi']:.{p}f})"


def report(b, info):
    lines = [f"# tilec GPU benchmarks, {info['date']}", "",
             f"- device: {info['device']} ({info['sms']} SMs, {info['mem_gib']:.0f} GiB)",
             f"- torch {info['torch']} (CUDA {info['cuda']}), triton {info['triton']}, tilec {info['tilec']}, "
             f"python {info['python']}, host {info['host']}",
             f"- NVRTC used by tilec: {info['nvrtc']}",
             "- throughput: median (20th-80th percentile) of triton.testing.do_bench; "
             "latencies: median (min-max). tilec column: best configuration (all are listed below).",
             "- correctness: normwise relative error vs torch float64 (fp32 < 1e-5, fp16 < 1e-2), "
             "checked before timing; FAIL = wrong result or error, no number.",
             ""]
    order = list(dict.fromkeys(r["bench"] for r in b.rows))
    lines.append("| benchmark | unit | tilec | tilec config | Triton | Triton config | PyTorch | tilec / Triton | "
                 "tilec / PyTorch | tilec rel err |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for bench in order:
        rows = [r for r in b.rows if r["bench"] == bench]
        t, tr, pt = best_row(rows, "tilec"), best_row(rows, "triton"), best_row(rows, "torch")

        def ratio(a, c):
            if a is None or c is None or "value" not in a or "value" not in c or not c["value"]:
                return "-"
            q = a["value"] / c["value"]
            if a.get("lower_is_better"):
                return f"{q:.2f}x time"
            return f"{q:.2f}x"
        errs = [r["rel_err"] for r in rows if r["impl"] == "tilec" and "rel_err" in r]
        unit = rows[0]["unit"]
        lines.append("| " + " | ".join([
            bench, unit, fmt(t), t["config"] if t else "-", fmt(tr), tr["config"] if tr else "-",
            fmt(pt) + (f" [{pt['config']}]" if pt else ""), ratio(t, tr), ratio(t, pt),
            f"{max(errs):.1e}" if errs else "-"]) + " |")
    for bench in order:  # launch overhead against the raw cuLaunchKernel floor (issue #11: <= 1.5x)
        rows = [r for r in b.rows if r["bench"] == bench]
        floor, t = best_row(rows, "floor"), best_row(rows, "tilec")
        if floor and t and "value" in floor and "value" in t:
            lines += ["", f"{bench}: tilec {t['value']:.2f} us [{t['config']}] = {t['value'] / floor['value']:.2f}x the "
                          f"raw cuLaunchKernel floor ({floor['value']:.2f} us, same cubin, C++ loop); target <= 1.5x and <= 3 us"]
    lines += ["", "## Every measurement", ""]
    for r in b.rows:
        v = f"{r['value']:.2f} {r['unit']}" if "value" in r else "FAIL: " + r.get("error", "?").replace("\n", " ")[:300]
        e = f", rel err {r['rel_err']:.1e}" if "rel_err" in r else ""
        lines.append(f"- {r['bench']} / {r['impl']} [{r['config']}]: {v}{e}")
    lines += compat_bench.compat_summary(b.rows)
    if FAILURES:
        lines += ["", "## Failures", ""]
        for name, msg in FAILURES:
            lines.append(f"- {name}: {msg.replace(chr(10), ' ')[:500]}")
    return "\n".join(lines) + "\n"


GROUPS = {
    "add": lambda b, gen: bench_vector_add(b, gen),
    "softmax1": lambda b, gen: bench_softmax(b, gen, 32768, 1024),
    "softmax2": lambda b, gen: bench_softmax(b, gen, 8192, 4096),
    "softmax3": lambda b, gen: bench_softmax(b, gen, 4096, 1000),
    "layernorm": lambda b, gen: bench_layernorm(b, gen),
    "rmsnorm": lambda b, gen: bench_rmsnorm(b, gen),
    "desc": lambda b, gen: bench_descriptor(b, gen),
    "desc_matmul": lambda b, gen: bench_descriptor_matmul(b, gen),
    "attn64": lambda b, gen: bench_attention(b, gen, 64, False),
    "attn64c": lambda b, gen: bench_attention(b, gen, 64, True),
    "attn128": lambda b, gen: bench_attention(b, gen, 128, False),
    "attn128c": lambda b, gen: bench_attention(b, gen, 128, True),
    "matmul": lambda b, gen: bench_matmul(b, gen, 8192, "fp16"),
    "matmul4k": lambda b, gen: bench_matmul(b, gen, 4096, "fp16"),
    "matmul2k": lambda b, gen: bench_matmul(b, gen, 2048, "fp16"),
    "matmul_bf16": lambda b, gen: bench_matmul(b, gen, 4096, "bf16"),
    "matmul_bf16_8k": lambda b, gen: bench_matmul(b, gen, 8192, "bf16"),
    "matmul_tf32": lambda b, gen: bench_matmul(b, gen, 4096, "tf32"),
    "linear_fp16": lambda b, gen: bench_linear(b, gen, "fp16"),
    "linear_tf32": lambda b, gen: bench_linear(b, gen, "tf32"),
    "linear_int8": lambda b, gen: bench_linear(b, gen, "int8"),
    "linear_fp8": lambda b, gen: bench_linear(b, gen, "fp8e4nv"),
    "launch": lambda b, gen: bench_launch_overhead(b, gen),
    "first": lambda b, gen: bench_first_calls(b, gen),
    # tests/compat's kernels, tilec vs Triton on the tests' own launches (bench/compat_bench.py).
    "compat": lambda b, gen: compat_bench.bench_compat(b, torch),
}


def run_group_isolated(name, args, rows_out):
    """Runs one group in a child process, so that a crash or a sticky CUDA error (an illegal
    address in one kernel poisons the whole context) cannot stop the other groups."""
    cmd = [sys.executable, os.path.abspath(__file__), "--group", name, "--rows-json", rows_out,
           "--warmup-ms", str(args.warmup_ms), "--rep-ms", str(args.rep_ms), "--launches", str(args.launches),
           "--first-call-reps", str(args.first_call_reps)]
    if args.quick:
        cmd.append("--quick")
    if args.verbose:
        cmd.append("--verbose")
    # compat compiles (and autotunes) about 50 kernels with each compiler: it gets 30 minutes at least.
    timeout = max(args.group_timeout, 1800) if name == "compat" else args.group_timeout
    try:
        sys.stdout.flush()
        p = subprocess.run(cmd, timeout=timeout, stdout=None, stderr=subprocess.PIPE, text=True)
        err_tail = (p.stderr or "").strip()
        if err_tail:
            sys.stdout.write(err_tail[-4000:] + "\n")
        rc = p.returncode
    except subprocess.TimeoutExpired:
        err_tail, rc = f"timed out after {timeout} s", -1
    data = None
    if os.path.exists(rows_out):
        with open(rows_out) as f:
            data = json.load(f)
    if data is None or rc != 0:
        msg = f"group '{name}' exited {rc}" + (": " + err_tail[-600:] if err_tail else "")
        print(f"  FAIL {msg}", flush=True)
        return (data or {}).get("rows", []), (data or {}).get("failures", []) + [[f"group {name}", msg]]
    return data["rows"], data["failures"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="write the markdown report to this file")
    ap.add_argument("--plot", metavar="FILE.png", help="also draw the results (bench/plot.py; needs matplotlib)")
    ap.add_argument("--quick", action="store_true", help="smaller sizes and fewer repetitions (smoke test)")
    ap.add_argument("--warmup-ms", type=int, default=25)
    ap.add_argument("--rep-ms", type=int, default=100)
    ap.add_argument("--launches", type=int, default=10000, help="launches per overhead measurement")
    ap.add_argument("--first-call-reps", type=int, default=3, help="cold processes per compiler (each followed by 2 warm)")
    ap.add_argument("--only", default="", help="comma-separated groups to run (default all): " + ",".join(GROUPS))
    ap.add_argument("--skip", default="", help="comma-separated groups to skip")
    ap.add_argument("--in-process", action="store_true", help="run every group in this process (no isolation)")
    ap.add_argument("--group-timeout", type=int, default=400, help="seconds per isolated group")
    ap.add_argument("--verbose", action="store_true", help="print tracebacks of failures")
    ap.add_argument("--group", help=argparse.SUPPRESS)      # internal: run one group in this process
    ap.add_argument("--rows-json", help=argparse.SUPPRESS)  # internal: where that group's rows go
    args = ap.parse_args()
    if args.plot:
        import plot
        plot.require_matplotlib()
    if args.quick:
        args.launches = min(args.launches, 2000)
        args.first_call_reps = min(args.first_call_reps, 1)
        args.rep_ms = min(args.rep_ms, 50)
    only = [g.strip() for g in args.only.split(",") if g.strip()] or list(GROUPS)
    skip = set(s.strip() for s in args.skip.split(",") if s.strip())
    groups = [g for g in only if g not in skip]
    for g in groups:
        if g not in GROUPS:
            ap.error(f"unknown group '{g}' (groups: {', '.join(GROUPS)})")

    if not torch.cuda.is_available():
        print("torch.cuda.is_available() is False: no GPU to benchmark", file=sys.stderr)
        sys.exit(2)
    b = Bench(args)
    gen = torch.Generator(device=DEV)
    gen.manual_seed(0)

    if args.group:  # child mode
        try:
            GROUPS[args.group](b, gen)
        finally:
            with open(args.rows_json, "w") as f:
                json.dump({"rows": b.rows, "failures": FAILURES}, f)
        return

    props = torch.cuda.get_device_properties(0)
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "device": torch.cuda.get_device_name(0),
        "sms": props.multi_processor_count,
        "mem_gib": props.total_memory / 2**30,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "triton": triton.__version__ if triton is not None else f"not available ({TRITON_ERROR})",
        "tilec": tilec.__version__ if tilec is not None else f"not available ({TILEC_ERROR})",
        "python": platform.python_version(),
        "host": platform.node(),
        "nvrtc": os.environ.get("TILEC_NVRTC_PATH", "default search"),
    }
    print(f"{info['device']}; torch {info['torch']}; triton {info['triton']}; tilec {info['tilec']}; "
          f"nvrtc {info['nvrtc']}", flush=True)
    if TILEC_ERROR:
        print(f"tilec import FAILED: {TILEC_ERROR}", flush=True)
    if args.in_process:
        for g in groups:
            print(f"[{g}]", flush=True)
            GROUPS[g](b, gen)
    else:
        with tempfile.TemporaryDirectory(prefix="gpu-bench-rows-") as tmp:
            for g in groups:
                print(f"[{g}]", flush=True)
                rows, fails = run_group_isolated(g, args, os.path.join(tmp, g + ".json"))
                b.rows += rows
                FAILURES.extend(tuple(f) for f in fails)
    text = report(b, info)
    print()
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        print(f"wrote {args.out}")
    if args.plot:
        plot.plot([r for r in b.rows if r.get("unit") in ("GB/s", "TFLOP/s")], args.plot,
                  f"tilec {info['tilec']} vs Triton and PyTorch: {info['device']}, {info['date']}", ceiling_bench_prefix="d2d copy")
        print(f"wrote {args.plot}")
    if FAILURES:
        print(f"{len(FAILURES)} measurement(s) FAILED (listed above)")


if __name__ == "__main__":
    main()
