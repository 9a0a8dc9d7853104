"""`return` inside runtime for and while loops (early exit; Triton rejects it, tilec lowers it to a
done flag: tilec/lower_loop_returns.cpp), in kernels and in value-less helpers, nested loops, loop-
carried values updated before and after the return, against NumPy on the `backend` fixture; a
return with a value inside a loop is a compile error."""
import os

import numpy as np
import pytest

import tilec
import tilec.language as tl


@tilec.jit
def for_return_kernel(x_ptr, out_ptr, n, stop, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    for i in range(n):
        acc += tl.load(x_ptr + i * BLOCK + offs)
        if i == stop:
            tl.store(out_ptr + offs, acc)
            return
        acc = acc * 2
    tl.store(out_ptr + offs, acc - 1000)  # only when the loop ran to its end


def ref_for(x, n, stop):
    acc = np.zeros(x.shape[1], np.float32)
    for i in range(n):
        acc = acc + x[i]
        if i == stop:
            return acc
        acc = acc * 2
    return acc - 1000


@pytest.mark.parametrize("n, stop", [(6, 2), (6, 0), (6, 5), (6, 9), (0, 0)])
def test_for_early_return(backend, rng, n, stop):
    block = 16
    x = rng.standard_normal((max(n, 1), block)).astype(np.float32)
    out = backend.out(block, "float32")
    for_return_kernel[(1,)](backend.put(x), out, n, stop, BLOCK=block)
    np.testing.assert_allclose(backend.get(out), ref_for(x, n, stop), rtol=1e-6)


@tilec.jit
def _find(x_ptr, out_ptr, n, target):
    # A value-less helper that returns from inside a while loop.
    i = 0
    while i < n:
        if tl.load(x_ptr + i) == target:
            tl.store(out_ptr, i)
            return
        i += 1
    tl.store(out_ptr, -1)


@tilec.jit
def while_return_kernel(x_ptr, out_ptr, n, target):
    _find(x_ptr, out_ptr, n, target)
    tl.store(out_ptr + 1, 7)  # the helper's return ends the helper, not the kernel


@pytest.mark.parametrize("target", [5, 0, 9, 42])
def test_while_early_return_in_helper(backend, target):
    x = np.array([3, 0, 5, 9, 5, 1], np.int32)
    out = backend.put(np.full(2, -99, np.int32))
    while_return_kernel[(1,)](backend.put(x), out, len(x), target)
    hits = np.flatnonzero(x == target)
    np.testing.assert_array_equal(backend.get(out), [hits[0] if len(hits) else -1, 7])


@tilec.jit
def nested_return_kernel(x_ptr, out_ptr, rows, cols, limit):
    total = 0
    for r in range(rows):
        for c in range(cols):
            total += tl.load(x_ptr + r * cols + c)
            if total > limit:
                tl.store(out_ptr, total)
                tl.store(out_ptr + 1, r * 100 + c)
                return
        total += 1000
    tl.store(out_ptr, total)
    tl.store(out_ptr + 1, -1)


@pytest.mark.parametrize("limit", [10, 2500, 10**6])
def test_nested_loops_return(backend, rng, limit):
    rows, cols = 4, 5
    x = rng.integers(0, 20, (rows, cols)).astype(np.int32)
    out = backend.put(np.zeros(2, np.int32))
    nested_return_kernel[(1,)](backend.put(x), out, rows, cols, limit)
    total, where = 0, -1
    for r in range(rows):
        for c in range(cols):
            total += int(x[r, c])
            if total > limit:
                where = r * 100 + c
                break
        if where >= 0:
            break
        total += 1000
    np.testing.assert_array_equal(backend.get(out), [total, where])


def test_return_value_in_loop_is_an_error():
    # The kernel of the diagnostic test (tests/diagnostics/return_in_loop.py), through the Python API.
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "diagnostics", "return_in_loop.py")
    with open(path) as f:
        src = f.read()
    with pytest.raises(Exception, match=r"'return' with a value inside a runtime for/while loop is not supported"):
        tilec.compile(src, "k", "x:*fp32,n:i32")
