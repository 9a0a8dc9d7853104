"""Issue #10: no crash on any input, CompiledKernel launches, empty grids, write protection,
offsets that would wrap, and the bounds-checking debug mode (TILEC_DEBUG=1 / debug=True)."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tilec
import tilec.language as tl
from conftest import assert_close, rand

HERE = os.path.abspath(__file__)

SCALE_SRC = textwrap.dedent("""
    import tilec.language as tl

    def scale(x_ptr, y_ptr, n, factor, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask) * factor, mask=mask)
""")
SCALE_SIG = "x_ptr:*fp32,y_ptr:*fp32,n:i32,factor:fp32"


# ---- 1. tilec.compile without a signature; CompiledKernel is launchable ----

def test_compile_without_signature_is_a_compile_error():
    # The diagnostic used to be rendered after the source it points into was freed: a garbage
    # substr position (IndexError) or a crash. It must be the ordinary error with a caret.
    for _ in range(20):
        with pytest.raises(tilec.CompileError) as e:
            tilec.compile("def ok(x_ptr):\n    pass\n", name="ok")
        assert str(e.value) == ("<string>:1:8: error: no type given for argument 'x_ptr'; add it to the signature "
                                "(e.g. x_ptr:*fp32 or x_ptr:i32)\n    def ok(x_ptr):\n           ^\n")


@pytest.mark.parametrize("source,name,signature,match", [
    ("def ok(x_ptr):\n    pass\n", "nope", "x_ptr:*fp32", "no top-level function named 'nope'"),
    ("def ok(x_ptr):\n    tl.store(x_ptr, y)\n", "ok", "x_ptr:*fp32", "y"),
    ("def ok(x_ptr):\n    pass\n", "ok", "x_ptr:*fp32,z:i32", "not a parameter of 'ok'"),
    ("", "ok", "", "no top-level function named 'ok'"),
    ("def ok(\n", "ok", "", "error"),
], ids=["no-kernel", "undefined-name", "extra-signature-arg", "empty-source", "truncated"])
def test_compile_errors_render_after_the_source_is_gone(source, name, signature, match):
    with pytest.raises(tilec.CompileError, match=match):
        tilec.compile(source, name=name, signature=signature)


def test_emit_error_renders_after_the_source_is_gone():
    with pytest.raises(tilec.CompileError, match="no type given for argument 'x_ptr'"):
        tilec._C.emit("def ok(x_ptr):\n    pass\n", "<string>", "ok", "", [], "ir", 90)


def test_compiled_kernel_launches_with_runtime_args_or_all_params(rng):
    ck = tilec.compile(SCALE_SRC, name="scale", signature=SCALE_SIG, constexprs={"BLOCK": 128})
    x = rand(rng, 300, "float32")
    y = np.full(300, np.nan, np.float32)
    ck[(3,)](x, y, 300, 2.0)
    assert_close(y, 2.0 * x.astype(np.float64), "float32")
    y[:] = np.nan
    # Triton's CompiledKernel takes every parameter, constexprs included; a grid function sees them.
    ck[lambda meta: (tilec.cdiv(meta["n"], meta["BLOCK"]),)](x, y, 300, 2.0, 128)
    assert_close(y, 2.0 * x.astype(np.float64), "float32")


@tilec.jit
def add_one(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) + 1, mask=offs < n)



def test_compiled_kernel_from_warmup_launches(rng):
    x = np.zeros(10, np.float32)
    ck = add_one.warmup(x, 10, BLOCK=16)
    ck[(1,)](x, 10)
    ck[(1,)](x, 10, 16)
    assert (x == 2).all()


@pytest.mark.parametrize("args,exc,match", [
    (lambda x, y: (x.astype(np.float64), y, 300, 2.0), TypeError, "'x_ptr' was compiled as a pointer to fp32, got a tensor of fp64"),
    (lambda x, y: (x, y, 300), TypeError, "takes its 4 runtime arguments \\(x_ptr, y_ptr, n, factor\\) or all 5"),
    (lambda x, y: (x, y, 300, 2.0, 64), ValueError, "'BLOCK' was compiled as 128 but 64 was given"),
    (lambda x, y: (x, y, 2 ** 40, 2.0), ValueError, "'n' is 1099511627776, which does not fit in i32"),
    (lambda x, y: (x, y, 1.5, 2.0), TypeError, "'n' was compiled as i32; pass an int"),
    (lambda x, y: (x, 3, 300, 2.0), TypeError, "'y_ptr' was compiled as a pointer to fp32; pass a tensor"),
    (lambda x, y: (x, y, "300", 2.0), TypeError, "pass an int, got str"),
], ids=["dtype", "count", "constexpr", "range", "float-for-int", "number-for-pointer", "str"])
def test_compiled_kernel_checks_args_against_its_signature(args, exc, match):
    ck = tilec.compile(SCALE_SRC, name="scale", signature=SCALE_SIG, constexprs={"BLOCK": 128})
    x = np.ones(300, np.float32)
    y = np.full(300, np.nan, np.float32)
    with pytest.raises(exc, match=match):
        ck[(3,)](*args(x, y))
    assert np.isnan(y).all()


def test_compiled_kernel_checks_specializations():
    ck = tilec.compile(SCALE_SRC, name="scale", signature="x_ptr:*fp32:16,y_ptr:*fp32,n:i32:16,factor:fp32",
                       constexprs={"BLOCK": 128})
    buf = np.ones(301, np.float32)
    y = np.zeros(300, np.float32)
    with pytest.raises(ValueError, match="'x_ptr' was compiled for 16-byte aligned data"):
        ck[(3,)](buf[1:], y, 288, 2.0)
    with pytest.raises(ValueError, match="'n' is 300, but the kernel was compiled for values divisible by 16"):
        ck[(3,)](buf[:300], y, 300, 2.0)


# ---- 5. An empty grid launches nothing ----

@tilec.jit
def fill(x_ptr, BLOCK: tl.constexpr):
    tl.store(x_ptr + tl.arange(0, BLOCK), tl.full([BLOCK], 7.0, tl.float32))


@pytest.mark.parametrize("grid", [(0,), (4, 0), (1, 1, 0), lambda meta: (0,)], ids=["0", "4x0", "1x1x0", "lambda"])
def test_empty_grid_launches_nothing(backend, grid):
    x = backend.out(16, "float32")
    fill[grid](x, BLOCK=16)
    backend.sync()
    assert np.isnan(backend.get(x)).all()


def test_empty_grid_still_checks_arguments():
    with pytest.raises(TypeError, match="missing required argument 'x_ptr'"):
        fill[(0,)](BLOCK=16)
    ck = tilec.compile(SCALE_SRC, name="scale", signature=SCALE_SIG, constexprs={"BLOCK": 128})
    ck[(0,)](np.ones(4, np.float32), np.ones(4, np.float32), 4, 1.0)


# ---- 3. Write protection ----

@tilec.jit
def copy_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=offs < n), mask=offs < n)


@tilec.jit
def count_kernel(hist_ptr, BLOCK: tl.constexpr):
    tl.atomic_add(hist_ptr + tl.arange(0, BLOCK) % 4, 1)


class ReadOnlyDLPack:
    """Only __dlpack__ (no buffer protocol): NumPy marks a read-only array's DLPack 1.0 export read-only."""

    def __init__(self, array):
        self.array = array

    def __dlpack__(self, **kwargs):
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.array.__dlpack_device__()


def test_read_only_array_is_not_written():
    ro = np.frombuffer(b"\0" * 64, np.float32)
    src = np.arange(16, dtype=np.float32)
    with pytest.raises(ValueError, match="argument 'dst_ptr' is read-only, but the kernel stores to it"):
        copy_kernel[(1,)](src, ro, 16, BLOCK=16)
    assert (ro == 0).all()
    # Read-only inputs are fine.
    out = np.zeros(16, np.float32)
    copy_kernel[(1,)](ro, out, 16, BLOCK=16)
    assert (out == 0).all()


def test_read_only_array_is_not_updated_atomically():
    hist = np.zeros(4, np.int32)
    hist.flags.writeable = False
    with pytest.raises(ValueError, match="argument 'hist_ptr' is read-only"):
        count_kernel[(1,)](hist, BLOCK=16)
    assert (hist == 0).all()


def test_read_only_dlpack_tensor_is_not_written():
    ro = np.zeros(16, np.float32)
    ro.flags.writeable = False
    try:
        ro.__dlpack__(max_version=(1, 0))
    except (TypeError, BufferError):
        pytest.skip("this NumPy cannot export read-only arrays through DLPack 1.0")
    with pytest.raises(ValueError, match="argument 'dst_ptr' is read-only"):
        copy_kernel[(1,)](np.ones(16, np.float32), ReadOnlyDLPack(ro), 16, BLOCK=16)
    assert (ro == 0).all()
    out = np.zeros(16, np.float32)
    copy_kernel[(1,)](ReadOnlyDLPack(np.full(16, 3.0, np.float32)), out, 16, BLOCK=16)
    assert (out == 3).all()


def test_compiled_kernel_has_write_protection_too():
    ck = tilec.compile(SCALE_SRC, name="scale", signature=SCALE_SIG, constexprs={"BLOCK": 128})
    ro = np.frombuffer(b"\0" * 64, np.float32)
    with pytest.raises(ValueError, match="argument 'y_ptr' is read-only"):
        ck[(1,)](np.ones(16, np.float32), ro, 16, 2.0)


# ---- Issue item 5: 2^31 elements or more with 32-bit offsets is an error, not a wrap ----

@tilec.jit
def touch(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) + 1, mask=offs < n)



@tilec.jit
def touch64(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) + 1, mask=offs < n)



def test_tensor_of_2_31_elements_with_32_bit_offsets_is_an_error():
    base = np.zeros(4, np.int8)
    wide = np.lib.stride_tricks.as_strided(base, shape=(2, 2 ** 31), strides=(2 ** 31, 1))
    with pytest.raises(ValueError, match=r"argument 'x_ptr' spans 4294967296 elements \(2\^31 or more\), but the kernel "
                                         r"offsets it by a 32-bit offset at .*test_reliability.py:\d+:\d+, which would wrap"):
        touch[(0,)](wide, 16, BLOCK=16)


def test_tensor_of_2_31_elements_with_64_bit_offsets_is_accepted():
    base = np.zeros(4, np.int8)
    wide = np.lib.stride_tricks.as_strided(base, shape=(2, 2 ** 31), strides=(2 ** 31, 1))
    touch64[(0,)](wide, 16, BLOCK=16)  # the empty grid runs the checks but touches nothing


# ---- 4. Debug mode ----

@tilec.jit(debug=True)
def unmasked_copy(src_ptr, dst_ptr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs))


def test_debug_mode_reports_an_out_of_bounds_load_and_writes_nothing_outside():
    src = np.arange(100, dtype=np.float32)
    backing = np.full(200, -1.0, np.float32)
    dst = backing[:128]
    with pytest.raises(RuntimeError) as e:
        unmasked_copy[(1,)](src, dst, BLOCK=128)
    line = unmasked_copy.fn.__code__.co_firstlineno + 3
    msg = str(e.value)
    assert "kernel 'unmasked_copy'" in msg
    assert f"out-of-bounds load from 'src_ptr' in kernel 'unmasked_copy' at {HERE}:{line}:30" in msg
    assert "element offset 100 is outside the buffer of 100 elements" in msg
    # In-bounds lanes ran; the out-of-bounds ones neither read nor wrote.
    assert (backing[:100] == src).all()
    assert (backing[128:] == -1).all()


def test_debug_mode_reports_an_out_of_bounds_store():
    src = np.arange(128, dtype=np.float32)
    backing = np.full(200, -1.0, np.float32)
    with pytest.raises(RuntimeError, match=r"out-of-bounds store to 'dst_ptr' .*: element offset 64 is outside the "
                                           r"buffer of 64 elements \(program \(0, 0, 0\)\)"):
        unmasked_copy[(1,)](src, backing[:64], BLOCK=128)
    assert (backing[:64] == src[:64]).all()
    assert (backing[64:] == -1).all()


@tilec.jit(debug=True)
def walk(x_ptr, hist_ptr, n, BLOCK: tl.constexpr, STEPS: tl.constexpr):
    p = x_ptr + tl.arange(0, BLOCK)
    acc = tl.zeros([BLOCK], tl.int32)
    for _ in range(STEPS):
        acc += tl.load(p)
        p += BLOCK
    tl.atomic_add(hist_ptr + tl.arange(0, BLOCK), acc)



def test_debug_mode_checks_atomics_and_loop_carried_pointers():
    x = np.arange(64, dtype=np.int32)
    hist = np.zeros(16, np.int32)
    walk[(1,)](x, hist, 64, BLOCK=16, STEPS=4)
    assert (hist == x.reshape(4, 16).sum(0)).all()
    with pytest.raises(RuntimeError, match="out-of-bounds load from 'x_ptr' .*element offset 64 is outside the buffer of 64"):
        walk[(1,)](x, hist, 64, BLOCK=16, STEPS=5)
    with pytest.raises(RuntimeError, match="out-of-bounds atomic update of 'hist_ptr'"):
        walk[(1,)](x, hist[:8], 64, BLOCK=16, STEPS=1)


@tilec.jit(debug=True)
def lock(lock_ptr, out_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    old = tl.atomic_cas(lock_ptr + offs, tl.zeros([BLOCK], tl.int32), tl.full([BLOCK], 1, tl.int32))
    tl.store(out_ptr + offs, old)



def test_debug_mode_guards_compare_and_swap():
    locks = np.zeros(16, np.int32)
    out = np.full(16, 5, np.int32)
    lock[(1,)](locks, out, BLOCK=16)
    assert (locks == 1).all() and (out == 0).all()
    backing = np.zeros(16, np.int32)
    with pytest.raises(RuntimeError, match="out-of-bounds atomic update of 'lock_ptr'"):
        lock[(1,)](backing[:8], out, BLOCK=16)
    assert (backing == 0).all(), "a CAS with an out-of-bounds lane must not run at all"


@tilec.jit
def scale3(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask) * 3, mask=mask)



def test_debug_mode_passes_correct_kernels_and_joins_the_cache_key(rng):
    debug_scale = tilec.jit(scale3.fn, debug=True)
    x = rand(rng, 1000, "float32")
    y = np.full(1000, np.nan, np.float32)
    debug_scale[(8,)](x, y, 1000, BLOCK=128)
    assert_close(y, 3.0 * x.astype(np.float64), "float32")
    plain = scale3.warmup(x, y, 1000, BLOCK=128)
    checked = debug_scale.warmup(x, y, 1000, BLOCK=128)
    assert plain.metadata["cache_key"] != checked.metadata["cache_key"]
    assert checked.metadata["debug"] is True and plain.metadata["debug"] is False
    assert "assert" not in plain.asm["ir-opt"] and "bounds_fail" not in plain.asm["cpp"]
    assert "out-of-bounds load from 'x_ptr'" in checked.asm["ir-opt"]


def test_tilec_debug_env_turns_checks_on(tmp_path):
    script = tmp_path / "k.py"
    script.write_text(textwrap.dedent("""
        import numpy as np, tilec, tilec.language as tl

        @tilec.jit
        def over(x_ptr, BLOCK: tl.constexpr):
            offs = tl.arange(0, BLOCK)
            tl.store(x_ptr + offs, tl.load(x_ptr + offs) + 1)

        backing = np.zeros(32, np.float32)
        try:
            over[(1,)](backing[:8], BLOCK=16)
            print("no error", backing[8:].sum())
        except RuntimeError as e:
            print("error", backing[8:].sum(), e)
    """))
    env = dict(os.environ, TILEC_DEBUG="1")
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("error 0.0 device-side assertion failed in kernel 'over': out-of-bounds load from 'x_ptr'"), out.stdout
    assert f"{script}:7:28" in out.stdout
    ck = tilec.compile("def k(x_ptr):\n    tl.store(x_ptr, 1.0)\n", name="k", signature="x_ptr:*fp32", debug=True)
    assert ck.metadata["debug"] is True


@tilec.jit(debug=True)
def strided_rows(x_ptr, out_ptr, stride, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * stride + tl.arange(0, BLOCK)
    tl.store(out_ptr + tl.arange(0, BLOCK), tl.load(x_ptr + offs, mask=offs < 0, other=1.0))


def test_debug_mode_reports_32_bit_offset_overflow():
    x = np.zeros(16, np.float32)
    out = np.zeros(16, np.float32)
    strided_rows[(3,)](x, out, 16, BLOCK=16)
    assert (out == 1).all()
    line = strided_rows.fn.__code__.co_firstlineno + 2
    # 2 * (2^30 + 16) wraps in 32 bits; the wrapped offset is negative, so the mask alone would not catch it.
    with pytest.raises(RuntimeError, match=rf"32-bit integer overflow in 'mul' of a pointer offset in kernel 'strided_rows' "
                                           rf"at {HERE}:{line}:12"):
        strided_rows[(3,)](x, out, 2 ** 30 + 16, BLOCK=16)


class TorchLike:
    """What tilec reads of a PyTorch tensor (data_ptr, get_device, dtype, shape, stride), over NumPy."""

    def __init__(self, array):
        self.array = array
        self.dtype = "torch.float32"

    def data_ptr(self):
        return self.array.ctypes.data

    def get_device(self):
        return -1

    @property
    def shape(self):
        return tuple(self.array.shape)

    def stride(self):
        return tuple(s // self.array.itemsize for s in self.array.strides)


def test_debug_mode_reads_torch_tensor_extents():
    backing = np.zeros(32, np.float32)
    unmasked_copy[(1,)](TorchLike(backing[16:32]), TorchLike(backing[:16]), BLOCK=16)
    with pytest.raises(RuntimeError, match="out-of-bounds load from 'src_ptr' .*element offset 8 is outside the buffer of 8"):
        unmasked_copy[(1,)](TorchLike(backing[16:24]), TorchLike(backing[:16]), BLOCK=16)
    # A column of a matrix spans its rows' strides: 4 rows of stride 8 reach element 24.
    matrix = np.zeros((4, 8), np.float32)
    with pytest.raises(RuntimeError, match="element offset 25 is outside the buffer of 25 elements"):
        unmasked_copy[(1,)](TorchLike(matrix[:, 0]), TorchLike(backing[:16]), BLOCK=32)


def cuda_or_skip():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs torch with CUDA")
    return torch


def test_debug_mode_on_cuda_reports_out_of_bounds_load_and_store_and_the_context_survives():
    torch = cuda_or_skip()
    src = torch.arange(100, dtype=torch.float32, device="cuda")
    backing = torch.full((200,), -1.0, device="cuda")
    line = unmasked_copy.fn.__code__.co_firstlineno + 3
    with pytest.raises(RuntimeError) as e:
        unmasked_copy[(1,)](src, backing[:128], BLOCK=128)
    msg = str(e.value)
    assert f"out-of-bounds load from 'src_ptr' in kernel 'unmasked_copy' at {HERE}:{line}:30" in msg
    assert 100 <= int(msg.split("element offset ")[1].split()[0]) < 128  # any failing lane may record first
    assert "is outside the buffer of 100 elements" in msg
    # The in-bounds lanes ran; the out-of-bounds ones neither read nor wrote.
    assert torch.equal(backing[:100].cpu(), src.cpu())
    assert (backing[128:] == -1).all().item()
    # Threads run at once: the report is the first failing lane to record itself, any of 64..127.
    with pytest.raises(RuntimeError, match=r"out-of-bounds store to 'dst_ptr' .*: element offset \d+ is outside the "
                                           r"buffer of 64 elements \(program \(0, 0, 0\)\)") as e:
        unmasked_copy[(1,)](torch.arange(128, dtype=torch.float32, device="cuda"), backing[:64], BLOCK=128)
    assert 64 <= int(str(e.value).split("element offset ")[1].split()[0]) < 128
    assert (backing[64:100] == src[64:]).all().item() and (backing[128:] == -1).all().item()
    # No trap: the same process keeps launching, and a correct launch reports nothing.
    out = torch.zeros(128, device="cuda")
    unmasked_copy[(1,)](torch.ones(128, device="cuda"), out, BLOCK=128)
    assert (out == 1).all().item()


@tilec.jit(debug=True)
def checked_sqrt(x_ptr, y_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    tl.device_assert(x >= 0, "sqrt of a negative number")
    tl.store(y_ptr + offs, tl.sqrt(x))


def test_device_assert_on_cuda_raises_with_the_program_and_index():
    torch = cuda_or_skip()
    x = torch.ones(32, device="cuda")
    x[7] = -1.0
    y = torch.zeros(32, device="cuda")
    with pytest.raises(RuntimeError, match=r"device-side assertion failed in kernel 'checked_sqrt': .*test_reliability.py:"
                                           r"\d+: device assertion failed in program \(0, 0, 0\) at index 7: "):
        checked_sqrt[(1,)](x, y, BLOCK=32)
    x[7] = 4.0
    checked_sqrt[(1,)](x, y, BLOCK=32)
    assert y[7].item() == 2.0
