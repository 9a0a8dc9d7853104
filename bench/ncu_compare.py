#!/usr/bin/env python3
"""Runs one case's tilec and Triton kernels (same source, same launch) a few times each so that a
profiler sees both side by side, e.g. on the GPU machine:

    ncu -k regex:softmax --section SpeedOfLight --section Occupancy --section WarpStateStats \\
        --section LaunchStats python3 bench/ncu_compare.py softmax

Cases: softmax (4096x1000 fp32, BLOCK_SIZE=1024, num_warps=4: a row that is not a power of two);
matmul and matmul_bf16 (4096^3, BLOCK 128/256/64 GROUP 8, num_warps=8, num_stages=3: the configuration
both compilers do best with); linear_int8 (x @ w.T, 4096^3 int8, BLOCK 128/128/128, num_warps=8,
num_stages=3)."""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_bench  # noqa: E402  (the kernels both compilers run)


def softmax_case():
    x = torch.randn(4096, 1000, device="cuda")
    out = torch.empty_like(x)
    launches = [("tilec", gpu_bench.tc_softmax), ("triton", gpu_bench.tr_softmax_kernel)]
    for name, kernel in launches:
        for _ in range(3):
            kernel[(x.shape[0],)](out, x, x.stride(0), out.stride(0), x.shape[0], x.shape[1], BLOCK_SIZE=1024, num_warps=4)
        torch.cuda.synchronize()
        err = (out - torch.softmax(x, dim=1)).abs().max().item()
        print(f"{name}: max abs error {err:.3g}")


def matmul_case(dtype):
    def run():
        size = 4096
        a = torch.randn(size, size, device="cuda", dtype=dtype)
        b = torch.randn(size, size, device="cuda", dtype=dtype)
        c = torch.empty(size, size, device="cuda", dtype=dtype)
        grid = (gpu_bench.cdiv(size, 128) * gpu_bench.cdiv(size, 256),)
        for name, kernel in [("tilec", gpu_bench.tc_matmul), ("triton", gpu_bench.tr_matmul_kernel)]:
            kernel[grid](a, b, c, size, size, size, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                         c.stride(0), c.stride(1), BLOCK_SIZE_M=128, BLOCK_SIZE_N=256, BLOCK_SIZE_K=64,
                         GROUP_SIZE_M=8, num_warps=8, num_stages=3)
            torch.cuda.synchronize()
            err = ((c.double() - a.double() @ b.double()).abs().max() / (size ** 0.5)).item()
            print(f"{name}: max abs error / sqrt(K) {err:.3g}")
    return run


def linear_int8_case():
    size = 4096
    x = torch.randint(-8, 8, (size, size), device="cuda", dtype=torch.int8)
    w = torch.randint(-8, 8, (size, size), device="cuda", dtype=torch.int8)
    y = torch.empty(size, size, device="cuda", dtype=torch.int32)
    for name, table, lang in [("tilec", gpu_bench.TC_SHARED, gpu_bench.tilec.language), ("triton", gpu_bench.TR_SHARED, gpu_bench.tl)]:
        for _ in range(3):
            table["linear_fwd"][(size // 128, size // 128)](x, w, y, size, size, size, BLOCK_M=128, BLOCK_N=128, BLOCK_K=128,
                                                           OUT=lang.int32, PRECISION="ieee", num_warps=8, num_stages=3)
        torch.cuda.synchronize()
        print(f"{name}: exact {torch.equal(y.double(), x.double() @ w.double().T)}")


CASES = {"softmax": softmax_case, "matmul": matmul_case(torch.float16), "matmul_bf16": matmul_case(torch.bfloat16),
         "linear_int8": linear_int8_case}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(CASES)}}}")
    CASES[sys.argv[1]]()
