"""fp8 (tl.float8e5 = e5m2, tl.float8e4nv = e4m3fn) on the CPU backend against torch's float8 types:
every bit pattern decoded, conversions from fp32/fp16 rounded to nearest even with Triton's
saturation (finite overflow and infinities to the largest finite value, NaN kept), fp8 arithmetic,
promotion, tl.dot on fp8 operands, tilec.reinterpret of uint8 data, and the CUDA side through NVRTC
(fp8e5 on sm_80, fp8e4nv from sm_89 and a compile error below)."""
import numpy as np
import pytest

import tilec
import tilec.language as tl
from test_triton_api import cuda_kernel, ptxas_check

torch = pytest.importorskip("torch")

FP8 = [(tl.float8e5, torch.float8_e5m2, 57344.0), (tl.float8e4nv, torch.float8_e4m3fn, 448.0)]
IDS = ["e5m2", "e4m3fn"]


def bits(t):
    return t.view(torch.uint8).numpy()


def torch_fp8(x, torch_dtype, max_finite):
    """Triton's conversion as torch computes it: torch rounds to nearest even too, but sends
    overflow to NaN (e4m3fn) or infinity (e5m2), where Triton saturates; NaN stays NaN."""
    x = torch.as_tensor(x, dtype=torch.float32)
    return torch.where(x.isnan(), x, x.clamp(-max_finite, max_finite)).to(torch_dtype)


@tilec.jit
def decode_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    tl.static_assert(x.dtype.is_fp8())
    tl.store(y_ptr + offs, x.to(tl.float32), mask=m)


@pytest.mark.parametrize("dtype, torch_dtype, max_finite", FP8, ids=IDS)
def test_every_bit_pattern_decodes_exactly(dtype, torch_dtype, max_finite):
    x = torch.arange(256, dtype=torch.uint8).view(torch_dtype)
    y = torch.full((256,), 12345.0)
    decode_kernel[(1,)](x, y, 256, BLOCK=256)
    ref = x.to(torch.float32)
    assert torch.equal(y.isnan(), ref.isnan())
    keep = ~ref.isnan()
    assert torch.equal(y[keep], ref[keep])
    # The same bytes as a NumPy uint8 array reinterpreted (triton.reinterpret's route without torch dtypes).
    raw = np.arange(256, dtype=np.uint8)
    z = np.full(256, 12345.0, np.float32)
    decode_kernel[(1,)](tilec.reinterpret(raw, dtype), z, 256, BLOCK=256)
    np.testing.assert_array_equal(z[keep.numpy()], ref[keep].numpy())


@tilec.jit
def encode_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    tl.store(y_ptr + offs, x.to(y_ptr.dtype.element_ty), mask=m)


def conversion_inputs(torch_dtype, rng):
    """Random values across the range, every representable value, the midpoints between neighbours
    (ties to even), values just around each midpoint, subnormals, overflow and the specials."""
    reps = torch.arange(256, dtype=torch.uint8).view(torch_dtype).to(torch.float32)
    reps = reps[~reps.isnan()].unique()
    mids = (reps[1:] + reps[:-1]) / 2
    near = torch.cat([mids * (1 + 2.0 ** -20), mids * (1 - 2.0 ** -20)])
    spread = torch.from_numpy((rng.standard_normal(4096) * np.exp2(rng.uniform(-20, 20, 4096))).astype(np.float32))
    special = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e30, -1e30, 2.0 ** -30])
    return torch.cat([reps, mids, near, spread, special]).contiguous()


@pytest.mark.parametrize("dtype, torch_dtype, max_finite", FP8, ids=IDS)
@pytest.mark.parametrize("src", [torch.float32, torch.float16])
def test_conversion_rounds_to_nearest_even_and_saturates(rng, dtype, torch_dtype, max_finite, src):
    x = conversion_inputs(torch_dtype, rng).to(src)
    n = x.numel()
    y = torch.empty(n, dtype=torch_dtype)
    encode_kernel[(tilec.cdiv(n, 1024),)](x, y, n, BLOCK=1024)
    ref = torch_fp8(x.to(torch.float32), torch_dtype, max_finite)
    out_bits, ref_bits = bits(y), bits(ref)
    nan = ref.to(torch.float32).isnan().numpy()
    assert (y.to(torch.float32).isnan().numpy() == nan).all()
    bad = np.nonzero((out_bits != ref_bits) & ~nan)[0]
    assert bad.size == 0, [(x[i].item(), hex(out_bits[i]), hex(ref_bits[i])) for i in bad[:8]]
    assert y.to(torch.float32)[x.to(torch.float32) == float("inf")].eq(max_finite).all()


@tilec.jit
def fp8_math_kernel(a_ptr, b_ptr, out_ptr, mixed_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    a = tl.load(a_ptr + offs, mask=m)
    b = tl.load(b_ptr + offs, mask=m)
    c = a * a + 1.5  # fp8 arithmetic computes in fp32 and rounds to fp8
    tl.static_assert(c.dtype == tl.float8e4nv)
    tl.store(out_ptr + offs, tl.maximum(c, 0.0), mask=m)
    d = a + b  # fp8e4nv with fp8e5: fp16, as in Triton's computation_type_impl
    tl.static_assert(d.dtype == tl.float16)
    tl.static_assert(a.dtype.fp_mantissa_width == 3 and b.dtype.fp_mantissa_width == 2)
    tl.static_assert(a.dtype.primitive_bitwidth == 8 and a.dtype.is_fp8e4nv() and b.dtype.is_fp8e5())
    tl.store(mixed_ptr + offs, d, mask=m)


def test_fp8_arithmetic_and_promotion(rng):
    n = 1000
    a = torch.from_numpy(rng.uniform(-8, 8, n).astype(np.float32)).to(torch.float8_e4m3fn)
    b = torch.from_numpy(rng.uniform(-8, 8, n).astype(np.float32)).to(torch.float8_e5m2)
    out = torch.empty(n, dtype=torch.float8_e4m3fn)
    mixed = torch.full((n,), float("nan"), dtype=torch.float16)
    fp8_math_kernel[(4,)](a, b, out, mixed, n, BLOCK=256)
    af = a.to(torch.float32)
    # The CPU backend rounds a fused chain once, on the store (as for fp16); a backend may also round
    # after each op: either result is accepted, nothing else.
    once = torch_fp8(af * af + 1.5, torch.float8_e4m3fn, 448.0).to(torch.float32).clamp(min=0)
    sq = torch_fp8(af * af, torch.float8_e4m3fn, 448.0).to(torch.float32)
    each = torch_fp8(sq + 1.5, torch.float8_e4m3fn, 448.0).to(torch.float32).clamp(min=0)
    got = out.to(torch.float32)
    assert ((got == once) | (got == each)).all()
    assert torch.equal(mixed, (af + b.to(torch.float32)).to(torch.float16))


@tilec.jit
def fp8_dot_kernel(a_ptr, b_ptr, c_ptr, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr):
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    rk = tl.arange(0, K)
    a = tl.load(a_ptr + rm[:, None] * K + rk[None, :])
    b = tl.load(b_ptr + rk[:, None] * N + rn[None, :])
    c = tl.dot(a, b)
    tl.static_assert(c.dtype == tl.float32)
    tl.store(c_ptr + rm[:, None] * N + rn[None, :], c)


@pytest.mark.parametrize("ta, tb", [(torch.float8_e4m3fn, torch.float8_e4m3fn), (torch.float8_e5m2, torch.float8_e5m2),
                                    (torch.float8_e4m3fn, torch.float8_e5m2)])
def test_dot_on_fp8_operands(rng, ta, tb):
    m, n, k = 32, 32, 64
    a = torch.from_numpy(rng.uniform(-4, 4, (m, k)).astype(np.float32)).to(ta)
    b = torch.from_numpy(rng.uniform(-4, 4, (k, n)).astype(np.float32)).to(tb)
    c = torch.full((m, n), float("nan"))
    fp8_dot_kernel[(1,)](a, b, c, M=m, N=n, K=k)
    ref = a.to(torch.float64) @ b.to(torch.float64)
    np.testing.assert_allclose(c.numpy(), ref.numpy(), rtol=1e-5, atol=1e-4)


FP8_SRC = '''
import tilec.language as tl

def k(x_ptr, y_ptr, z_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    tl.store(y_ptr + offs, x.to(y_ptr.dtype.element_ty), mask=m)
    tl.store(z_ptr + offs, tl.load(y_ptr + offs, mask=m).to(tl.float32) * 2, mask=m)
'''


@pytest.mark.parametrize("fp8, arch", [("fp8e5", 80), ("fp8e5", 90), ("fp8e4nv", 89), ("fp8e4nv", 90)])
def test_cuda_fp8_compiles(fp8, arch):
    ck = cuda_kernel(FP8_SRC, "k", f"x_ptr:*fp32,y_ptr:*{fp8},z_ptr:*fp32,n:i32", {"BLOCK": 256}, arch, "fp8.py")
    assert "#include <cuda_fp8.h>" in ck.asm["cuda"]
    if arch >= 89:  # the hardware conversions (below sm_89, cuda_fp8.h converts e5m2 in software)
        assert ("e4m3x2" if fp8 == "fp8e4nv" else "e5m2x2") in ck.asm["ptx"]
    ptxas_check(ck.asm["ptx"], arch)


def test_cuda_fp8e4nv_before_sm89_is_an_error():
    with pytest.raises(tilec.CompileError) as e:
        cuda_kernel(FP8_SRC, "k", "x_ptr:*fp32,y_ptr:*fp8e4nv,z_ptr:*fp32,n:i32", {"BLOCK": 256}, 80, "fp8.py")
    assert "fp8.py:8:28: error: tl.float8e4nv needs sm_89 or newer" in str(e.value)


ATOMIC_SRC = '''
import tilec.language as tl

def k(x_ptr):
    tl.atomic_add(x_ptr + tl.arange(0, 16), 1.0)
'''


def test_fp8_atomics_are_errors():
    with pytest.raises(tilec.CompileError) as e:
        tilec.compile(ATOMIC_SRC, name="k", signature="x_ptr:*fp8e5", path="a.py")
    assert "atomic_add on fp8e5 is not supported" in str(e.value)


def test_reinterpret_checks_the_width():
    with pytest.raises(ValueError, match="float8e5 is 8 bits wide but the tensor's elements are 32"):
        tilec.reinterpret(np.zeros(4, np.float32), tl.float8e5)
    w = tilec.reinterpret(np.zeros((4, 6), np.uint8)[:, ::2], tl.float8e4nv)
    assert w.stride() == (6, 2) and w.shape == (4, 3) and w.dtype == tl.float8e4nv


@tilec.jit
def fp8_tile_ops_kernel(x_ptr, rowmax_ptr, t_ptr, sel_ptr, R: tl.constexpr, C: tl.constexpr):
    r = tl.arange(0, R)
    c = tl.arange(0, C)
    x = tl.load(x_ptr + r[:, None] * C + c[None, :], mask=c[None, :] < C - 1, other=-1.0)
    tl.store(rowmax_ptr + r, tl.max(x, axis=1))
    tl.store(t_ptr + c[:, None] * R + r[None, :], tl.trans(x))
    z = tl.zeros((R, C), dtype=tl.float8e5)
    tl.store(sel_ptr + r[:, None] * C + c[None, :], tl.where(x > 0, x.to(tl.float8e5), z))


def test_fp8_tiles_move_reduce_and_select(rng):
    r, c = 8, 16
    x = torch.from_numpy(rng.uniform(-100, 100, (r, c)).astype(np.float32)).to(torch.float8_e4m3fn)
    rowmax = torch.empty(r, dtype=torch.float8_e4m3fn)
    t = torch.empty((c, r), dtype=torch.float8_e4m3fn)
    sel = torch.empty((r, c), dtype=torch.float8_e5m2)
    fp8_tile_ops_kernel[(1,)](x, rowmax, t, sel, R=r, C=c)
    xf = x.to(torch.float32)
    xf[:, c - 1] = -1.0  # masked out: `other`
    assert torch.equal(rowmax.to(torch.float32), xf.amax(dim=1))
    assert torch.equal(t.to(torch.float32), xf.T)
    assert torch.equal(sel.to(torch.float32), torch.where(xf > 0, torch_fp8(xf, torch.float8_e5m2, 57344.0).to(torch.float32), 0))


ROUNDING_SRC = '''
import tilec.language as tl

def k(x_ptr, y_ptr):
    x = tl.load(x_ptr + tl.arange(0, 16))
    tl.store(y_ptr + tl.arange(0, 16), x.to(tl.float8e5, fp_downcast_rounding=MODE))
'''


def test_fp_downcast_rounding():
    x = torch.linspace(-3, 3, 16)
    y = torch.empty(16, dtype=torch.float8_e5m2)
    ck = tilec.compile(ROUNDING_SRC.replace("MODE", '"rtne"'), name="k", signature="x_ptr:*fp32,y_ptr:*fp8e5", path="r.py")
    ck[(1,)](x, y)
    assert torch.equal(y.view(torch.uint8), x.to(torch.float8_e5m2).view(torch.uint8))
    with pytest.raises(tilec.CompileError, match="fp_downcast_rounding='rtz' is not supported; tilec rounds to nearest even"):
        tilec.compile(ROUNDING_SRC.replace("MODE", '"rtz"'), name="k", signature="x_ptr:*fp32,y_ptr:*fp8e5", path="r.py")
    with pytest.raises(tilec.CompileError, match="only for narrowing float conversions, not fp8e5 to fp32"):
        tilec.compile(ROUNDING_SRC.replace("MODE", '"rtne"').replace("tl.float8e5,", "tl.float32,"), name="k",
                      signature="x_ptr:*fp8e5,y_ptr:*fp32", path="r.py")


CUDA_FP8_AGREEMENT = r'''
#include <cuda_fp8.h>
#include <cstdio>
#include <cstring>
#include "runtime/cpu/tilec_vec.h"
// Every float with a 16-bit prefix (all exponents, signs, NaNs, infinities) and every fp8 byte:
// the CPU backend's software conversions against cuda_fp8.h, whose host code is the GPU's rounding.
int main() {
  long bad = 0;
  for (uint32_t u = 0; u < (1u << 16); ++u) {
    uint32_t x = (u << 16) | (u * 2654435761u >> 16);
    float f;
    std::memcpy(&f, &x, 4);
    if (f != f) continue;
    bad += __nv_cvt_float_to_fp8(f, __NV_SATFINITE, __NV_E4M3) != tilec_rt::fp8e4nv::from_float(f);
    bad += __nv_cvt_float_to_fp8(f, __NV_SATFINITE, __NV_E5M2) != tilec_rt::fp8e5::from_float(f);
  }
  for (int b = 0; b < 256; ++b) {
    float e4 = __half2float(__half(__nv_cvt_fp8_to_halfraw(b, __NV_E4M3))), e5 = __half2float(__half(__nv_cvt_fp8_to_halfraw(b, __NV_E5M2)));
    float t4 = tilec_rt::fp8e4nv::to_float(b), t5 = tilec_rt::fp8e5::to_float(b);
    bad += !(e4 == t4 || (e4 != e4 && t4 != t4)) + !(e5 == t5 || (e5 != e5 && t5 != t5));
  }
  std::printf("%ld\n", bad);
  return bad != 0;
}
'''


def test_cpu_conversions_match_cuda_fp8_h(tmp_path):
    """The two backends' fp8 conversions agree bit for bit (NVRTC's cuda_fp8.h compiled for the host)."""
    import os
    import shutil
    import subprocess
    try:
        include = tilec._C.nvrtc_info()["include_dir"]
    except Exception as e:  # noqa: BLE001 (no NVRTC: nothing to compare against)
        pytest.skip(f"NVRTC unavailable: {e}")
    cxx = shutil.which(os.environ.get("CXX", "c++"))
    # cuda_fp8.h includes the toolkit's crt/ headers for host code; NVRTC from a pip wheel may ship
    # without them, and then a full toolkit (CUDA_HOME) provides the headers.
    complete = [d for d in (include, os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "include"))
                if os.path.exists(os.path.join(d, "cuda_fp8.h")) and os.path.exists(os.path.join(d, "crt", "host_defines.h"))]
    if not cxx or not complete:
        pytest.skip("needs a host C++ compiler and a CUDA toolkit's cuda_fp8.h with its crt/ headers")
    include = complete[0]
    src = tmp_path / "agree.cpp"
    src.write_text(CUDA_FP8_AGREEMENT)
    exe = tmp_path / "agree"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subprocess.run([cxx, "-O1", "-std=c++17", f"-I{include}", f"-I{root}", str(src), "-o", str(exe)], check=True)
    r = subprocess.run([str(exe)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "0", r.stdout
