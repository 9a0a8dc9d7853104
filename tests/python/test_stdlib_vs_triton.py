"""The standard library's semantics against Triton's own: one kernel source (sort descending, topk,
gather, histogram, reduce and associative_scan with a non-commutative @jit combine, forward and
reverse, over one tile and over a tuple, interleave, cumsum(reverse=True)) run by tilec's CPU
backend and by Triton's interpreter (TRITON_INTERPRET=1, CPU tensors); every output must agree.
Skipped where triton or torch is missing."""
import os
import subprocess
import sys

import pytest

triton = pytest.importorskip("triton", reason="this test compares with Triton's interpreter")
torch = pytest.importorskip("torch", reason="Triton's interpreter runs on torch CPU tensors")

KERNEL = '''
@triton.jit
def _fo(l_a, l_b, r_a, r_b):
    return r_a * l_a, r_a * l_b + r_b


@triton.jit
def _first_nz(a, b):
    return tl.where(a != 0, a, b)


@triton.jit
def xk(x_ptr, i_ptr, a_ptr, b_ptr, o_sort, o_top, o_gat, o_hist, o_red, o_scan, o_rscan, o_rec, o_rrec, o_inter, o_cs, M: tl.constexpr, N: tl.constexpr):
    offs = tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :]
    x = tl.load(x_ptr + offs)
    idx = tl.load(i_ptr + offs)
    tl.store(o_sort + offs, tl.sort(x, descending=True))
    tl.store(o_top + tl.arange(0, M)[:, None] * 4 + tl.arange(0, 4)[None, :], tl.topk(x, 4))
    tl.store(o_gat + offs, tl.gather(x, idx, 1))
    flat = tl.reshape(idx, (M * N,))
    tl.store(o_hist + tl.arange(0, N), tl.histogram(flat, N))
    tl.store(o_red + tl.arange(0, M), tl.reduce(idx, 1, _first_nz))
    tl.store(o_scan + offs, tl.associative_scan(idx, 1, _first_nz))
    tl.store(o_rscan + offs, tl.associative_scan(idx, 1, _first_nz, reverse=True))
    a = tl.load(a_ptr + offs)
    b = tl.load(b_ptr + offs)
    _, h = tl.associative_scan((a, b), 1, _fo)
    tl.store(o_rec + offs, h)
    _, h2 = tl.associative_scan((a, b), 1, _fo, reverse=True)
    tl.store(o_rrec + offs, h2)
    tl.store(o_inter + tl.arange(0, M)[:, None] * (2 * N) + tl.arange(0, 2 * N)[None, :], tl.interleave(x, x + 1))
    tl.store(o_cs + offs, tl.cumsum(idx, 1, reverse=True))
'''


RUNNER = '''
import importlib.util, os, sys
import numpy as np
import torch

def load(compiler):
    spec = importlib.util.spec_from_file_location(f"stdlib_{compiler}", os.path.join(sys.argv[1], f"stdlib_{compiler}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.xk

m, n = 4, 16
rng = np.random.default_rng(1)
x = rng.standard_normal((m, n)).astype(np.float32)
idx = np.where(rng.random((m, n)) < 0.5, 0, rng.integers(0, 3, (m, n))).astype(np.int32)
a = rng.uniform(0.5, 1, (m, n)).astype(np.float32)
b = rng.standard_normal((m, n)).astype(np.float32)
results = {}
for compiler in ("tilec", "triton"):
    i32, nan = torch.int32, float("nan")
    outs = [torch.full((m, n), nan), torch.full((m, 4), nan), torch.full((m, n), nan), torch.full((n,), -1, dtype=i32),
            torch.full((m,), -1, dtype=i32), torch.full((m, n), -1, dtype=i32), torch.full((m, n), -1, dtype=i32),
            torch.full((m, n), nan), torch.full((m, n), nan), torch.full((m, 2 * n), nan), torch.full((m, n), -1, dtype=i32)]
    load(compiler)[(1,)](torch.from_numpy(x), torch.from_numpy(idx), torch.from_numpy(a), torch.from_numpy(b), *outs, M=m, N=n)
    results[compiler] = outs
names = "sort topk gather histogram reduce scan reverse_scan recurrence reverse_recurrence interleave cumsum_reverse".split()
for name, got, want in zip(names, results["tilec"], results["triton"]):
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
print("all equal")
'''


def test_matches_triton_interpreter(tmp_path):
    # A child process: Triton reads TRITON_INTERPRET when it is first imported.
    for compiler, header in (("tilec", "import tilec as triton\nimport tilec.language as tl\n"),
                             ("triton", "import triton\nimport triton.language as tl\n")):
        (tmp_path / f"stdlib_{compiler}.py").write_text(header + KERNEL)
    (tmp_path / "runner.py").write_text(RUNNER)
    env = dict(os.environ, TRITON_INTERPRET="1")
    r = subprocess.run([sys.executable, str(tmp_path / "runner.py"), str(tmp_path)], env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0 and "all equal" in r.stdout, r.stdout[-3000:] + r.stderr[-3000:]
