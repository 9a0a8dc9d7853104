"""tl.rand, tl.randn, tl.randn4x, tl.randint and tl.randint4x bit for bit against Triton's: one kernel source,
compiled by tilec (CUDA backend) and by Triton, run on the same GPU for several seeds (32- and
64-bit, negative) and offsets (int32, and int64 ones at and past 2^32, whose high half is Philox
counter c1). Skipped where triton, torch or a CUDA GPU is missing (the lead runs it on the H200)."""
import importlib.util
import os

import numpy as np
import pytest

KERNEL = '''
@triton.jit
def philox_kernel(rand_ptr, randn_ptr, randint_ptr, x4_ptr, n4_ptr, seed, base, N: tl.constexpr):
    i = tl.arange(0, N)
    offs = base + i
    tl.store(rand_ptr + i, tl.rand(seed, offs))
    tl.store(randn_ptr + i, tl.randn(seed, offs))
    tl.store(randint_ptr + i, tl.randint(seed, offs))
    a, b, c, d = tl.randint4x(seed, offs)
    tl.store(x4_ptr + i, a)
    tl.store(x4_ptr + N + i, b)
    tl.store(x4_ptr + 2 * N + i, c)
    tl.store(x4_ptr + 3 * N + i, d)
    # randn4x: all four normals, the cos and the sin halves of both Box-Muller pairs.
    n0, n1, n2, n3 = tl.randn4x(seed, offs)
    tl.store(n4_ptr + i, n0)
    tl.store(n4_ptr + N + i, n1)
    tl.store(n4_ptr + 2 * N + i, n2)
    tl.store(n4_ptr + 3 * N + i, n3)
'''


def _skip_reason():
    try:
        import torch
    except ImportError:
        return "torch is not installed (the comparison runs on CUDA tensors)"
    try:
        import triton  # noqa: F401
    except ImportError:
        return "triton is not installed (this test compares tilec's Philox with Triton's)"
    if not torch.cuda.is_available():
        return "no CUDA GPU (Triton only runs on a GPU)"
    return None


SKIP = _skip_reason()
pytestmark = pytest.mark.skipif(SKIP is not None, reason=SKIP or "")


def _load(tmp_path, compiler):
    """The kernel in a module of its own whose `triton` and `tl` are `compiler`'s."""
    header = ("import tilec as triton\nimport tilec.language as tl\n" if compiler == "tilec"
              else "import triton\nimport triton.language as tl\n")
    path = os.path.join(tmp_path, f"philox_{compiler}.py")
    with open(path, "w") as f:
        f.write(header + KERNEL)
    spec = importlib.util.spec_from_file_location(f"philox_{compiler}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.philox_kernel


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("philox"))
    return _load(d, "tilec"), _load(d, "triton")


def _run(kernel, seed, base, n):
    import torch
    outs = [torch.full((n,), float("nan"), device="cuda"), torch.full((n,), float("nan"), device="cuda"),
            torch.full((n,), -1, dtype=torch.int32, device="cuda"), torch.full((4 * n,), -1, dtype=torch.int32, device="cuda"),
            torch.full((4 * n,), float("nan"), device="cuda")]
    kernel[(1,)](*outs, seed, base, N=n)
    torch.cuda.synchronize()
    return [o.cpu().numpy() for o in outs]


@pytest.mark.parametrize("seed", [0, 1, 1234, 2**31 - 1, -7, 2**40 + 3, -(2**62)])
@pytest.mark.parametrize("base", [0, 3, 2**31 - 64, 2**32 - 8, 2**32, 2**32 + 5, 2**40 + 17, 2**62])
def test_bitwise_equal(kernels, seed, base):
    tc, tr = kernels
    n = 128
    got, want = _run(tc, seed, base, n), _run(tr, seed, base, n)
    for name, g, w in zip(["rand", "randn", "randint", "randint4x", "randn4x"], got, want):
        # randn too: its Box-Muller takes Triton's approximate sqrt (libdevice.sqrt); log, cos and
        # sin round as Triton's do for the normal operands Box-Muller gives them.
        assert g.dtype == w.dtype, name
        assert np.array_equal(g.view(np.uint32), w.view(np.uint32)), (
            f"{name} differs at seed={seed} base={base}: first mismatch at {np.flatnonzero(g.view(np.uint32) != w.view(np.uint32))[:5]}")
