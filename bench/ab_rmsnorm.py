#!/usr/bin/env python3
"""A/B of one line of the RMSNorm kernel on the GPU: `rstd = 1.0 / tl.sqrt(...)` (fp32 `/`, which
tilec lowers to Triton's div.full.f32) against tl.math.div_rn (IEEE), each run several times in
alternation with Triton's kernel from the same source, to tell a code change from run-to-run noise.

    PYTHONPATH=build/python python3 bench/ab_rmsnorm.py"""
import importlib.util
import inspect
import os
import sys
import tempfile

import torch
import triton
import triton.testing

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shared_kernels  # noqa: E402

import tilec  # noqa: E402


def variant(src, name, old, new):
    """The kernel with one line replaced, imported from a file of its own (both compilers read source)."""
    assert old in src
    path = os.path.join(tempfile.mkdtemp(), f"{name}.py")
    with open(path, "w") as f:
        f.write("import triton.language as tl\n\n\n" + src.replace("def rmsnorm_fwd(", f"def {name}(").replace(old, new))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def main():
    src = inspect.getsource(shared_kernels.rmsnorm_fwd)
    m, n = 16384, 8192
    x = torch.randn(m, n, device="cuda", dtype=torch.bfloat16)
    w = torch.randn(n, device="cuda", dtype=torch.bfloat16)
    y = torch.empty_like(x)
    kernels = {
        "tilec /": tilec.jit(shared_kernels.rmsnorm_fwd),
        "tilec div_rn": tilec.jit(variant(src, "rmsnorm_div_rn", "rstd = 1.0 / tl.sqrt(tl.sum(x * x, axis=0) / N + eps)",
                                          "rstd = tl.math.div_rn(1.0, tl.sqrt(tl.sum(x * x, axis=0) / N + eps))")),
        "triton": triton.jit(shared_kernels.rmsnorm_fwd),
    }
    nbytes = 2 * m * n * 2
    for rnd in range(3):
        for name, k in kernels.items():
            ms = triton.testing.do_bench(lambda: k[(m,)](x, w, y, x.stride(0), n, 1e-6, BLOCK_SIZE=n, num_warps=8))
            print(f"round {rnd} {name:14s} {nbytes / ms / 1e6:8.1f} GB/s")


if __name__ == "__main__":
    main()
