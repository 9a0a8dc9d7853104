"""The launch path (issue #11): the launcher object `launch = kernel[grid]`, argument kinds that
change between calls (dtype, alignment, integer specializations, constexprs, None) each reaching
the right specialization, never a wrong launch, and launches from several threads at once.
CPU backend, NumPy arrays and (when installed) PyTorch CPU tensors; nothing here is timed."""
import threading

import numpy as np
import pytest

import tilec
import tilec.language as tl

try:
    import torch
except ImportError:  # the torch cases are skipped
    torch = None


@tilec.jit
def scale_copy(x_ptr, out_ptr, n, factor, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) * factor, mask=mask)


@tilec.jit
def fill_block(out_ptr, BLOCK: tl.constexpr, ADD: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, offs * 0 + BLOCK + ADD)


@tilec.jit
def add_bias(x_ptr, bias_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    if bias_ptr is not None:
        x = x + tl.load(bias_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x, mask=mask)


@tilec.jit
def strided_copy(x_ptr, out_ptr, n, stride, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs * stride, mask=mask), mask=mask)


def signature(kernel, *args, **kwargs):
    return kernel.warmup(*args, **kwargs).metadata["signature"]


def test_launcher_object_reuses_its_grid():
    x = np.arange(100, dtype=np.float32)
    launch = scale_copy[(tilec.cdiv(100, 32),)]
    assert launch.grid == (4,)
    for factor in (1.0, 2.5, -3.0):
        out = np.full(100, np.nan, np.float32)
        launch(x, out, 100, factor, BLOCK=32)
        np.testing.assert_array_equal(out, x * np.float32(factor))
    # The same launcher with other arguments: the grid stays (4 programs of 32 cover 100 of 200).
    x2 = np.arange(200, dtype=np.float32)
    out2 = np.zeros(200, np.float32)
    launch(x2, out2, 200, 1.0, BLOCK=32)
    np.testing.assert_array_equal(out2[:128], x2[:128])
    assert not out2[128:].any()


def test_launcher_with_grid_function_sees_each_calls_arguments():
    seen = []

    def grid(meta):
        seen.append((meta["n"], meta["BLOCK"]))
        return (tilec.cdiv(meta["n"], meta["BLOCK"]),)
    launch = scale_copy[grid]
    for n, block in ((10, 16), (100, 32), (64, 64)):
        x = np.arange(n, dtype=np.float32)
        out = np.full(n, np.nan, np.float32)
        launch(x, out, n, 2.0, BLOCK=block)
        np.testing.assert_array_equal(out, 2 * x)
    assert seen == [(10, 16), (100, 32), (64, 64)]


def test_launcher_is_independent_of_other_launchers():
    a, b = fill_block[(1,)], fill_block[(0,)]
    out = np.zeros(16, np.int32)
    b(out, BLOCK=16, ADD=1)  # an empty grid launches nothing
    assert not out.any()
    a(out, BLOCK=16, ADD=1)
    assert (out == 17).all()


def test_subscript_with_one_grid_object_hands_out_one_launcher():
    # kernel[grid] keeps the last launcher for the same grid object (a loop's constant tuple);
    # another grid object gets its own launcher, and a list grid is read at each launch.
    grid = (1,)
    first = fill_block[grid]
    assert fill_block[grid] is first
    other = fill_block[(0,)]
    assert other is not first and other.grid == (0,) and first.grid == (1,)
    assert fill_block[grid] is not first  # only the last launcher is kept
    out = np.zeros(16, np.int32)
    other(out, BLOCK=16, ADD=1)
    assert not out.any()
    first(out, BLOCK=16, ADD=2)
    assert (out == 18).all()
    mutable = [0]
    launch = fill_block[mutable]
    launch(out, BLOCK=16, ADD=3)
    assert (out == 18).all()
    mutable[0] = 1
    fill_block[mutable](out, BLOCK=16, ADD=3)
    assert (out == 19).all()


def test_launcher_rejects_what_a_launch_rejects():
    launch = scale_copy[(1,)]
    x = np.zeros(16, np.float32)
    with pytest.raises(TypeError, match="unexpected keyword argument 'grid'"):
        launch(x, x, 16, 1.0, BLOCK=16, grid=(1,))
    with pytest.raises(TypeError, match="missing required argument 'BLOCK'"):
        launch(x, x, 16, 1.0)
    with pytest.raises(TypeError, match="multiple values for argument 'n'"):
        launch(x, x, 16, 1.0, n=16, BLOCK=16)
    with pytest.raises(TypeError, match="num_warps must be an int"):
        launch(x, x, 16, 1.0, BLOCK=16, num_warps="4")
    with pytest.raises(TypeError, match="takes 5 arguments but 6 were given"):
        launch(x, x, 16, 1.0, 16, 7)


def test_dtype_change_between_calls_recompiles():
    launch = scale_copy[(1,)]
    for dtype in (np.float32, np.int32, np.float64, np.int32, np.float32, np.int16):
        x = (np.arange(16) - 5).astype(dtype)
        out = np.zeros(16, dtype)
        factor = 3 if np.issubdtype(dtype, np.integer) else 3.0
        launch(x, out, 16, factor, BLOCK=16)
        np.testing.assert_array_equal(out, x * dtype(3))
        assert out.dtype == dtype


def test_misaligned_pointer_gets_its_own_specialization():
    base = np.arange(64, dtype=np.float32)
    out = np.zeros(64, np.float32)
    assert base.ctypes.data % 16 == 0
    launch = scale_copy[(1,)]
    launch(base, out, 32, 1.0, BLOCK=32)
    np.testing.assert_array_equal(out[:32], base[:32])
    for shift in (1, 2, 3, 4, 0, 1):  # element shifts: 4-byte steps, aligned every fourth
        x = base[shift:]
        o = out[shift:]
        o[:] = -1
        launch(x, o, 32, 2.0, BLOCK=32)
        np.testing.assert_array_equal(o[:32], 2 * x[:32])
    assert "x_ptr:*fp32:16" in signature(scale_copy, base, out, 32, 1.0, BLOCK=32)
    assert "x_ptr:*fp32," in signature(scale_copy, base[1:], out, 32, 1.0, BLOCK=32)


def test_integer_specializations_follow_the_value():
    x = np.arange(64, dtype=np.float32)
    launch = strided_copy[(1,)]
    for n, stride in ((16, 1), (16, 2), (32, 1), (15, 3), (16, 4), (3, 1)):
        out = np.full(16 if n <= 16 else 32, -1, np.float32)
        block = 16 if n <= 16 else 32
        launch(x, out, n, stride, BLOCK=block)
        np.testing.assert_array_equal(out[:n], x[: n * stride : stride])
    # 1 is a constexpr, 16 divisible by 16, 2^40 an i64: three different signatures.
    sigs = {signature(strided_copy, x, x, 16, s, BLOCK=16) for s in (1, 16, 2**40)}
    assert len(sigs) == 3


def test_new_constexpr_value_is_a_new_specialization():
    out = np.zeros(64, np.int32)
    launch = fill_block[(1,)]
    for block, add in ((16, 0), (32, 0), (16, 5), (64, -1), (16, 0), (16, True)):
        out[:] = 0
        launch(out, BLOCK=block, ADD=add)
        assert (out[:block] == block + int(add)).all(), (block, add)
        assert not out[block:].any()


def test_none_then_tensor_then_none():
    x = np.arange(20, dtype=np.float32)
    bias = np.full(20, 100, np.float32)
    launch = add_bias[(1,)]
    for b in (None, bias, None, bias):
        out = np.zeros(20, np.float32)
        launch(x, b, out, 20, BLOCK=32)
        np.testing.assert_array_equal(out, x if b is None else x + bias)


def test_scalar_kind_changes_between_calls():
    x = np.arange(16, dtype=np.float32)
    launch = scale_copy[(1,)]
    for factor in (2, 2.5, True, 7, 0.5, np.float32(3), np.int64(4)):
        out = np.zeros(16, np.float32)
        launch(x, out, 16, factor, BLOCK=16)
        np.testing.assert_array_equal(out, x * np.float32(float(factor)))


def test_read_only_and_byte_swapped_arrays_after_good_ones():
    x = np.arange(16, dtype=np.float32)
    out = np.zeros(16, np.float32)
    launch = scale_copy[(1,)]
    launch(x, out, 16, 1.0, BLOCK=16)
    ro = np.frombuffer(np.zeros(16, np.float32).tobytes(), np.float32)
    with pytest.raises(ValueError, match="'out_ptr' is read-only"):
        launch(x, ro, 16, 1.0, BLOCK=16)
    launch(ro, out, 16, 1.0, BLOCK=16)  # read-only inputs are fine
    with pytest.raises(TypeError, match="unsupported array dtype"):
        launch(x.astype(">f4"), out, 16, 1.0, BLOCK=16)
    with pytest.raises(TypeError, match="unsupported array dtype"):
        launch(x.astype(np.complex64), out, 16, 1.0, BLOCK=16)


def test_numpy_views_and_subclasses():
    base = np.arange(64, dtype=np.float32).reshape(8, 8)
    out = np.zeros(8, np.float32)
    strided_copy[(1,)](base.T, out, 8, 8, BLOCK=8)  # the first column, through a transposed view
    np.testing.assert_array_equal(out, base[:, 0])
    m = np.arange(16, dtype=np.float32).view(np.recarray)
    scale_copy[(1,)](m, out := np.zeros(16, np.float32), 16, 2.0, BLOCK=16)
    np.testing.assert_array_equal(out, 2 * np.arange(16, dtype=np.float32))


@pytest.mark.skipif(torch is None, reason="PyTorch not installed")
def test_torch_kind_changes_between_calls():
    launch = scale_copy[(1,)]
    for dtype in (torch.float32, torch.int32, torch.float64, torch.float32):
        x = (torch.arange(40) - 7).to(dtype)
        factor = 2 if not dtype.is_floating_point else 2.0
        for view in (x[:16], x[1:17], x[3:19], x[::2][:16]):
            out = torch.zeros(16, dtype=dtype)
            launch(view.contiguous() if view.stride(0) != 1 else view, out, 16, factor, BLOCK=16)
            torch.testing.assert_close(out, view * factor)
    # torch and NumPy arguments in one launch, both on the CPU.
    out = np.zeros(16, np.float32)
    launch(torch.arange(16, dtype=torch.float32), out, 16, 1.0, BLOCK=16)
    np.testing.assert_array_equal(out, np.arange(16, dtype=np.float32))


@pytest.mark.skipif(torch is None, reason="PyTorch not installed")
def test_torch_subclasses_and_methods_assigned_later():
    # Tensor methods are looked up once per type and kept while the type is unchanged: a
    # Parameter and a Tensor in one launch each get their type's, and a method assigned to a
    # type after launches (here data_ptr, moved 16 elements on) is the one the next launch calls.
    weight = torch.nn.Parameter(torch.arange(32, dtype=torch.float32), requires_grad=False)
    out = torch.zeros(16)
    for _ in range(2):
        scale_copy[(1,)](weight, out, 16, 2.0, BLOCK=16)
        torch.testing.assert_close(out, 2 * weight[:16])

    class Shifted(torch.Tensor):
        pass
    x = torch.arange(32, dtype=torch.float32).as_subclass(Shifted)
    scale_copy[(1,)](x, out, 16, 1.0, BLOCK=16)
    torch.testing.assert_close(out, torch.arange(16, dtype=torch.float32))
    Shifted.data_ptr = lambda self: torch.Tensor.data_ptr(self) + 16 * 4
    scale_copy[(1,)](x, out, 16, 1.0, BLOCK=16)
    torch.testing.assert_close(out, torch.arange(16, 32, dtype=torch.float32))


@pytest.mark.skipif(torch is None, reason="PyTorch not installed")
def test_torch_descriptors_of_other_types_raise_instead_of_being_called():
    # C methods and getters are called through their C functions once checked against the
    # tensor's type; one taken from an unrelated type (str.upper, int.real) must raise as Python does.
    out = torch.zeros(16)
    for name, foreign in (("data_ptr", str.__dict__["upper"]), ("dtype", int.__dict__["real"])):
        class Foreign(torch.Tensor):
            pass
        x = torch.arange(16, dtype=torch.float32).as_subclass(Foreign)
        scale_copy[(1,)](x, out, 16, 1.0, BLOCK=16)
        setattr(Foreign, name, foreign)
        with pytest.raises(TypeError, match="doesn't apply to a 'Foreign' object|descriptor"):
            scale_copy[(1,)](x, out, 16, 1.0, BLOCK=16)


@pytest.mark.skipif(torch is None, reason="PyTorch not installed")
def test_torch_tensor_whose_data_is_replaced_between_calls():
    # One tensor object, a new dtype, pointer and size through .data: nothing is kept per object.
    x = torch.arange(16, dtype=torch.float32)
    out = torch.zeros(16)
    scale_copy[(1,)](x, out, 16, 2.0, BLOCK=16)
    torch.testing.assert_close(out, 2 * torch.arange(16, dtype=torch.float32))
    x.data = torch.arange(40, dtype=torch.float64)[3:19]
    out64 = torch.zeros(16, dtype=torch.float64)
    scale_copy[(1,)](x, out64, 16, 2.0, BLOCK=16)
    torch.testing.assert_close(out64, 2 * torch.arange(3, 19, dtype=torch.float64))


@pytest.mark.skipif(torch is None, reason="PyTorch not installed")
def test_torch_strided_view_is_read_with_its_strides():
    base = torch.arange(64, dtype=torch.float32).reshape(8, 8)
    out = torch.zeros(8)
    strided_copy[(1,)](base.t(), out, 8, 8, BLOCK=8)
    torch.testing.assert_close(out, base[:, 0])


def test_launches_from_several_threads_at_once():
    # Each thread launches kernels of its own kinds (dtype, constexpr, alignment), so threads compile
    # and look up different specializations of the same kernels concurrently.
    errors = []
    barrier = threading.Barrier(8)

    def worker(t):
        try:
            rng = np.random.default_rng(t)
            dtype = (np.float32, np.int32, np.float64, np.int64)[t % 4]
            block = (16, 32)[t % 2]
            launch = scale_copy[(4,)]
            barrier.wait()
            for i in range(200):
                shift = (i + t) % 3
                x = (rng.integers(-50, 50, 4 * block + 3)).astype(dtype)[shift:]
                out = np.zeros_like(x)
                n = 4 * block
                launch(x, out, n, 2 if np.issubdtype(dtype, np.integer) else 2.0, BLOCK=block)
                if not np.array_equal(out[:n], x[:n] * dtype(2)):
                    errors.append(f"thread {t} iteration {i}: wrong result")
                    return
                filled = np.zeros(block, np.int32)
                fill_block[(1,)](filled, BLOCK=block, ADD=t)
                if not (filled == block + t).all():
                    errors.append(f"thread {t} iteration {i}: wrong fill")
                    return
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"thread {t}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors


def test_run_and_warmup_take_grid_by_keyword():
    x = np.arange(16, dtype=np.float32)
    out = np.zeros(16, np.float32)
    scale_copy.run(x, out, 16, 2.0, grid=(1,), BLOCK=16)
    np.testing.assert_array_equal(out, 2 * x)
    with pytest.raises(TypeError, match=r"run\(\) needs grid="):
        scale_copy.run(x, out, 16, 2.0, BLOCK=16)
    ck = scale_copy.warmup(x, out, 16, 2.0, BLOCK=16)
    assert "scale_copy" in ck.asm["ir"] and ck.backend == "cpu"


def test_kernels_keep_their_class_alive():
    """Creating and dropping kernels leaves the JITFunction class's reference count where it was
    (a double release of the class once crashed the garbage collector at interpreter exit)."""
    import gc
    import sys

    def body(x_ptr, BLOCK: tl.constexpr):
        tl.store(x_ptr + tl.arange(0, BLOCK), 1.0)

    cls = type(tilec.jit(body))
    gc.collect()
    before = sys.getrefcount(cls)
    kernels = [tilec.jit(body) for _ in range(50)]
    for k in kernels:
        k[(1,)]  # a launcher holds its kernel
    del kernels, k
    gc.collect()
    assert sys.getrefcount(cls) == before
