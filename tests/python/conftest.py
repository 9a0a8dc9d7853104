"""Shared fixtures: the backends to run on, seeded random inputs per dtype, poisoned outputs and
a float64 NumPy reference comparison."""
import hashlib

import numpy as np
import pytest

try:
    import torch
except ImportError:  # torch is optional: without it only the CPU backend on NumPy arrays runs
    torch = None

HAS_CUDA = torch is not None and torch.cuda.is_available()

INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOAT_DTYPES = ["float16", "bfloat16", "float32", "float64"]
ALL_DTYPES = INT_DTYPES + FLOAT_DTYPES + ["bool"]

# Tolerances of ||out - ref|| / ||ref|| against a float64 reference.
TOLERANCE = {"float16": 1e-2, "bfloat16": 1e-2, "float32": 1e-5, "float64": 1e-12, "tf32": 1e-3}


def is_float(dtype):
    return dtype in FLOAT_DTYPES


def is_signed(dtype):
    return dtype.startswith("int")


def np_dtype(dtype):
    """The NumPy dtype holding values of `dtype` on the host (bf16 travels as float32)."""
    return np.float32 if dtype == "bfloat16" else np.dtype(dtype)


def int_range(dtype):
    """A range of ints whose sums and products of a few terms stay exact in `dtype`."""
    bits = np.dtype(dtype).itemsize * 8
    hi = min(2 ** (bits // 2 - 1), 1000)
    return (-hi, hi) if is_signed(dtype) else (1, 2 * hi)


def round_to(x, dtype):
    """x rounded to a float dtype on the host (bf16 to nearest even, kept in float32), so that
    references see exactly the kernel's inputs."""
    if dtype != "bfloat16":
        return np.asarray(x).astype(dtype)
    bits = np.asarray(x, dtype=np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) & np.uint32(0xFFFF0000)).view(np.float32)


def rand(rng, shape, dtype, low=None, high=None):
    """Random values, never zero: uniform in [-2, 2] for floats (rounded to the dtype), ints in a
    range that keeps results exact, random bools for bool."""
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if is_float(dtype):
        low = -2.0 if low is None else low
        high = 2.0 if high is None else high
        x = rng.uniform(low, high, shape)
        x[x == 0] = high / 2
        return round_to(x, dtype)
    lo, hi = int_range(dtype)
    low = lo if low is None else low
    high = hi if high is None else high
    x = rng.integers(low, high, shape, endpoint=True)
    x[x == 0] = 1
    return x.astype(dtype)


class Backend:
    """Moves NumPy arrays to where a kernel runs and back: NumPy itself for "cpu" (torch CPU tensors
    for bf16, which NumPy lacks), torch tensors on the GPU for "cuda"."""

    def __init__(self, name):
        self.name = name

    def supports(self, dtype):
        return dtype != "bfloat16" or torch is not None

    def put(self, array, dtype=None):
        """`array` (a NumPy array) on the backend, as `dtype` (default: its own dtype)."""
        dtype = dtype or str(np.asarray(array).dtype)
        if dtype == "bfloat16":
            if torch is None:
                pytest.skip("bfloat16 needs torch (NumPy has no bfloat16)")
            t = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).to(torch.bfloat16)
            return t.cuda() if self.name == "cuda" else t
        a = np.array(array, dtype=np.dtype(dtype), order="C")  # a copy: kernels must not write the caller's reference data
        if self.name == "cuda":
            return torch.from_numpy(a).cuda()
        return a

    def get(self, x):
        """A backend array as NumPy (bf16 as float32)."""
        if isinstance(x, np.ndarray):
            return x.copy()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.cpu().numpy()

    def out(self, shape, dtype):
        """An output buffer poisoned so that unwritten elements fail the comparison."""
        return self.put(poison(shape, dtype), dtype)

    def sync(self):
        if self.name == "cuda":
            torch.cuda.synchronize()


def poison(shape, dtype):
    if is_float(dtype):
        return np.full(shape, np.nan, dtype=np_dtype(dtype))
    if dtype == "bool":
        return np.ones(shape, dtype=bool)
    return np.full(shape, 0x5B if is_signed(dtype) or dtype == "uint8" else 0x5B5B, dtype=dtype)


BACKENDS = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not HAS_CUDA, reason="needs torch with CUDA"))]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return Backend(request.param)


@pytest.fixture
def rng(request):
    """A generator seeded from the test's id: fresh data per test, reproducible per test."""
    seed = int.from_bytes(hashlib.sha256(request.node.nodeid.encode()).digest()[:8], "little")
    return np.random.default_rng(seed)


def rel_error(out, ref):
    out = np.asarray(out, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    norm = np.linalg.norm(ref)
    return np.linalg.norm(out - ref) / (norm if norm > 0 else 1.0)


def assert_close(out, ref, dtype, what=""):
    """Exact for ints and bools; for floats relative error under TOLERANCE[dtype] (NaN never passes)."""
    out = np.asarray(out)
    ref = np.asarray(ref)
    assert out.shape == ref.shape, f"{what}: shape {out.shape} != {ref.shape}"
    if dtype in TOLERANCE:
        assert not np.isnan(out).any(), f"{what}: NaN in output at {np.argwhere(np.isnan(out))[:5].tolist()}"
        err = rel_error(out, ref)
        assert err < TOLERANCE[dtype], f"{what}: relative error {err:.3g} >= {TOLERANCE[dtype]}\nout={out}\nref={ref}"
    else:
        ref = ref.astype(out.dtype) if dtype != "bool" else ref.astype(bool)
        bad = np.argwhere(out != ref)
        assert bad.size == 0, f"{what}: {len(bad)} mismatches, first at {bad[:5].tolist()}: " \
                              f"out={out[tuple(bad[0])]} ref={ref[tuple(bad[0])]}"
