"""Checks the tilec matmul (samples/matmul.py) on the GPU per block configuration, each in its own
process so that one faulting kernel cannot hide the others; a failure is re-run under
compute-sanitizer memcheck and its report printed. `python3 bench/matmul_check.py [M N K]`."""
import os
import subprocess
import sys

CONFIGS = [(128, 128, 64, 4, 3), (128, 256, 64, 8, 3), (64, 128, 64, 4, 4), (128, 64, 32, 4, 2), (64, 64, 32, 4, 1),
           (128, 128, 64, 8, 3)]


def child(m, n, k, bm, bn, bk, w, s, dtype):
    import torch
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples"))
    import tilec
    from matmul import matmul_kernel
    dt = getattr(torch, dtype)
    a = torch.randn(m, k, device="cuda", dtype=dt)
    b = torch.randn(k, n, device="cuda", dtype=dt)
    c = torch.full((m, n), float("nan"), device="cuda", dtype=dt)
    grid = (tilec.cdiv(m, bm) * tilec.cdiv(n, bn),)
    matmul_kernel[grid](a, b, c, m, n, k, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0), c.stride(1),
                        BLOCK_SIZE_M=bm, BLOCK_SIZE_N=bn, BLOCK_SIZE_K=bk, GROUP_SIZE_M=8, num_warps=w, num_stages=s)
    torch.cuda.synchronize()
    ref = a.double() @ b.double()
    err = ((c.double() - ref).abs().max() / ref.abs().max()).item()
    print(f"rel err {err:.2e}")
    sys.exit(0 if err < 1e-2 else 1)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*map(int, sys.argv[2:10]), sys.argv[10])
        return
    m, n, k = (int(x) for x in sys.argv[1:4]) if len(sys.argv) >= 4 else (256, 256, 256)
    failed = 0
    for dtype in ("float16", "bfloat16"):
        for cfg in CONFIGS:
            args = [sys.executable, __file__, "--child", str(m), str(n), str(k), *map(str, cfg), dtype]
            p = subprocess.run(args, capture_output=True, text=True, timeout=120)
            tail = (p.stdout + p.stderr).strip().splitlines()
            print(f"{dtype} {m}x{n}x{k} BLOCK {cfg[0]}/{cfg[1]}/{cfg[2]} warps={cfg[3]} stages={cfg[4]}: "
                  f"{'ok' if p.returncode == 0 else 'FAIL'} {tail[-1] if tail else ''}", flush=True)
            if p.returncode != 0:
                failed += 1
                if failed <= 2:
                    s = subprocess.run(["compute-sanitizer", "--tool", "memcheck", "--show-backtrace", "no"] + args,
                                       capture_output=True, text=True, timeout=300)
                    print("\n".join((s.stdout + s.stderr).splitlines()[:40]), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
