"""tl.target_info and tl.extra.cuda as compile-time facts of the kernel's target (CPU launches, and
the CUDA backend through NVRTC), tilec.runtime.driver's host-side target, and tensor descriptors
(tl.make_tensor_descriptor, desc.load/desc.store, tl.load/store_tensor_descriptor) on the CPU
backend against NumPy, with zero/NaN padding and ragged edges that must stay unwritten."""
import numpy as np
import pytest

import tilec
import tilec.language as tl
from tilec.language.target_info import cuda_capability_geq
from test_triton_api import cuda_kernel, ptxas_check


@tilec.jit
def target_kernel(out_ptr):
    # Constexprs: a CPU launch takes the else branches (no GPU code is compiled for it).
    if tl.target_info.is_cuda():
        tl.store(out_ptr, 1)
    else:
        tl.store(out_ptr, 2)
    tl.store(out_ptr + 1, cuda_capability_geq(8, 0) + 10 * tl.target_info.is_hip())
    tl.store(out_ptr + 2, tl.extra.cuda.num_warps())
    tl.store(out_ptr + 3, tl.extra.cuda.num_threads())
    tl.static_assert(tl.extra.cuda.num_threads() == 32 * tl.extra.cuda.num_warps())
    tl.store(out_ptr + 4, tl.extra.cuda.smid() + 7)  # 0 on the CPU backend


@pytest.mark.parametrize("num_warps", [4, 8])
def test_target_info_on_the_cpu(num_warps):
    out = np.full(5, -1, np.int32)
    target_kernel[(1,)](out, num_warps=num_warps)
    # num_warps is part of the specialization: each value compiles its own kernel.
    np.testing.assert_array_equal(out, [2, 0, num_warps, 32 * num_warps, 7])


TARGET_SRC = '''
import tilec.language as tl
from tilec.language.extra import cuda as tlc

def k(out_ptr, t_ptr):
    if tl.target_info.cuda_capability_geq(9, 0):
        tl.store(out_ptr, 90)
    else:
        tl.store(out_ptr, 80)
    tl.store(t_ptr, tlc.globaltimer())
    tl.store(t_ptr + 1, tlc.smid().to(tl.int64) + tlc.num_threads())
'''


@pytest.mark.parametrize("arch", [80, 90])
def test_target_info_specializes_cuda_kernels(arch):
    ck = cuda_kernel(TARGET_SRC, "k", "out_ptr:*i32,t_ptr:*i64", {}, arch, "target.py")
    cuda, ptx = ck.asm["cuda"], ck.asm["ptx"]
    assert ("(90LL)" in cuda) == (arch >= 90) and ("(80LL)" in cuda) == (arch < 90)
    assert "%globaltimer" in ptx and "%smid" in ptx
    assert "(128LL)" in cuda  # num_threads() of num_warps=4
    ptxas_check(ptx, arch)


def test_host_side_target():
    target = tilec.runtime.driver.active.get_current_target()
    assert target.warp_size == 32 and target.backend in ("cuda", "cpu")
    assert tl.target_info.is_cuda() == (target.backend == "cuda")
    assert not tl.target_info.is_hip()
    assert cuda_capability_geq(0) == (target.backend == "cuda")


@tilec.jit
def inplace_abs(in_out_ptr, M, N, M_BLOCK: tl.constexpr, N_BLOCK: tl.constexpr):
    # The example of Triton's tl.make_tensor_descriptor documentation.
    desc = tl.make_tensor_descriptor(in_out_ptr, shape=[M, N], strides=[N, 1], block_shape=[M_BLOCK, N_BLOCK])
    moffset = tl.program_id(0) * M_BLOCK
    noffset = tl.program_id(1) * N_BLOCK
    value = desc.load([moffset, noffset])
    desc.store([moffset, noffset], tl.abs(value))


@pytest.mark.parametrize("m, n", [(64, 64), (37, 45)])
def test_inplace_abs(rng, m, n):
    x = rng.uniform(-1, 1, (m, n)).astype(np.float32)
    ref = np.abs(x)
    inplace_abs[(tilec.cdiv(m, 16), tilec.cdiv(n, 32))](x, m, n, 16, 32)
    np.testing.assert_array_equal(x, ref)


@tilec.jit
def window_kernel(x_ptr, y_ptr, M, N, stride_xm, stride_ym, dm, dn, PAD: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr):
    x_desc = tl.make_tensor_descriptor(x_ptr, [M, N], [stride_xm, 1], [BM, BN], padding_option=PAD)
    y_desc = tl.make_tensor_descriptor(y_ptr, [M, N], [stride_ym, 1], [BM, BN])
    tl.static_assert(x_desc.block_shape[0] == BM and x_desc.block_shape[1] == BN and x_desc.dtype == tl.float32)
    om = tl.program_id(0) * BM
    on = tl.program_id(1) * BN
    # A shifted window: reads past every edge (negative offsets too) come back as padding.
    v = tl.load_tensor_descriptor(x_desc, [om + dm, on + dn])
    tl.store_tensor_descriptor(y_desc, [om, on], v * 2)


@pytest.mark.parametrize("pad", ["zero", "nan"])
@pytest.mark.parametrize("dm, dn", [(0, 0), (3, -5), (-7, 2)])
def test_descriptor_padding_and_ragged_edges(rng, pad, dm, dn):
    m, n = 37, 50
    big = rng.uniform(-1, 1, (m, 64)).astype(np.float32)  # rows padded to 64: the descriptor's stride
    y_big = np.full((m + 3, 72), 7.0, np.float32)          # the store must not touch the padding either
    window_kernel[(tilec.cdiv(m, 16), tilec.cdiv(n, 32))](big, y_big, m, n, 64, 72, dm, dn, PAD=pad, BM=16, BN=32)
    fill = 0.0 if pad == "zero" else np.nan
    padded = np.full((m + 64, n + 64), fill, np.float32)
    padded[32:32 + m, 32:32 + n] = big[:, :n]
    ref = padded[32 + dm:32 + dm + m, 32 + dn:32 + dn + n] * 2
    np.testing.assert_array_equal(y_big[:m, :n], ref)
    assert (y_big[m:] == 7.0).all() and (y_big[:, n:] == 7.0).all()


@tilec.jit
def cast_store_3d_kernel(x_ptr, y_ptr, A, B, C, BA: tl.constexpr, BB: tl.constexpr, BC: tl.constexpr):
    x_desc = tl.make_tensor_descriptor(x_ptr, [A, B, C], [B * C, C, 1], [BA, BB, BC])
    y_desc = tl.make_tensor_descriptor(y_ptr, [A, B, C], [B * C, C, 1], [BA, BB, BC])
    offs = [tl.program_id(0) * BA, tl.program_id(1) * BB, 0]
    y_desc.store(offs, x_desc.load(offs) + 0.5)  # fp32 values stored into an fp16 descriptor


def test_descriptor_3d_with_conversion(rng):
    x = rng.uniform(-4, 4, (5, 9, 16)).astype(np.float32)
    y = np.full(x.shape, np.nan, np.float16)
    cast_store_3d_kernel[(tilec.cdiv(5, 2), tilec.cdiv(9, 4))](x, y, 5, 9, 16, BA=2, BB=4, BC=16)
    np.testing.assert_array_equal(y, (x + 0.5).astype(np.float16))


def test_host_tensor_descriptor_is_not_a_pointer():
    from tilec.tools.tensor_descriptor import TensorDescriptor
    x = np.zeros((16, 16), np.float32)
    desc = TensorDescriptor(x, [16, 16], [16, 1], [16, 16])
    # A descriptor argument is a descriptor in the kernel (test_descriptor_args.py), so the
    # in-kernel tl.make_tensor_descriptor rejects it as its base.
    with pytest.raises(tilec.CompileError, match="base must be a scalar pointer, got a tensor descriptor"):
        inplace_abs[(1, 1)](desc, 16, 16, 16, 16)
    tilec.set_allocator(lambda size, alignment, stream: None)  # accepted: tilec's descriptors need no scratch


DESC_ERRORS = [
    ("tl.make_tensor_descriptor(x, [n, n], [n, 2], [16, 16])", "needs the last dim contiguous (stride 1), got stride 2"),
    ("tl.make_tensor_descriptor(x, [n, n], [n, 1], [16, 16], padding_option='max')", "padding_option='max' is not supported"),
    ("tl.make_tensor_descriptor(x, [n], [n, 1], [16])", "tl.make_tensor_descriptor strides has 2 entries but block_shape has 1"),
    ("tl.advance(tl.make_tensor_descriptor(x, [n], [1], [16]), [1])", "tl.advance needs a block pointer from tl.make_block_ptr, got a tensor descriptor"),
]


@pytest.mark.parametrize("expr, message", DESC_ERRORS)
def test_descriptor_errors(expr, message):
    src = f"import tilec.language as tl\n\ndef k(x, n):\n    d = {expr}\n"
    with pytest.raises(tilec.CompileError) as e:
        tilec.compile(src, name="k", signature="x:*fp32,n:i32", path="d.py")
    assert message in str(e.value)


@pytest.mark.parametrize("arch", [80, 90])
def test_descriptors_compile_for_cuda(arch):
    src = open(__file__).read()
    ck = cuda_kernel(src, "window_kernel", "x_ptr:*fp32:16,y_ptr:*fp32:16,M:i32,N:i32,stride_xm:i32,stride_ym:i32,dm:i32,dn:i32",
                     {"PAD": "nan", "BM": 16, "BN": 32}, arch, __file__)
    ptxas_check(ck.asm["ptx"], arch)
