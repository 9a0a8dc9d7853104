"""Host-side TensorDescriptor kernel arguments (triton.tools.tensor_descriptor): 1-D to 3-D, fp16 and
fp32, loads and stores, edge tiles past every border zero- or NaN-filled and left unwritten, on every
backend against NumPy; the specialization on block shape and padding; the launch-time checks; and
the CUDA C for sm_80 and sm_90 through NVRTC."""
import numpy as np
import pytest

import tilec
import tilec.language as tl
from tilec.tools.tensor_descriptor import TensorDescriptor
from test_triton_api import cuda_kernel, ptxas_check


@tilec.jit
def copy_2d(x_desc, y_desc, dm, dn):
    bm = x_desc.block_shape[0]
    bn = x_desc.block_shape[1]
    om = tl.program_id(0) * bm
    on = tl.program_id(1) * bn
    # A shifted window: reads past every edge (negative offsets too) come back as padding.
    v = x_desc.load([om + dm, on + dn])
    y_desc.store([om, on], v * 2)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("pad", ["zero", "nan"])
@pytest.mark.parametrize("dm, dn", [(0, 0), (3, -5), (-7, 2)])
def test_descriptor_arg_2d_edges(backend, rng, dtype, pad, dm, dn):
    m, n = 37, 50
    big = rng.uniform(-1, 1, (m, 64)).astype(dtype)   # rows padded to 64: the descriptor's stride
    y_big = np.full((m + 3, 72), 7.0, dtype)           # the store must not touch the padding either
    x, y = backend.put(big), backend.put(y_big)
    xd = TensorDescriptor(x, [m, n], [64, 1], [16, 32], padding=pad)
    yd = TensorDescriptor(y, [m, n], [72, 1], [16, 32])
    copy_2d[(tilec.cdiv(m, 16), tilec.cdiv(n, 32))](xd, yd, dm, dn)
    out = backend.get(y)
    padded = np.full((m + 64, n + 64), 0.0 if pad == "zero" else np.nan, dtype)
    padded[32:32 + m, 32:32 + n] = big[:, :n]
    np.testing.assert_array_equal(out[:m, :n], padded[32 + dm:32 + dm + m, 32 + dn:32 + dn + n] * 2)
    assert (out[m:] == 7.0).all() and (out[:, n:] == 7.0).all()


@tilec.jit
def scale_1d(x_desc, y_desc, BLOCK: tl.constexpr):
    off = tl.program_id(0) * BLOCK
    y_desc.store([off], x_desc.load([off]) * 3)


def test_descriptor_arg_1d(backend, rng):
    n = 1000
    x = backend.put(rng.uniform(-1, 1, n).astype(np.float32))
    y = backend.out((n + 24,), "float32")
    xd = TensorDescriptor.from_tensor(x, [128])
    yd = TensorDescriptor(y, [n], [1], [128])
    scale_1d[(tilec.cdiv(n, 128),)](xd, yd, BLOCK=128)
    out = backend.get(y)
    np.testing.assert_array_equal(out[:n], backend.get(x) * 3)
    assert np.isnan(out[n:]).all()  # past the descriptor's shape: never written


@tilec.jit
def add_3d(x_desc, y_desc, z_ptr, BA: tl.constexpr, BB: tl.constexpr, BC: tl.constexpr):
    offs = [tl.program_id(0) * BA, tl.program_id(1) * BB, 0]
    z_desc = tl.make_tensor_descriptor(z_ptr, [5, 9, 16], [9 * 16, 16, 1], [BA, BB, BC])
    # fp32 + fp16 stored into an fp16 descriptor: the value converts to the descriptor's dtype.
    y_desc.store(offs, x_desc.load(offs) + y_desc.load(offs) + z_desc.load(offs))


def test_descriptor_arg_3d_with_conversion(backend, rng):
    shape = (5, 9, 16)
    xs = rng.uniform(-4, 4, shape).astype(np.float32)
    ys = rng.uniform(-4, 4, shape).astype(np.float16)
    zs = rng.uniform(-4, 4, shape).astype(np.float32)
    x, y, z = backend.put(xs), backend.put(ys), backend.put(zs)
    add_3d[(tilec.cdiv(5, 2), tilec.cdiv(9, 4))](TensorDescriptor.from_tensor(x, [2, 4, 16]),
                                                 TensorDescriptor.from_tensor(y, [2, 4, 16]), z, BA=2, BB=4, BC=16)
    np.testing.assert_array_equal(backend.get(y), (xs + ys.astype(np.float32) + zs).astype(np.float16))


@tilec.jit
def fill_descriptor(y_desc):
    bm = y_desc.block_shape[0]
    bn = y_desc.block_shape[1]
    v = y_desc.load([tl.program_id(0) * bm, 0])
    y_desc.store([tl.program_id(0) * bm, 0], tl.where(v != v, -1.0, v + bm * 100 + bn))


def test_descriptor_arg_specializes_on_block_shape_and_padding(backend):
    # One kernel, three descriptors: the block shape and the padding are compile-time facts, so each
    # launch must run its own specialization (a wrong one would write other values or leave gaps).
    for bm, bn, pad in [(16, 16, "zero"), (32, 16, "zero"), (16, 16, "nan")]:
        y = backend.put(np.zeros((64, 16), np.float32))
        fill_descriptor[(64 // bm,)](TensorDescriptor(y, [64, 16], [16, 1], [bm, bn], padding=pad))
        np.testing.assert_array_equal(backend.get(y), np.full((64, 16), bm * 100 + bn, np.float32))
    y = backend.put(np.zeros((64, 16), np.float32))
    fill_descriptor[(5,)](TensorDescriptor(y, [64, 16], [16, 1], [16, 16], padding="nan"))  # program 4 reads past row 63
    np.testing.assert_array_equal(backend.get(y), np.full((64, 16), 1616, np.float32))


def test_descriptor_arg_checks():
    x = np.zeros((16, 16), np.float32)
    with pytest.raises(ValueError, match="last dim must be contiguous"):
        TensorDescriptor(x, [16, 16], [1, 16], [16, 16])
    with pytest.raises(ValueError, match="not a power of two"):
        TensorDescriptor(x, [16, 16], [16, 1], [16, 12])
    with pytest.raises(ValueError, match="16-byte aligned"):
        TensorDescriptor(x, [16, 6], [6, 1], [16, 8])
    with pytest.raises(ValueError, match="padding must be"):
        TensorDescriptor(x, [16, 16], [16, 1], [16, 16], padding="max")
    # The launcher checks the fields again: a descriptor edited after construction is caught there.
    d = TensorDescriptor(x, [16, 16], [16, 1], [16, 16])
    d.strides = [16, 2]
    with pytest.raises(ValueError, match="'y_desc' has a last stride of 2"):
        fill_descriptor[(1,)](d)
    d = TensorDescriptor(x, [16, 16], [16, 1], [16, 16])
    d.strides = [6, 1]
    with pytest.raises(ValueError, match="has a stride of 6 elements in dim 0, which is not 16-byte aligned"):
        fill_descriptor[(1,)](d)
    d = TensorDescriptor(x, [16, 16], [16, 1], [16, 16])
    d.block_shape = [16]
    with pytest.raises(ValueError, match="block_shape has 1 entries, but the descriptor has rank 2"):
        fill_descriptor[(1,)](d)
    # A block row under 16 bytes is Triton's compile error too.
    with pytest.raises(tilec.CompileError, match="block_shape \\[16, 2\\] of 8 bytes in the last dim"):
        fill_descriptor[(1,)](TensorDescriptor(x, [16, 16], [16, 1], [16, 2]))


def test_descriptor_arg_not_taken_by_a_compiled_kernels_launch():
    x = np.zeros((16, 16), np.float32)
    ck = fill_descriptor.warmup(TensorDescriptor(x, [16, 16], [16, 1], [16, 16], padding="nan"), grid=(1,))
    # The specialization in Triton's spelling, which the CLI and tilec.compile read back.
    assert ck.metadata["signature"] == "y_desc:tensordesc<fp32[16,16],nan>:16"
    tilec.compile(open(__file__).read(), name="fill_descriptor", signature=ck.metadata["signature"], path=__file__)
    with pytest.raises(TypeError, match="'y_desc' is a TensorDescriptor, which a compiled kernel's own launch does not take"):
        ck[(1,)](TensorDescriptor(x, [16, 16], [16, 1], [16, 16]))


SIG = "x_desc:tensordesc<fp32[16,32],nan>:16,y_desc:tensordesc<fp32[16,32]>:16,dm:i32,dn:i32"


@pytest.mark.parametrize("arch", [80, 90])
def test_descriptor_arg_compiles_for_cuda(arch):
    ck = cuda_kernel(open(__file__).read(), "copy_2d", SIG, {}, arch, __file__)
    ptxas_check(ck.asm["ptx"], arch)


@tilec.jit
def add_one_2d(x_desc, y_desc):
    bm = x_desc.block_shape[0]
    bn = x_desc.block_shape[1]
    offs = [tl.program_id(0) * bm, tl.program_id(1) * bn]
    y_desc.store(offs, x_desc.load(offs) + 1)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("m, n", [(64, 128), (48, 80), (45, 77)])
def test_descriptor_arg_shape_specialization(backend, rng, dtype, m, n):
    # Shapes divisible by 16 compile to vector accesses, the others to per-element masks; a tensor
    # wider than the descriptor checks that neither path touches what lies past its shape.
    xs = rng.uniform(-1, 1, (m, 96 * 2)).astype(dtype)
    x, y = backend.put(xs), backend.out((m, 96 * 2), dtype)
    add_one_2d[(tilec.cdiv(m, 16), tilec.cdiv(n, 32))](TensorDescriptor(x, [m, n], [192, 1], [16, 32]),
                                                        TensorDescriptor(y, [m, n], [192, 1], [16, 32]))
    out = backend.get(y)
    np.testing.assert_array_equal(out[:, :n], xs[:, :n] + np.array(1, dtype))
    assert np.isnan(out[:, n:]).all()


@pytest.mark.parametrize("div16", [True, False])
def test_descriptor_arg_shape_div16_vectorizes(div16):
    # `:16` on a descriptor (every shape entry divisible by 16) makes each bounds mask uniform over a
    # vector, so rows load and store 16 bytes at a time; without it, element by element.
    # (sm_80: sm_90 loads the blocks with TMA either way, and stores them so when the innermost
    # shape is whole 16 bytes, since a TMA store writes up to the next 16 bytes.)
    a = ":16" if div16 else ""
    sig = f"x_desc:tensordesc<fp32[16,32]>{a},y_desc:tensordesc<fp32[16,32]>{a}"
    cuda = cuda_kernel(open(__file__).read(), "add_one_2d", sig, {}, 80, __file__).asm["cuda"]
    assert ("16-byte vector loads" in cuda and "16-byte vector stores" in cuda) == div16
    ptx = cuda_kernel(open(__file__).read(), "add_one_2d", sig, {}, 90, __file__).asm["ptx"]
    assert "cp.async.bulk.tensor.2d.shared::cluster.global" in ptx
    assert ("cp.async.bulk.tensor.2d.global.shared::cta" in ptx) == div16


@pytest.mark.parametrize("sig, message", [
    ("d:tensordesc<fp32[16,12]>", "has a block dim '12' that is not a power of two"),
    ("d:tensordesc<fp99[16]>", "has an unknown dtype"),
    ("d:tensordesc<fp32[16],max>", "has ',max' after the block shape"),
    ("d:tensordesc<fp32[1,1,1,1,1,1]>", "needs 1 to 5 block dims"),
])
def test_descriptor_signature_errors(sig, message):
    src = "import tilec.language as tl\n\ndef k(d):\n    pass\n"
    with pytest.raises(ValueError, match=message.replace("[", "\\[")):
        tilec.compile(src, name="k", signature=sig, path="d.py")


@tilec.jit
def matmul_descriptors(a_desc, b_desc, c_desc, K, B_K_MAJOR: tl.constexpr):
    # Host descriptors feeding a pipelined dot: TMA copies on sm_90, plain loads elsewhere. B is
    # [k, n] (N-major), or [n, k] read through b.T (K-major, a linear layer's weight).
    bm = a_desc.block_shape[0]
    bk = a_desc.block_shape[1]
    bn = c_desc.block_shape[1]
    om = tl.program_id(0) * bm
    on = tl.program_id(1) * bn
    acc = tl.zeros((bm, bn), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, bk)):
        a = a_desc.load([om, k * bk])
        if B_K_MAJOR:
            acc = tl.dot(a, b_desc.load([on, k * bk]).T, acc)
        else:
            acc = tl.dot(a, b_desc.load([k * bk, on]), acc)
    c_desc.store([om, on], acc.to(c_desc.dtype))


@tilec.jit
def matmul_made_descriptors(a_ptr, b_ptr, c_ptr, M, N, K, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    # The Triton tutorial's in-kernel descriptors over argument fields: TMA on sm_90 as well.
    a_desc = tl.make_tensor_descriptor(a_ptr, shape=[M, K], strides=[K, 1], block_shape=[BM, BK])
    b_desc = tl.make_tensor_descriptor(b_ptr, shape=[K, N], strides=[N, 1], block_shape=[BK, BN])
    c_desc = tl.make_tensor_descriptor(c_ptr, shape=[M, N], strides=[N, 1], block_shape=[BM, BN])
    om = tl.program_id(0) * BM
    on = tl.program_id(1) * BN
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BK)):
        acc = tl.dot(a_desc.load([om, k * BK]), b_desc.load([k * BK, on]), acc)
    c_desc.store([om, on], acc.to(tl.float16))


# Ragged shapes leave edge tiles that TMA zero-fills; strides stay 16-byte multiples (Triton's rule).
@pytest.mark.parametrize("m, n, k", [(256, 256, 256), (200, 136, 184)])
@pytest.mark.parametrize("b_k_major", [False, True])
@pytest.mark.parametrize("bn", [64, 128])
def test_descriptor_matmul(backend, rng, m, n, k, b_k_major, bn):
    bm, bk = 64, 64
    a = rng.uniform(-1, 1, (m, k)).astype(np.float16)
    b = rng.uniform(-1, 1, (n, k) if b_k_major else (k, n)).astype(np.float16)
    da, db, dc = backend.put(a), backend.put(b), backend.out((m, n), "float16")
    ad = TensorDescriptor(da, [m, k], [k, 1], [bm, bk])
    bd = TensorDescriptor(db, [n, k], [k, 1], [bn, bk]) if b_k_major else TensorDescriptor(db, [k, n], [n, 1], [bk, bn])
    cd = TensorDescriptor(dc, [m, n], [n, 1], [bm, bn])
    matmul_descriptors[(tilec.cdiv(m, bm), tilec.cdiv(n, bn))](ad, bd, cd, k, B_K_MAJOR=b_k_major)
    ref = a.astype(np.float64) @ (b.T if b_k_major else b).astype(np.float64)
    np.testing.assert_allclose(backend.get(dc).astype(np.float64), ref, atol=2e-2, rtol=1e-2)


@pytest.mark.parametrize("m, n, k", [(256, 256, 256), (136, 200, 72)])
def test_made_descriptor_matmul(backend, rng, m, n, k):
    a = rng.uniform(-1, 1, (m, k)).astype(np.float16)
    b = rng.uniform(-1, 1, (k, n)).astype(np.float16)
    da, db, dc = backend.put(a), backend.put(b), backend.out((m, n), "float16")
    matmul_made_descriptors[(tilec.cdiv(m, 64), tilec.cdiv(n, 128))](da, db, dc, m, n, k, BM=64, BN=128, BK=64)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(backend.get(dc).astype(np.float64), ref, atol=2e-2, rtol=1e-2)


@pytest.mark.parametrize("b_k_major", [False, True])
def test_descriptor_matmul_uses_tma_on_sm90(b_k_major):
    sig = ("a_desc:tensordesc<fp16[64,64]>:16,b_desc:tensordesc<fp16[" + ("128,64" if b_k_major else "64,128") +
           "]>:16,c_desc:tensordesc<fp16[64,128]>:16,K:i32")
    ck = cuda_kernel(open(__file__).read(), "matmul_descriptors", sig, {"B_K_MAJOR": b_k_major}, 90, __file__)
    assert ck.asm["ptx"].count("cp.async.bulk.tensor.2d") >= 2 and "mbarrier.try_wait.parity" in ck.asm["ptx"]
    assert "cp.async.cg" not in ck.asm["ptx"]
    ptxas_check(ck.asm["ptx"], 90)
    # sm_80 has no TMA: the same kernel pipelines with cp.async.
    ck80 = cuda_kernel(open(__file__).read(), "matmul_descriptors", sig, {"B_K_MAJOR": b_k_major}, 80, __file__)
    assert "cp.async.bulk.tensor" not in ck80.asm["ptx"] and "cp.async.cg" in ck80.asm["ptx"]
