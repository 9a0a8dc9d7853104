"""Audit of issue #9 item 5's op list: compiles and runs one small kernel per tl operation on the
CPU backend and prints PASS, FAIL (with the error's first line) or WRONG (ran, but disagrees with
NumPy). Run: PYTHONPATH=build/python python3 tools/audit_tl_ops.py; exit status 1 if any op fails.
The tests in tests/python/test_standard_library.py check each op in depth; this is the summary."""
import sys
import traceback

import numpy as np

import tilec
import tilec.language as tl

N = 16


@tilec.jit
def k_random(out, seed, N: tl.constexpr, WHICH: tl.constexpr):
    o = tl.arange(0, N)
    if WHICH == "rand":
        tl.store(out + o, tl.rand(seed, o))
    elif WHICH == "randn":
        tl.store(out + o, tl.randn(seed, o))
    elif WHICH == "randint":
        tl.store(out + o, tl.randint(seed, o))
    else:
        a, b, c, d = tl.randint4x(seed, o)
        tl.store(out + o, a ^ b ^ c ^ d)


@tilec.jit
def k_debug_barrier(x, out, N: tl.constexpr):
    o = tl.arange(0, N)
    v = tl.load(x + o)
    tl.debug_barrier()
    tl.store(out + o, v)


@tilec.jit
def k_static_print(x, out, N: tl.constexpr):
    tl.static_print("N is", N)
    o = tl.arange(0, N)
    tl.store(out + o, tl.load(x + o))


@tilec.jit
def k_split(x, out, N: tl.constexpr):
    a, b = tl.split(tl.reshape(tl.load(x + tl.arange(0, N)), (N // 2, 2)))
    tl.store(out + tl.arange(0, N // 2), a - b)


@tilec.jit
def k_join(x, out, N: tl.constexpr):
    v = tl.load(x + tl.arange(0, N))
    tl.store(out + tl.arange(0, 2 * N), tl.reshape(tl.join(v, v + 1), (2 * N,)))


@tilec.jit
def k_interleave(x, out, N: tl.constexpr):
    v = tl.load(x + tl.arange(0, N))
    tl.store(out + tl.arange(0, 2 * N), tl.interleave(v, v * 2))


@tilec.jit
def k_permute(x, out, N: tl.constexpr):
    o = tl.arange(0, 4)[:, None] * 4 + tl.arange(0, 4)[None, :]
    v = tl.load(x + o)
    t = tl.permute(v, (1, 0))
    tl.store(out + o, t)


@tilec.jit
def k_trans(x, out, N: tl.constexpr):
    o = tl.arange(0, 4)[:, None] * 4 + tl.arange(0, 4)[None, :]
    tl.store(out + o, tl.trans(tl.load(x + o)))


@tilec.jit
def k_view(x, out, N: tl.constexpr):
    v = tl.view(tl.load(x + tl.arange(0, N)), (4, N // 4))
    tl.store(out + tl.arange(0, 4)[:, None] * (N // 4) + tl.arange(0, N // 4)[None, :], v)


@tilec.jit
def k_reshape(x, out, N: tl.constexpr):
    v = tl.load(x + tl.arange(0, N)).reshape(4, N // 4)
    tl.store(out + tl.arange(0, 4)[:, None] * (N // 4) + tl.arange(0, N // 4)[None, :], v)


@tilec.jit
def k_broadcast_to(x, out, N: tl.constexpr):
    v = tl.broadcast_to(tl.load(x + tl.arange(0, N))[None, :], (2, N))
    tl.store(out + tl.arange(0, 2)[:, None] * N + tl.arange(0, N)[None, :], v)


@tilec.jit
def k_flip(x, out, N: tl.constexpr):
    o = tl.arange(0, N)
    tl.store(out + o, tl.flip(tl.load(x + o), 0))


@tilec.jit
def k_sort(x, out, N: tl.constexpr):
    o = tl.arange(0, N)
    tl.store(out + o, tl.sort(tl.load(x + o)))


@tilec.jit
def k_topk(x, out, N: tl.constexpr):
    tl.store(out + tl.arange(0, 4), tl.topk(tl.load(x + tl.arange(0, N))[None, :], 4).reshape(4))


@tilec.jit
def k_gather(x, out, N: tl.constexpr):
    o = tl.arange(0, N)
    tl.store(out + o, tl.gather(tl.load(x + o), N - 1 - o, 0))


@tilec.jit
def k_histogram(x, out, N: tl.constexpr):
    v = tl.load(x + tl.arange(0, N)).to(tl.int32) & 7
    tl.store(out + tl.arange(0, 8), tl.histogram(v, 8).to(tl.float32))


@tilec.jit
def _add(a, b):
    return a + b


@tilec.jit
def _mul(a, b):
    return a * b


@tilec.jit
def k_reduce(x, out, N: tl.constexpr):
    tl.store(out, tl.reduce(tl.load(x + tl.arange(0, N)), 0, _add))


@tilec.jit
def k_associative_scan(x, out, N: tl.constexpr):
    o = tl.arange(0, N)
    tl.store(out + o, tl.associative_scan(tl.load(x + o), 0, _add))


@tilec.jit
def k_cumsum(x, out, N: tl.constexpr):
    o = tl.arange(0, N)
    tl.store(out + o, tl.cumsum(tl.load(x + o), 0))


@tilec.jit
def k_cumprod(x, out, N: tl.constexpr):
    o = tl.arange(0, N)
    tl.store(out + o, tl.cumprod(tl.load(x + o), 0))


@tilec.jit
def k_xor_sum(x, out, N: tl.constexpr):
    tl.store(out, tl.xor_sum(tl.load(x + tl.arange(0, N)).to(tl.int32), 0).to(tl.float32))


@tilec.jit
def k_umulhi(x, out, N: tl.constexpr):
    o = tl.arange(0, N)
    v = tl.load(x + o).to(tl.int32)
    tl.store(out + o, tl.umulhi(v, v + 0x7FFF0000).to(tl.float32))


@tilec.jit
def k_hints(x, out, N: tl.constexpr):
    o = tl.max_contiguous(tl.multiple_of(tl.arange(0, N), N), N)
    o = tl.max_constancy(o, 1)
    tl.store(out + o, tl.load(x + o))


@tilec.jit
def k_early_return(x, out, n, N: tl.constexpr):
    o = tl.arange(0, N)
    if tl.program_id(0) > 0:
        return
    tl.store(out + o, tl.load(x + o))


@tilec.jit
def k_return_in_loop(x, out, n, N: tl.constexpr):
    o = tl.arange(0, N)
    tl.store(out + o, tl.load(x + o))
    for i in range(n):
        if i == 2:
            return
        tl.store(out + o, tl.load(out + o) + 1)


@tilec.jit
def k_clamp_fma_abs(x, out, N: tl.constexpr):
    o = tl.arange(0, N)
    v = tl.load(x + o)
    tl.store(out + o, tl.clamp(tl.fma(v, v, tl.abs(v)), -1.0, 1.0))


@tilec.jit
def k_min_max_nan(x, out, N: tl.constexpr):
    o = tl.arange(0, N)
    v = tl.load(x + o)
    tl.store(out + o, tl.maximum(v, 0.0, propagate_nan=tl.PropagateNan.ALL) + tl.minimum(v, 0.0))


@tilec.jit
def k_where_sigmoid_softmax(x, out, N: tl.constexpr):
    o = tl.arange(0, N)
    v = tl.load(x + o)
    tl.store(out + o, tl.where(v > 0, tl.sigmoid(v), tl.softmax(v)))


@tilec.jit
def k_argmax(x, out, N: tl.constexpr):
    v = tl.load(x + tl.arange(0, N))
    tl.store(out, (tl.argmax(v, 0, tie_break_left=True) + tl.argmin(v, 0, tie_break_left=False)).to(tl.float32))


@tilec.jit
def k_atomics(x, out, N: tl.constexpr):
    o = tl.arange(0, N)
    v = tl.load(x + o)
    tl.atomic_add(out + o, v, sem="relaxed", scope="gpu")
    tl.atomic_max(out + o, v, sem="acq_rel", scope="cta")
    tl.atomic_min(out + o, v, sem="acquire")
    tl.atomic_xchg(out + o, v, sem="release")
    tl.atomic_cas(out, 0.0, 1.0, sem="acq_rel", scope="sys")


@tilec.jit
def k_atomic_bitwise(x, out, N: tl.constexpr):
    o = tl.arange(0, N)
    p = out + o
    tl.atomic_or(p, 7, sem="relaxed", scope="cta")
    tl.atomic_and(p, 14)
    tl.atomic_xor(p, 0, sem="release", scope="sys")


@tilec.jit
def k_device_print(x, out, N: tl.constexpr):
    o = tl.arange(0, 2)
    tl.device_print("x", tl.load(x + o))


@tilec.jit
def k_inline_asm(x, out, N: tl.constexpr):
    o = tl.arange(0, N)
    v = tl.inline_asm_elementwise("mov.b32 $0, $1;", "=r,r", [tl.load(x + o)], dtype=tl.float32, is_pure=True, pack=1)
    tl.store(out + o, v)


def run(kernel, *extra, n_out=N, out_dtype=np.float32, x=None):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(N).astype(np.float32) if x is None else x
    out = np.zeros(n_out, out_dtype)
    kernel[(1,)](x, out, *extra, N=N)
    return x, out


def check(name, fn):
    try:
        ok = fn()
        if isinstance(ok, str):
            return ok
        return "PASS" if ok is not False else "WRONG"
    except Exception as e:  # the audit reports every failure, whatever it is
        msg = str(e).strip().splitlines()
        return "FAIL: " + (msg[0] if msg else type(e).__name__) + (" | " + msg[-1] if len(msg) > 1 else "")


def rejected(kernel, must_name, *extra):
    """For what tilec rejects on purpose: PASS-REJECTED if the compile error names `must_name`."""
    try:
        run(kernel, *extra)
    except Exception as e:  # noqa: BLE001
        first = str(e).strip().splitlines()[0]
        return "PASS-REJECTED: " + first.split("error: ", 1)[-1] if must_name in str(e) else "FAIL: " + first
    return "WRONG: compiled and ran, but should have been rejected"


def rand_kernel(which, dtype=np.float32):
    out = np.zeros(N, dtype)
    k_random[(1,)](out, 1234, N=N, WHICH=which)
    return bool(np.all(np.isfinite(out.astype(np.float64))))


CASES = {
    "rand": lambda: rand_kernel("rand"),
    "randn": lambda: rand_kernel("randn"),
    "randint": lambda: rand_kernel("randint", np.uint32),
    "randint4x": lambda: rand_kernel("randint4x", np.uint32),
    "debug_barrier": lambda: np.array_equal(*run(k_debug_barrier)),
    "static_print": lambda: np.array_equal(*run(k_static_print)),
    "device_print": lambda: run(k_device_print) is not None,
    "split": lambda: (lambda x, o: np.array_equal(o[:N // 2], x[0::2] - x[1::2]))(*run(k_split)),
    "join": lambda: (lambda x, o: np.array_equal(o, np.stack([x, x + 1], 1).reshape(-1)))(*run(k_join, n_out=2 * N)),
    "interleave": lambda: (lambda x, o: np.array_equal(o, np.stack([x, x * 2], 1).reshape(-1)))(*run(k_interleave, n_out=2 * N)),
    "permute": lambda: (lambda x, o: np.array_equal(o, x.reshape(4, 4).T.reshape(-1)))(*run(k_permute)),
    "trans": lambda: (lambda x, o: np.array_equal(o, x.reshape(4, 4).T.reshape(-1)))(*run(k_trans)),
    "view": lambda: np.array_equal(*run(k_view)),
    "reshape": lambda: np.array_equal(*run(k_reshape)),
    "broadcast_to": lambda: (lambda x, o: np.array_equal(o, np.tile(x, 2)))(*run(k_broadcast_to, n_out=2 * N)),
    "flip": lambda: (lambda x, o: np.array_equal(o, x[::-1]))(*run(k_flip)),
    "sort": lambda: (lambda x, o: np.array_equal(o, np.sort(x)))(*run(k_sort)),
    "topk": lambda: (lambda x, o: np.array_equal(o[:4], np.sort(x)[::-1][:4]))(*run(k_topk)),
    "gather": lambda: (lambda x, o: np.array_equal(o, x[::-1]))(*run(k_gather)),
    "histogram": lambda: (lambda x, o: np.array_equal(o[:8], np.bincount(x.astype(np.int32) & 7, minlength=8)))(
        *run(k_histogram, x=np.arange(N, dtype=np.float32) * 3)),
    "reduce (@jit combine)": lambda: (lambda x, o: np.isclose(o[0], x.sum(), rtol=1e-5))(*run(k_reduce)),
    "associative_scan (@jit combine)": lambda: (lambda x, o: np.allclose(o, np.cumsum(x), rtol=1e-5, atol=1e-5))(
        *run(k_associative_scan)),
    "cumsum": lambda: (lambda x, o: np.allclose(o, np.cumsum(x), rtol=1e-5, atol=1e-5))(*run(k_cumsum)),
    "cumprod": lambda: (lambda x, o: np.allclose(o, np.cumprod(x), rtol=1e-5))(*run(k_cumprod)),
    "xor_sum": lambda: (lambda x, o: o[0] == np.bitwise_xor.reduce(x.astype(np.int32)))(
        *run(k_xor_sum, x=np.arange(N, dtype=np.float32) * 7)),
    "umulhi": lambda: run(k_umulhi, x=np.arange(N, dtype=np.float32)) is not None,
    "max_constancy/max_contiguous/multiple_of": lambda: np.array_equal(*run(k_hints)),
    "return (early exit in if)": lambda: (lambda r: np.array_equal(*r))(run(k_early_return, 3)),
    "return inside a loop": lambda: (lambda x, o: np.allclose(o, x + 2))(*run(k_return_in_loop, 5)),
    "clamp/fma/abs": lambda: run(k_clamp_fma_abs) is not None,
    "minimum/maximum propagate_nan": lambda: run(k_min_max_nan) is not None,
    "where/sigmoid/softmax": lambda: run(k_where_sigmoid_softmax) is not None,
    "argmax/argmin tie_break_left": lambda: run(k_argmax, x=np.zeros(N, np.float32))[1][0] == 0,
    "atomic_* sem=/scope=": lambda: run(k_atomics) is not None,
    "atomic_and/or/xor": lambda: np.array_equal(run(k_atomic_bitwise, out_dtype=np.int32)[1], np.full(N, 6, np.int32)),
    "inline_asm_elementwise (CUDA only; CPU must name it)": lambda: rejected(k_inline_asm, "tl.inline_asm_elementwise"),
}


# triton.language.__all__ of Triton 3.6 (tilec/standard_library.cpp keeps the same list).
TRITON_ALL = """
PropagateNan TRITON_MAX_TENSOR_NUMEL abs add advance arange argmax argmin associative_scan assume atomic_add
atomic_and atomic_cas atomic_max atomic_min atomic_or atomic_xchg atomic_xor bfloat16 bitonic_merge block_type
broadcast broadcast_to cast cat cdiv ceil clamp condition const constexpr constexpr_type cos cumprod cumsum
debug_barrier device_assert device_print div_rn dot dot_scaled dtype erf exp exp2 expand_dims extra fdiv flip
float16 float32 float64 float8e4b15 float8e4b8 float8e4nv float8e5 float8e5b16 floor fma full gather histogram
inline_asm_elementwise int1 int16 int32 int64 int8 interleave join load load_tensor_descriptor log log2
make_block_ptr make_tensor_descriptor map_elementwise math max max_constancy max_contiguous maximum min minimum
mul multiple_of num_programs pair_uniform_to_normal permute philox philox_impl pi32_t pointer_type program_id
rand rand4x randint randint4x randn randn4x range ravel reduce reduce_or reshape rsqrt sigmoid sin slice softmax
sort split sqrt sqrt_rn static_assert static_print static_range store store_tensor_descriptor sub sum swizzle2d
target_info tensor tensor_descriptor topk trans tuple uint16 uint32 uint64 uint8 uint_to_uniform_float umulhi
view void where xor_sum zeros zeros_like
""".split()


def missing_triton_names():
    """The names of Triton's tl.__all__ that a kernel cannot use: each must fail to compile with an
    error naming it. Returns (missing names, names whose error does not name them)."""
    missing, unclear = [], []
    for name in TRITON_ALL:
        src = f"import tilec\nimport tilec.language as tl\n\n@tilec.jit\ndef k(x_ptr):\n    f = tl.{name}\n"
        try:
            tilec.compile(src, "k", "x_ptr:*fp32:16")
        except Exception as e:  # noqa: BLE001
            missing.append(name)
            if f"tl.{name}" not in str(e) and f"'{name}'" not in str(e):
                unclear.append(name)
    return missing, unclear


def main():
    width = max(len(k) for k in CASES)
    failed = 0
    for name, fn in CASES.items():
        result = check(name, fn)
        failed += not result.startswith("PASS")
        print(f"{name:<{width}}  {result}")
    print(f"\n{failed} of {len(CASES)} not passing")
    missing, unclear = missing_triton_names()
    print(f"\nTriton 3.6 tl names tilec does not implement ({len(missing)}): {' '.join(missing)}")
    if unclear:
        print(f"... of which the compile error does not name: {' '.join(unclear)}")
        failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc()
        sys.exit(2)
