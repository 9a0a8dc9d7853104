"""The CPU backend's float32 math (runtime/cpu/tilec_vec.h's vector kernels, libm in the lane-wise
path) against a float64 NumPy reference, in ulps of the float32 result, over the whole float
range: random bit patterns, subnormals, zeros, infinities, NaN and the edges of each function's
range. The bounds are the ones tilec_vec.h documents. tools/test.sh runs this file again with
TILEC_CPU_ISA=avx2 and =scalar, so each SIMD path meets them."""
import os
import subprocess
import sys

import numpy as np
import pytest

import tilec
import tilec.language as tl

BLOCK = 1024  # a multiple of every vector width: the vector kernels take whole tiles


@tilec.jit
def math_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    tl.store(out_ptr + offs, tl.exp(x), mask=m)
    tl.store(out_ptr + n + offs, tl.exp2(x), mask=m)
    tl.store(out_ptr + 2 * n + offs, tl.log(x), mask=m)
    tl.store(out_ptr + 3 * n + offs, tl.log2(x), mask=m)
    tl.store(out_ptr + 4 * n + offs, tl.sqrt(x), mask=m)
    tl.store(out_ptr + 5 * n + offs, tl.rsqrt(x), mask=m)
    tl.store(out_ptr + 6 * n + offs, tl.sin(x), mask=m)
    tl.store(out_ptr + 7 * n + offs, tl.cos(x), mask=m)


# name, float64 reference, bound in ulps
FUNCTIONS = [
    ("exp", np.exp, 2.0),
    ("exp2", np.exp2, 2.0),
    ("log", np.log, 1.0),
    ("log2", np.log2, 2.0),
    ("sqrt", np.sqrt, 0.5),
    ("rsqrt", lambda x: 1.0 / np.sqrt(x), 1.5),
    ("sin", np.sin, 2.0),
    ("cos", np.cos, 2.0),
]

F32 = np.finfo(np.float32)


def special_values():
    """Zeros, infinities, NaN, subnormals, the largest and smallest normals, and each function's
    edges: exp's overflow and underflow thresholds, log near 1, sin/cos at multiples of pi/2 and at
    the edge of the reduced-argument path (8192)."""
    v = [0.0, -0.0, np.inf, -np.inf, np.nan, F32.tiny, -F32.tiny, F32.max, -F32.max, F32.smallest_subnormal,
         -F32.smallest_subnormal, 1e-40, 3e-39, 1.0, -1.0, 0.5, 2.0, 1e-7, 1e30, -1e30,
         88.72, 88.73, 89.0, -87.33, -103.97, -104.0, -150.0, 127.9, 128.0, 128.1, -149.0, -149.5, -151.0,
         1 - 2 ** -24, 1 + 2 ** -23, 0.7071067, 1.4142135, 8191.9, 8192.0, 8192.5, 1e5, 3e7]
    k = np.arange(-5200, 5200, 37, dtype=np.float64)
    return np.concatenate([np.array(v, dtype=np.float32), (k * np.pi / 2).astype(np.float32)])


def inputs(rng):
    """Every kind of float32: random bit patterns (all exponents), uniform values where each
    function is commonly used, and the special values."""
    bits = rng.integers(0, 2 ** 32, 60000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    common = np.concatenate([rng.uniform(-100, 100, 20000), rng.uniform(-10000, 10000, 20000),
                             rng.uniform(0, 4, 20000)]).astype(np.float32)
    return np.concatenate([bits, common, special_values()])


def ulp_errors(got, ref):
    """|got - ref| in units of the float32 spacing at ref; 0 where both are the same NaN/inf, inf
    where got misses a NaN, an infinity or an overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        ref32 = ref.astype(np.float32)
    err = np.zeros(ref.shape)
    special = ~np.isfinite(ref32)
    same = (np.isnan(ref32) & np.isnan(got)) | (ref32 == got)
    err[special & ~same] = np.inf
    fin = ~special
    with np.errstate(invalid="ignore"):
        diff = np.abs(got[fin].astype(np.float64) - ref[fin])
    diff[np.isnan(diff)] = np.inf
    err[fin] = diff / np.spacing(np.abs(ref32[fin])).astype(np.float64)
    return err


@pytest.fixture(scope="module")
def results():
    rng = np.random.default_rng(14)
    x = inputs(rng)
    n = x.size
    out = np.full(8 * n, np.nan, dtype=np.float32)
    math_kernel[(tilec.cdiv(n, BLOCK),)](x, out, n, BLOCK=BLOCK)
    return x, out.reshape(8, n)


@pytest.mark.parametrize("index", range(len(FUNCTIONS)), ids=[f[0] for f in FUNCTIONS])
def test_ulp_error_over_the_float_range(results, index):
    name, fn, bound = FUNCTIONS[index]
    x, out = results
    with np.errstate(all="ignore"):
        ref = fn(x.astype(np.float64))
    err = ulp_errors(out[index], ref)
    worst = int(np.argmax(err))
    assert err[worst] <= bound, (f"{name}({x[worst]!r}) = {out[index][worst]!r}, float64 reference {ref[worst]!r}: "
                                 f"{err[worst]:.2f} ulp > {bound}")


def test_special_values_exactly():
    """The IEEE results that the polynomial paths patch in by hand, checked bit for bit."""
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, 1.0, 200.0, -200.0] + [1.0] * 7, dtype=np.float32)
    n = x.size
    out = np.full(8 * n, np.nan, dtype=np.float32)
    math_kernel[(1,)](x, out, n, BLOCK=16)
    exp, exp2, log, log2, sqrt, rsqrt, sin, cos = out.reshape(8, n)[:, :9]
    inf, nan = np.inf, np.nan
    np.testing.assert_array_equal(exp, [1, 1, inf, 0, nan, np.float32(np.exp(-1.0)), np.float32(np.e), inf, 0])
    np.testing.assert_array_equal(exp2, [1, 1, inf, 0, nan, 0.5, 2, inf, 0])
    np.testing.assert_array_equal(log, [-inf, -inf, inf, nan, nan, nan, 0, np.float32(np.log(200.0)), nan])
    np.testing.assert_array_equal(log2[[0, 2, 3, 4, 5, 6]], [-inf, inf, nan, nan, nan, 0])
    np.testing.assert_array_equal(sqrt[[0, 1, 2, 4, 5, 6]], [0, -0.0, inf, nan, nan, 1])
    np.testing.assert_array_equal(rsqrt[[0, 2, 4, 6]], [inf, 0, nan, 1])
    assert np.isnan(sin[[2, 3, 4]]).all() and np.isnan(cos[[2, 3, 4]]).all()
    np.testing.assert_array_equal(sin[[0, 1]], [0, -0.0])
    np.testing.assert_array_equal(cos[[0, 1]], [1, 1])


def child(code, isa, tmp_path):
    """Runs `code` as a script (kernels need a source file) in a process with TILEC_CPU_ISA=isa."""
    script = tmp_path / "child.py"
    script.write_text(code)
    env = dict(os.environ, TILEC_CPU_ISA=isa, TILEC_CACHE_DIR=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)


def test_forced_isa_is_reported_and_a_bad_one_refused(tmp_path):
    """TILEC_CPU_ISA reaches the ISA description (hence the cache keys and `tilec doctor`), and an
    unknown level is a compile error naming the choices, not a silent fallback."""
    r = child("import tilec._C as C; print(C.host_compiler_info()['isa'])", "scalar", tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith(";isa=scalar")
    code = ("import numpy as np, tilec, tilec.language as tl\n"
            "@tilec.jit\n"
            "def k(x_ptr, BLOCK: tl.constexpr):\n"
            "    tl.store(x_ptr + tl.arange(0, BLOCK), tl.arange(0, BLOCK).to(tl.float32))\n"
            "k[(1,)](np.zeros(16, np.float32), BLOCK=16)\n")
    r = child(code, "avx1024", tmp_path)
    assert r.returncode != 0
    assert "TILEC_CPU_ISA='avx1024' is not one of native, avx512, avx2, scalar" in r.stderr
