"""2-D tiles under masks combined with &, | and ^ (a store's row & column mask, a load's), and
pointer tiles contiguous only in aligned runs (`(start + arange) % N`): on the CPU these take the
vector paths (tilec_rt::mask_and..., vector loads of each run). Stores of whole 1-D tiles at every
offset of the output from a vector boundary: on the CPU those run unmasked and aligned to the output,
with partial vectors at the two ends. Checked against NumPy with poisoned
outputs on every backend; the CPU ISA legs (TILEC_CPU_ISA=avx2, scalar) run this file too."""
import numpy as np
import pytest

from conftest import assert_close, poison, rand

import tilec
import tilec.language as tl


@tilec.jit
def _masked_copy_kernel(x_ptr, y_ptr, M, N, OP: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr):
    rows = tl.arange(0, BM)[:, None]
    cols = tl.arange(0, BN)[None, :]
    in_rows, in_cols = rows < M, cols < N
    if OP == "and":
        mask = in_rows & in_cols
    elif OP == "or":
        mask = (in_rows & in_cols) | (rows == 0) & in_cols
    else:
        mask = (in_rows & in_cols) ^ ((cols % 2 == 0) & in_rows & in_cols)
    x = tl.load(x_ptr + rows * N + cols, mask=mask, other=-7.0)
    tl.store(y_ptr + rows * BN + cols, x, mask=mask | (rows >= M))


@pytest.mark.parametrize("op", ["and", "or", "xor"])
def test_combined_masks_2d(backend, rng, op):
    m, n, bm, bn = 13, 29, 16, 32
    x = rand(rng, (m, n), "float32")
    rows, cols = np.arange(bm)[:, None], np.arange(bn)[None, :]
    inside = (rows < m) & (cols < n)
    mask = {"and": inside, "or": inside | ((rows == 0) & (cols < n)), "xor": inside ^ ((cols % 2 == 0) & inside)}[op]
    store_mask = mask | (rows >= m)
    padded = np.full((bm, bn), -7.0)
    padded[:m, :n] = x
    y = poison((bm, bn), "float32")
    ref = np.where(store_mask, np.where(mask, padded, -7.0), np.nan)
    dx, dy = backend.put(x), backend.put(y)
    _masked_copy_kernel[(1,)](dx, dy, m, n, OP=op, BM=bm, BN=bn)
    out = backend.get(dy)
    assert np.array_equal(np.isnan(out), ~store_mask), f"{op}: stored lanes differ from the mask"
    assert_close(out[store_mask], ref[store_mask], "float32", f"masked copy ({op})")


@tilec.jit
def _wrapped_columns_kernel(x_ptr, y_ptr, N, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    cols = (pid * BLOCK + tl.arange(0, BLOCK)) % N
    rows = tl.arange(0, 4)[:, None]
    x = tl.load(x_ptr + rows * N + cols[None, :])
    tl.store(y_ptr + rows * (BLOCK * tl.num_programs(0)) + pid * BLOCK + tl.arange(0, BLOCK)[None, :], x)


def test_wrapped_contiguous_runs(backend, rng):
    # N = 48 is a multiple of 16 (runs of 16 stay contiguous) but not of BLOCK: the last program's
    # columns wrap around to 0 in the middle of its tile.
    n, block, programs = 48, 32, 3
    x = rand(rng, (4, n), "float32")
    y = poison((4, block * programs), "float32")
    dx, dy = backend.put(x), backend.put(y)
    _wrapped_columns_kernel[(programs,)](dx, dy, n, BLOCK=block)
    cols = np.arange(block * programs) % n
    assert_close(backend.get(dy), x[:, cols], "float32", "wrapped columns")


@tilec.jit
def _window_kernel(x_ptr, y_ptr, out_ptr, lo, hi, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = (offs >= lo) & (offs < hi)
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x * 2 + y, mask=mask)


@pytest.mark.parametrize("dtype,block", [("float32", 64), ("float32", 16), ("float32", 8), ("float64", 32),
                                         ("int32", 128)])
def test_store_at_every_offset(backend, rng, dtype, block):
    # Views starting 0..16 elements into their buffers: the output's distance to a vector boundary
    # takes every value, and the inputs sit at other distances. Elements outside [lo, hi) and
    # outside the view must keep their poison.
    n, lo = 5 * block + 3, 3
    hi = n - 2
    for off in range(17):
        x = rand(rng, (n,), dtype)
        y = rand(rng, (n,), dtype)
        buf = backend.put(poison((n + 40,), dtype))
        dx = backend.put(np.concatenate([np.zeros(off + 1, x.dtype), x]))[off + 1:]
        dy = backend.put(np.concatenate([np.zeros(2 * off + 5, y.dtype), y]))[2 * off + 5:]
        _window_kernel[(tilec.cdiv(n, block),)](dx, dy, buf[off:off + n], lo, hi, BLOCK=block)
        out = backend.get(buf)
        inside = np.zeros(n + 40, bool)
        inside[off + lo:off + hi] = True
        expect = np.where(inside[off:off + n], x.astype(np.float64) * 2 + y, 0)
        assert np.array_equal(out[~inside], poison((n + 40,), dtype)[~inside], equal_nan=np.issubdtype(out.dtype, np.floating)), \
            f"offset {off}: an element outside the mask was written"
        assert_close(out[off + lo:off + hi], expect[lo:hi], dtype, f"window store at offset {off}")


@tilec.jit
def _accumulate_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)


def test_in_place_update_at_every_offset(backend, rng):
    # x += y in place: a lane stored twice (the aligned loop's ends overlapping its body) would add
    # y twice.
    n, block = 3 * 64 + 5, 64
    for off in range(17):
        x = rand(rng, (n,), "float32")
        y = rand(rng, (n,), "float32")
        dx = backend.put(np.concatenate([np.zeros(off, np.float32), x]))
        _accumulate_kernel[(tilec.cdiv(n, block),)](dx[off:], backend.put(y), n, BLOCK=block)
        assert_close(backend.get(dx)[off:], x.astype(np.float64) + y, "float32", f"in-place add at offset {off}")


@tilec.jit
def _rotated_source_kernel(x_ptr, out_ptr, n, N_SRC, BLOCK: tl.constexpr):
    # The source index wraps around N_SRC (a multiple of 16): contiguous only in aligned runs of 16,
    # so a vector of the output must not start between two runs of the source.
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    src = (offs + 16) % N_SRC
    tl.store(out_ptr + offs, tl.load(x_ptr + src) * 2, mask=offs < n)


def test_store_at_every_offset_from_runs(backend, rng):
    n, block, n_src = 4 * 64, 64, 48
    for off in range(17):
        x = rand(rng, (n_src,), "float32")
        buf = backend.put(poison((n + 32,), "float32"))
        _rotated_source_kernel[(tilec.cdiv(n, block),)](backend.put(x), buf[off:off + n], n, n_src, BLOCK=block)
        expect = x.astype(np.float64)[(np.arange(n) + 16) % n_src] * 2
        assert_close(backend.get(buf)[off:off + n], expect, "float32", f"store from wrapped runs at offset {off}")
