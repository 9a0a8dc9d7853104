"""tl.atomic_and / atomic_or / atomic_xor against NumPy on the `backend` fixture (every program
hits the same words, masked lanes untouched, old values returned), and Triton's sem= / scope=
on every atomic: each of Triton's values compiles, anything else is an error naming it."""
import numpy as np
import pytest

import tilec
import tilec.language as tl


@tilec.jit
def bitwise_kernel(and_ptr, or_ptr, xor_ptr, val_ptr, old_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = tl.arange(0, BLOCK)
    mask = offs < n
    v = tl.load(val_ptr + pid * BLOCK + offs)
    old = tl.atomic_and(and_ptr + offs, v, mask=mask, sem="relaxed")
    tl.atomic_or(or_ptr + offs, v, mask=mask, sem="acq_rel", scope="gpu")
    tl.atomic_xor(xor_ptr + offs, v, mask=mask, sem="release", scope="cta")
    tl.store(old_ptr + pid * BLOCK + offs, old, mask=mask)


@pytest.mark.parametrize("dtype", ["int32", "uint32", "int64", "uint64"])
def test_bitwise_atomics(backend, dtype):
    rng = np.random.default_rng(0)
    programs, block, n = 4, 32, 29
    info = np.iinfo(dtype)
    vals = rng.integers(info.min, info.max, (programs, block), dtype=dtype, endpoint=True)
    start = rng.integers(info.min, info.max, block, dtype=dtype, endpoint=True)
    a, o, x = backend.put(start.copy()), backend.put(start.copy()), backend.put(start.copy())
    old = backend.put(np.zeros((programs, block), dtype))
    bitwise_kernel[(programs,)](a, o, x, backend.put(vals), old, n, BLOCK=block)
    ref_and, ref_or, ref_xor = start.copy(), start.copy(), start.copy()
    for p in range(programs):
        ref_and[:n] &= vals[p, :n]
        ref_or[:n] |= vals[p, :n]
        ref_xor[:n] ^= vals[p, :n]
    np.testing.assert_array_equal(backend.get(a), ref_and)
    np.testing.assert_array_equal(backend.get(o), ref_or)
    np.testing.assert_array_equal(backend.get(x), ref_xor)
    # Each old value is the word before some program's and: a superset of the final bits.
    olds = backend.get(old)[:, :n]
    assert np.all((olds & ref_and[:n]) == ref_and[:n])


SRC = """
import tilec
import tilec.language as tl

@tilec.jit
def k(x_ptr):
    tl.{fn}(x_ptr + tl.arange(0, 16), 1, {extra})
"""


@pytest.mark.parametrize("fn", ["atomic_add", "atomic_max", "atomic_min", "atomic_xchg", "atomic_and", "atomic_or", "atomic_xor"])
@pytest.mark.parametrize("sem", [None, "relaxed", "acquire", "release", "acq_rel"])
@pytest.mark.parametrize("scope", [None, "gpu", "cta", "sys"])
def test_sem_scope_accepted(fn, sem, scope):
    extra = f"sem={sem!r}, scope={scope!r}"
    tilec.compile(SRC.format(fn=fn, extra=extra), "k", "x_ptr:*i32:16")


def test_cas_sem_scope():
    src = SRC.replace("1, {extra}", "0, 1, {extra}")
    tilec.compile(src.format(fn="atomic_cas", extra="sem='acquire', scope='sys'"), "k", "x_ptr:*i32:16")
    with pytest.raises(Exception, match=r'atomic scope="block" is not one of Triton\'s: "gpu", "cta", "sys"'):
        tilec.compile(src.format(fn="atomic_cas", extra="scope='block'"), "k", "x_ptr:*i32:16")


@pytest.mark.parametrize("extra, message", [
    ("sem='seq_cst'", r'atomic sem="seq_cst" is not one of Triton\'s: "relaxed", "acquire", "release", "acq_rel"'),
    ("sem=1", r"atomic sem= must be a string, got the constant 1"),
    ("scope='device'", r'atomic scope="device" is not one of Triton\'s'),
])
def test_sem_scope_rejected(extra, message):
    with pytest.raises(Exception, match=message):
        tilec.compile(SRC.format(fn="atomic_add", extra=extra), "k", "x_ptr:*i32:16")


def test_bitwise_atomic_needs_integers():
    with pytest.raises(Exception, match="atomic_xor needs 32- or 64-bit integers, got fp32"):
        tilec.compile(SRC.format(fn="atomic_xor", extra=""), "k", "x_ptr:*fp32:16")
