"""Kernels in the style of projects written with Triton block pointers (the Triton tutorials'
block-pointer matmul, FlagGems/attorch copies and row kernels): tl.make_block_ptr, tl.advance as a
loop-carried update, tl.load with boundary_check and padding_option "zero"/"nan"/"", and tl.store
with boundary_check on ragged edges. Outputs start poisoned, so unwritten elements fail."""
import numpy as np
import pytest

import tilec as triton
import tilec.language as tl
from compat_check import close, rng  # noqa: F401 (fixtures)


def poisoned(shape, dtype=np.float32):
    return np.full(shape, np.nan, dtype=dtype)


@triton.jit
def matmul_block_ptr_kernel(a_ptr, b_ptr, c_ptr, M, N, K,
                            stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                            BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    a_block_ptr = tl.make_block_ptr(base=a_ptr, shape=(M, K), strides=(stride_am, stride_ak),
                                    offsets=(pid_m * BLOCK_M, 0), block_shape=(BLOCK_M, BLOCK_K), order=(1, 0))
    b_block_ptr = tl.make_block_ptr(base=b_ptr, shape=(K, N), strides=(stride_bk, stride_bn),
                                    offsets=(0, pid_n * BLOCK_N), block_shape=(BLOCK_K, BLOCK_N), order=(1, 0))
    accumulator = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        a = tl.load(a_block_ptr, boundary_check=(0, 1), padding_option="zero")
        b = tl.load(b_block_ptr, boundary_check=(0, 1), padding_option="zero")
        accumulator = tl.dot(a, b, accumulator)
        a_block_ptr = tl.advance(a_block_ptr, (0, BLOCK_K))
        b_block_ptr = tl.advance(b_block_ptr, (BLOCK_K, 0))
    c = accumulator.to(tl.float16)
    c_block_ptr = tl.make_block_ptr(base=c_ptr, shape=(M, N), strides=(stride_cm, stride_cn),
                                    offsets=(pid_m * BLOCK_M, pid_n * BLOCK_N), block_shape=(BLOCK_M, BLOCK_N),
                                    order=(1, 0))
    tl.store(c_block_ptr, c, boundary_check=(0, 1))


@pytest.mark.parametrize("m, n, k", [(64, 64, 64), (37, 50, 45), (100, 17, 70)])
def test_matmul_block_ptr_ragged(rng, m, n, k):
    a = rng.uniform(-1, 1, (m, k)).astype(np.float16)
    b = rng.uniform(-1, 1, (k, n)).astype(np.float16)
    c = poisoned((m, n), np.float16)
    grid = (triton.cdiv(m, 32), triton.cdiv(n, 32))
    matmul_block_ptr_kernel[grid](a, b, c, m, n, k, a.strides[0] // 2, a.strides[1] // 2, b.strides[0] // 2,
                                  b.strides[1] // 2, c.strides[0] // 2, c.strides[1] // 2,
                                  BLOCK_M=32, BLOCK_N=32, BLOCK_K=16)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    close(c, ref, tol=2e-2)


def test_matmul_block_ptr_transposed_operand(rng):
    # B passed as the transpose of a row-major array: strides (1, K), as torch's b.T would be.
    m, n, k = 40, 48, 33
    a = rng.uniform(-1, 1, (m, k)).astype(np.float16)
    bt = rng.uniform(-1, 1, (n, k)).astype(np.float16)
    c = poisoned((m, n), np.float16)
    grid = (triton.cdiv(m, 16), triton.cdiv(n, 16))
    matmul_block_ptr_kernel[grid](a, bt, c, m, n, k, k, 1, 1, k, n, 1, BLOCK_M=16, BLOCK_N=16, BLOCK_K=16)
    close(c, a.astype(np.float64) @ bt.T.astype(np.float64), tol=2e-2)


@triton.jit
def transpose_kernel(x_ptr, y_ptr, M, N, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, ROW_MAJOR: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    in_order = (1, 0) if ROW_MAJOR else (0, 1)  # a layout hint only: both must give the same values
    x_block = tl.make_block_ptr(x_ptr, (M, N), (N, 1), (pid_m * BLOCK_M, pid_n * BLOCK_N), (BLOCK_M, BLOCK_N), in_order)
    # The output, N x M row-major, seen through M x N strides (1, M): order (0, 1), dim 0 fastest.
    y_block = tl.make_block_ptr(y_ptr, (M, N), (1, M), (pid_m * BLOCK_M, pid_n * BLOCK_N), (BLOCK_M, BLOCK_N), (0, 1))
    tile = tl.load(x_block, boundary_check=(0, 1))
    tl.store(y_block, tile, boundary_check=(0, 1))


@pytest.mark.parametrize("row_major", [True, False])
@pytest.mark.parametrize("m, n", [(64, 32), (45, 70)])
def test_transpose_orders(rng, row_major, m, n):
    x = rng.standard_normal((m, n)).astype(np.float32)
    y = poisoned((n, m))
    transpose_kernel[(triton.cdiv(m, 16), triton.cdiv(n, 32))](x, y, m, n, BLOCK_M=16, BLOCK_N=32, ROW_MAJOR=row_major)
    np.testing.assert_array_equal(y, x.T)


@triton.jit
def copy_2d_kernel(x_ptr, y_ptr, M, N, stride_xm, stride_ym, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    # One program per row block walks the columns, advancing both block pointers.
    pid = tl.program_id(0)
    src = tl.make_block_ptr(x_ptr, shape=(M, N), strides=(stride_xm, 1), offsets=(pid * BLOCK_M, 0),
                            block_shape=(BLOCK_M, BLOCK_N), order=(1, 0))
    dst = tl.make_block_ptr(y_ptr, shape=(M, N), strides=(stride_ym, 1), offsets=(pid * BLOCK_M, 0),
                            block_shape=(BLOCK_M, BLOCK_N), order=(1, 0))
    col = 0
    while col < N:
        tl.store(dst, tl.load(src, boundary_check=(0, 1)) * 2, boundary_check=(0, 1))
        src = tl.advance(src, (0, BLOCK_N))
        dst = tl.advance(dst, [0, BLOCK_N])
        col += BLOCK_N


def test_copy_2d_while_advance(rng):
    m, n = 37, 100
    x = rng.integers(-1000, 1000, (m, 128)).astype(np.int32)[:, :n]  # a strided view: rows of 128
    y = np.full((m, n + 3), 0x5B, np.int32)
    copy_2d_kernel[(triton.cdiv(m, 8),)](x, y, m, n, 128, n + 3, BLOCK_M=8, BLOCK_N=16)
    np.testing.assert_array_equal(y[:, :n], 2 * x)
    assert (y[:, n:] == 0x5B).all(), "a masked store wrote past the ragged edge"


@triton.jit
def row_padding_kernel(x_ptr, out_ptr, nan_count_ptr, N, stride_row, BLOCK_N: tl.constexpr, PADDING: tl.constexpr):
    row = tl.program_id(0)
    x_block = tl.make_block_ptr(x_ptr + row * stride_row, shape=(N,), strides=(1,), offsets=(0,),
                                block_shape=(BLOCK_N,), order=(0,))
    x = tl.load(x_block, boundary_check=(0,), padding_option=PADDING)
    out_block = tl.make_block_ptr(out_ptr + row * BLOCK_N, (BLOCK_N,), (1,), (0,), (BLOCK_N,), (0,))
    tl.store(out_block, x)  # no boundary_check: the whole block is in bounds
    tl.store(nan_count_ptr + row, tl.sum((x != x).to(tl.int32)))


@pytest.mark.parametrize("padding", ["nan", "zero", ""])
def test_row_padding_option(rng, padding):
    rows, n, block = 5, 37, 64
    x = rng.standard_normal((rows, n)).astype(np.float32)
    out = poisoned((rows, block))
    counts = np.full(rows, -1, np.int32)
    row_padding_kernel[(rows,)](x, out, counts, n, n, BLOCK_N=block, PADDING=padding)
    np.testing.assert_array_equal(out[:, :n], x)
    if padding == "nan":
        np.testing.assert_array_equal(counts, block - n)
        assert np.isnan(out[:, n:]).all()
    else:
        np.testing.assert_array_equal(counts, 0)
        np.testing.assert_array_equal(out[:, n:], 0)


@triton.jit
def row_sum_kernel(x_ptr, out_ptr, M, N, stride_m, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    # attorch-style reduction: a loop-carried block pointer walking N in BLOCK_N steps, checked
    # on both dims, and a 1-D output block stored with boundary_check on the ragged rows.
    pid = tl.program_id(0)
    x_block = tl.make_block_ptr(x_ptr, (M, N), (stride_m, 1), (pid * BLOCK_M, 0), (BLOCK_M, BLOCK_N), (1, 0))
    acc = tl.zeros((BLOCK_M,), dtype=tl.float32)
    for _ in tl.range(0, N, BLOCK_N):
        acc += tl.sum(tl.load(x_block, boundary_check=(0, 1)), axis=1)
        x_block = tl.advance(x_block, (0, BLOCK_N))
    out_block = tl.make_block_ptr(out_ptr, (M,), (1,), (pid * BLOCK_M,), (BLOCK_M,), (0,))
    tl.store(out_block, acc, boundary_check=(0,))


def test_row_sum_loop_carried(rng):
    m, n = 21, 75
    x = rng.standard_normal((m, n)).astype(np.float32)
    out = np.full(m + 5, np.nan, np.float32)
    row_sum_kernel[(triton.cdiv(m, 8),)](x, out, m, n, n, BLOCK_M=8, BLOCK_N=16)
    close(out[:m], x.astype(np.float64).sum(1), tol=1e-4)
    assert np.isnan(out[m:]).all(), "a masked store wrote past the ragged edge"


@triton.jit
def shifted_window_kernel(x_ptr, out_ptr, N, SHIFT, BLOCK: tl.constexpr):
    # Negative offsets: elements before the start of the data are padded with zeros, and a
    # block pointer advanced in one branch of a runtime `if` meets the other branch's.
    pid = tl.program_id(0)
    src = tl.make_block_ptr(x_ptr, (N,), (1,), (pid * BLOCK,), (BLOCK,), (0,))
    if pid % 2 == 1:
        src = tl.advance(src, (-SHIFT,))
    w = tl.load(src, boundary_check=0, padding_option="zero")
    dst = tl.make_block_ptr(out_ptr, (N,), (1,), (pid * BLOCK,), (BLOCK,), (0,))
    tl.store(dst, w, boundary_check=(0,))


def test_negative_offsets_and_if(rng):
    n, block, shift = 100, 16, 40
    x = rng.standard_normal(n).astype(np.float32)
    out = poisoned(n)
    shifted_window_kernel[(triton.cdiv(n, block),)](x, out, n, shift, BLOCK=block)
    ref = np.empty(n, np.float32)
    for i in range(n):
        j = i - shift if (i // block) % 2 == 1 else i
        ref[i] = x[j] if j >= 0 else 0
    np.testing.assert_array_equal(out, ref)


def test_block_ptr_errors():
    with pytest.raises(triton.CompileError, match="padding_option='inf' is not supported"):
        row_padding_kernel[(1,)](np.zeros(4, np.float32), np.zeros(64, np.float32), np.zeros(1, np.int32), 4, 4,
                                 BLOCK_N=64, PADDING="inf")
    x = np.zeros((4, 4), np.int32)
    with pytest.raises(triton.CompileError, match="boundary_check entry 2 is not a dim"):
        bad_check_kernel[(1,)](x, x, 4, 4)


@triton.jit
def bad_check_kernel(x_ptr, y_ptr, M, N):
    p = tl.make_block_ptr(x_ptr, (M, N), (N, 1), (0, 0), (4, 4), (1, 0))
    tl.store(y_ptr + tl.arange(0, 4), tl.sum(tl.load(p, boundary_check=(0, 2)), axis=1))


MISUSE = """
import tilec.language as tl

def k(x_ptr, y_ptr, M, N):
    p = tl.make_block_ptr(x_ptr, (M, N), (N, 1), (0, 0), (4, 8), (1, 0))
    q = tl.make_block_ptr(y_ptr, (M, N), (N, 1), (0, 0), (4, 8), (1, 0))
    STMT
"""


@pytest.mark.parametrize("stmt, message", [
    ("tl.store(q, tl.load(p, mask=M > 0))", "tl.load of a block pointer takes no 'mask' or 'other'"),
    ("tl.store(q, tl.load(p), mask=M > 0)", "tl.store to a block pointer takes no 'mask'"),
    ("tl.store(q, tl.load(p).to(tl.float16))", r"needs a value of that shape and element type, got a tile tile<4x8xfp16>"),
    ("tl.store(q, tl.load(p, padding_option='nan'))", ""),
    ("tl.store(q, tl.load(p, boundary_check=(1, 1)))", "boundary_check names the dim 1 twice"),
    ("q = tl.advance(q, (1,))", "tl.advance got 1 offsets for a block pointer of rank 2"),
    ("q = tl.advance(q, (M.to(tl.int64), 0))", r"block pointer offsets must be 32-bit.*add .to\(tl.int32\)"),
    ("tl.store(y_ptr, tl.sum(p + 1))", "unsupported operand for '\\+': a block pointer to tile<4x8xfp32> blocks"),
    ("tl.store(y_ptr + tl.arange(0, 4), tl.load(x_ptr + tl.arange(0, 4), boundary_check=(0,)))",
     "boundary_check= and padding_option= need a block pointer"),
    ("r = tl.make_block_ptr(x_ptr, (M, N), (N, 1), (0, 0), (4, 6), (1, 0))", "not a power of two"),
    ("r = tl.make_block_ptr(x_ptr, (M, N), (N, 1), (0, 0), (4, 8), (1, 1))", "is not a permutation of the 2 dims"),
    ("r = tl.make_block_ptr(x_ptr, (M,), (N, 1), (0, 0), (4, 8), (1, 0))", "shape has 1 entries but block_shape has 2"),
])
def test_block_ptr_misuse(stmt, message):
    src = MISUSE.replace("STMT", stmt)
    if not message:  # a NaN padding on a float block is fine; on an int block it is an error
        triton.compile(src, name="k", signature="x_ptr:*fp32,y_ptr:*fp32,M:i32,N:i32")
        with pytest.raises(triton.CompileError, match="padding_option='nan' needs a float block pointer"):
            triton.compile(src, name="k", signature="x_ptr:*i32,y_ptr:*i32,M:i32,N:i32")
        return
    with pytest.raises(triton.CompileError, match=message):
        triton.compile(src, name="k", signature="x_ptr:*fp32,y_ptr:*fp32,M:i32,N:i32")
