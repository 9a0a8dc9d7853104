"""2-D tiles under masks combined with &, | and ^ (a store's row & column mask, a load's), and
pointer tiles contiguous only in aligned runs (`(start + arange) % N`): on the CPU these take the
vector paths (tilec_rt::mask_and..., vector loads of each run). Checked against NumPy with poisoned
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
