"""Checks and times the tilec fp16 matmul (samples/matmul.py) at 8192^3 against torch.matmul on
the GPU, for a few block configurations; a wrong result prints FAIL instead of a number."""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples"))
import tilec  # noqa: E402
from matmul import matmul_kernel  # noqa: E402


def bench(f, n=20):
    f()
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(True), torch.cuda.Event(True)
    s.record()
    for _ in range(n):
        f()
    e.record()
    torch.cuda.synchronize()
    return s.elapsed_time(e) / n / 1e3


def main():
    M = N = K = int(os.environ.get("MATMUL_SIZE", "8192"))
    a = torch.randn(M, K, device="cuda", dtype=torch.float16)
    b = torch.randn(K, N, device="cuda", dtype=torch.float16)
    ref = a.float() @ b.float()
    for bm, bn, bk, w in [(128, 128, 64, 8), (128, 128, 32, 8), (64, 64, 32, 4), (128, 64, 32, 4)]:
        c = torch.full((M, N), float("nan"), device="cuda", dtype=torch.float16)
        grid = (tilec.cdiv(M, bm) * tilec.cdiv(N, bn),)
        run = lambda: matmul_kernel[grid](a, b, c, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                                          c.stride(0), c.stride(1), BLOCK_SIZE_M=bm, BLOCK_SIZE_N=bn,
                                          BLOCK_SIZE_K=bk, GROUP_SIZE_M=8, num_warps=w)
        run()
        err = ((c.float() - ref).norm() / ref.norm()).item()
        if not err < 1e-2:
            print(f"tilec {bm}/{bn}/{bk} w{w}: FAIL rel err {err:.1e}")
            continue
        t = bench(run)
        print(f"tilec {bm}/{bn}/{bk} w{w}: {2 * M * N * K / t / 1e12:.1f} TFLOP/s, rel err {err:.1e}")
    t = bench(lambda: a @ b)
    print(f"torch.matmul (cuBLAS): {2 * M * N * K / t / 1e12:.1f} TFLOP/s")


if __name__ == "__main__":
    main()
