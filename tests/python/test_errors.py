"""Launch-time errors (raised before anything runs), compile errors pointing at the user's source,
the compile/warmup API and the on-disk kernel cache."""
import json
import os
import subprocess
import sys
import textwrap
import traceback

import numpy as np
import pytest

import tilec
import tilec.language as tl
from conftest import HAS_CUDA, assert_close, rand

TILEC_DIR = os.path.dirname(os.path.abspath(tilec.__file__))
HERE = os.path.abspath(__file__)


@tilec.jit
def scale_kernel(x_ptr, y_ptr, n, factor, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask) * factor, mask=mask)


@pytest.fixture
def io(backend, rng):
    """Input, poisoned output and the expected result of scale_kernel with n=100, factor=2.0."""
    x = rand(rng, 100, "float32")
    return backend.put(x), backend.out(100, "float32"), 2.0 * x.astype(np.float64)


def assert_untouched(backend, y):
    assert np.isnan(backend.get(y)).all(), "the kernel ran although the launch was rejected"


def test_valid_launch(backend, io):
    x, y, ref = io
    scale_kernel[(1,)](x, y, 100, 2.0, BLOCK=128)
    assert_close(backend.get(y), ref, "float32")


def test_numpy_scalars_are_numbers(backend, io):
    # np.int64 / np.float32 scalars carry a buffer and a dtype, but they are numbers, not tensors.
    x, y, ref = io
    scale_kernel[(1,)](x, y, np.int64(100), np.float32(2.0), BLOCK=128)
    assert_close(backend.get(y), ref, "float32")


def test_grid_lambda_sees_arguments(backend, io):
    x, y, ref = io
    seen = {}

    def grid(meta):
        seen.update(meta)
        return (tilec.cdiv(meta["n"], meta["BLOCK"]),)

    scale_kernel[grid](x, y, 100, 2.0, BLOCK=32)
    assert seen["n"] == 100 and seen["BLOCK"] == 32 and seen["factor"] == 2.0
    assert_close(backend.get(y), ref, "float32")


# "X" and "Y" stand for the input and the poisoned output.
@pytest.mark.parametrize("args,kwargs,match", [
    (("X",), {"BLOCK": 128}, "missing required argument 'y_ptr'"),
    (("X", "Y", 100, 2.0, 128, 6), {}, "takes 5 arguments but 6 were given"),
    (("X", "Y", 100, 2.0), {}, "missing required argument 'BLOCK'"),
    (("X", "Y", 100, 2.0), {"BLOCK": 128, "blocks": 1}, "unexpected keyword argument 'blocks'"),
    (("X", "Y", 100, "2"), {"BLOCK": 128}, "argument 'factor' has unsupported type str"),
    (("X", "Y", 100, 2.0), {"BLOCK": [128]}, "constexpr 'BLOCK'"),
    (("X", "Y", 100, 2.0), {"BLOCK": 128, "n": 5}, "multiple values for argument 'n'"),
], ids=["too-few", "too-many", "missing-constexpr", "unknown-keyword", "str", "list-constexpr", "duplicate"])
def test_bad_arguments(backend, io, args, kwargs, match):
    x, y, _ = io
    args = [x if a == "X" else y if a == "Y" else a for a in args]
    with pytest.raises(TypeError, match=match):
        scale_kernel[(1,)](*args, **kwargs)
    assert_untouched(backend, y)


def test_none_argument_is_a_constexpr_none(backend, io):
    """None for a runtime argument specializes it to a constexpr None, as Triton does; using it as
    a number is a compile error at the use."""
    x, y, _ = io
    with pytest.raises(tilec.CompileError, match="cannot compare None"):
        scale_kernel[(1,)](x, y, None, 2.0, BLOCK=128)
    assert_untouched(backend, y)


def test_unsupported_dtype(backend, rng):
    x = np.ones(100, np.complex64)
    y = backend.out(100, "float32")
    with pytest.raises(TypeError, match="unsupported"):
        scale_kernel[(1,)](x if backend.name == "cpu" else _torch().from_numpy(x).cuda(), y, 100, 2.0, BLOCK=128)
    assert_untouched(backend, y)


def _torch():
    import torch
    return torch


@pytest.mark.skipif(not HAS_CUDA, reason="needs torch with CUDA")
def test_tensors_on_different_devices(rng):
    torch = _torch()
    x = torch.from_numpy(rand(rng, 100, "float32"))
    y = torch.full((100,), float("nan"), device="cuda")
    with pytest.raises(ValueError, match="argument 'x_ptr' is on cpu but 'y_ptr' is on cuda:0"):
        scale_kernel[(1,)](x, y, 100, 2.0, BLOCK=128)
    assert torch.isnan(y).all()


@pytest.mark.parametrize("grid,match", [
    ((2, -1), "grid dimension 1 is -1"),
    ((2 ** 31,), "grid dimension 0 is 2147483648"),
    ((1.5,), "grid dimension 0 must be an int"),
    ((True,), "grid dimension 0 must be an int"),
    ((1, 1, 1, 1), "1 to 3 dimensions"),
    ((), "1 to 3 dimensions"),
    ("1", "the grid must be a tuple"),
    (lambda meta: (-1,), "grid dimension 0 is -1"),
], ids=["negative", "too-big", "float", "bool", "4-d", "empty", "str", "lambda-negative"])
def test_bad_grid(backend, io, grid, match):
    x, y, _ = io
    with pytest.raises(ValueError, match=match):
        scale_kernel[grid](x, y, 100, 2.0, BLOCK=128)
    assert_untouched(backend, y)


def test_bad_launch_options(backend, io):
    x, y, _ = io
    with pytest.raises(ValueError, match="num_warps"):
        scale_kernel[(1,)](x, y, 100, 2.0, BLOCK=128, num_warps=3)
    assert_untouched(backend, y)


def test_kernel_called_without_grid():
    with pytest.raises(RuntimeError, match=r"launch it with a grid, scale_kernel\[grid\]"):
        scale_kernel(1, 2, 3, 4, BLOCK=128)


@pytest.mark.parametrize("op", ["arange", "load", "program_id", "sum", "dot", "atomic_add", "static_range"])
def test_language_op_outside_kernel(op):
    with pytest.raises(RuntimeError, match=rf"tl\.{op}\(\) can only be called inside a @tilec.jit kernel"):
        getattr(tl, op)(0, 16)


# ---- compile errors point at the user's source ----

@tilec.jit
def bad_arange_kernel(x_ptr):
    offs = tl.arange(0, 1000)  # MARK: bad arange
    tl.store(x_ptr + offs, 0.0)


@tilec.jit
def _bad_helper(x):
    return x + undefined_name  # noqa: F821  MARK: undefined name


@tilec.jit
def bad_helper_kernel(x_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, _bad_helper(offs))


@tilec.jit
def bad_shapes_kernel(x_ptr, BLOCK: tl.constexpr):
    a = tl.arange(0, BLOCK)
    b = tl.arange(0, 2 * BLOCK)
    tl.store(x_ptr + a, a + b)  # MARK: shape mismatch


@tilec.jit
def bad_break_kernel(x_ptr, n):
    for i in range(n):
        break  # MARK: break
    tl.store(x_ptr, 1.0)


def marked_line(marker):
    """(line number, text) of the line of this file carrying `# MARK: marker`."""
    with open(HERE) as f:
        for i, line in enumerate(f, 1):
            if line.rstrip().endswith("MARK: " + marker):
                return i, line.rstrip("\n")
    raise AssertionError(marker)


@pytest.mark.parametrize("kernel,constexprs,marker,token,message", [
    (bad_arange_kernel, {}, "bad arange", "tl.arange", "tile sizes must be powers of two"),
    (bad_helper_kernel, {"BLOCK": 16}, "undefined name", "undefined_name", "undefined_name"),
    (bad_shapes_kernel, {"BLOCK": 16}, "shape mismatch", "a + b", "cannot be broadcast"),
    (bad_break_kernel, {}, "break", "break", "break"),
], ids=["arange", "helper", "shapes", "break"])
def test_compile_error_points_at_source(kernel, constexprs, marker, token, message):
    x = np.zeros(4096, np.float32)
    line, text = marked_line(marker)
    col = text.index(token) + 1
    args = (x,) if kernel is not bad_break_kernel else (x, 5)
    with pytest.raises(tilec.CompileError) as info:
        kernel[(1,)](*args, **constexprs)
    msg = str(info.value)
    lines = msg.splitlines()
    assert lines[0].startswith(f"{HERE}:{line}:{col}: error: "), msg
    assert message in lines[0], msg
    assert lines[1].strip() == text.strip(), msg
    # The quoted line may be indented; the caret sits under the token either way.
    assert lines[2].strip() == "^" and lines[1][lines[2].index("^"):].startswith(token), msg
    frames = traceback.extract_tb(info.value.__traceback__)
    assert frames and not [f.filename for f in frames if f.filename.startswith(TILEC_DIR)], frames
    assert (x == 0).all()


# ---- tilec.compile, warmup ----

SOURCE = textwrap.dedent("""
    import tilec
    import tilec.language as tl

    @tilec.jit
    def add_one(x_ptr, n, BLOCK: tl.constexpr):
        offs = tl.arange(0, BLOCK)
        tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) + 1, mask=offs < n)
""")


def test_compile_source_string():
    k = tilec.compile(SOURCE, name="add_one", signature="x_ptr:*fp32:16,n:i32", constexprs={"BLOCK": 64})
    assert isinstance(k, tilec.CompiledKernel)
    assert k.name == "add_one" and k.backend == "cpu"
    assert "func @add_one" in k.asm["ir"]
    assert "add_one" in k.asm["ir-opt"]
    assert "tilec_program" in k.asm["cpp"]


def test_compile_source_string_errors():
    with pytest.raises(tilec.CompileError, match=r"<string>:8:\d+: error"):
        tilec.compile(SOURCE.replace("+ 1, mask", "+ undefined, mask"), name="add_one",
                      signature="x_ptr:*fp32,n:i32", constexprs={"BLOCK": 64})
    with pytest.raises(ValueError):
        tilec.compile(SOURCE, name="add_one", signature="x_ptr:*fp32,n:i32", constexprs={"BLOCK": 64}, backend="tpu")


def test_warmup(backend, io):
    x, y, _ = io
    k = scale_kernel.warmup(x, y, 100, 2.0, BLOCK=128)
    assert isinstance(k, tilec.CompiledKernel)
    assert {"ir", "ir-opt"} <= set(k.asm)
    assert ("cuda" if backend.name == "cuda" else "cpp") in k.asm
    assert k.metadata["name"] == "scale_kernel" and k.metadata["backend"] == backend.name
    assert_untouched(backend, y)


# ---- the kernel cache, across processes ----

CACHE_SCRIPT = textwrap.dedent("""
    import numpy as np
    import tilec
    import tilec.language as tl

    @tilec.jit
    def cached_kernel(x_ptr, n, BLOCK: tl.constexpr):
        offs = tl.arange(0, BLOCK)
        tl.store(x_ptr + offs, offs * 3 + 1, mask=offs < n)

    x = np.zeros(40, np.int32)
    cached_kernel[(1,)](x, 33, BLOCK=64)
    assert (x[:33] == np.arange(33) * 3 + 1).all() and (x[33:] == 0).all()
    print(cached_kernel.warmup(x, 33, BLOCK=64).metadata["cache_dir"])
""")


def run_python(code, tmp_path, **env):
    full_env = {k: v for k, v in os.environ.items() if k != "TILEC_ALWAYS_COMPILE"}
    full_env.update({"TILEC_CACHE_DIR": str(tmp_path / "cache"), **env})
    script = tmp_path / "script.py"
    script.write_text(code)
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=full_env, timeout=300)


def test_cache_entry_warm_and_always_compile(tmp_path):
    # A wrapper compiler that logs each kernel build lets the test see whether a process compiled
    # (the runtime headers' PCH, built once per cache with -x c++-header, is not a kernel).
    log = tmp_path / "builds.log"
    cxx = tmp_path / "cxx.sh"
    cxx.write_text(f'#!/bin/sh\ncase " $* " in *" c++-header "*) ;; *" -o "*) echo build >> {log};; esac\nexec c++ "$@"\n')
    cxx.chmod(0o755)

    def builds():
        return len(log.read_text().splitlines()) if log.exists() else 0

    first = run_python(CACHE_SCRIPT, tmp_path, CXX=str(cxx))
    assert first.returncode == 0, first.stderr
    assert builds() == 1
    entry = first.stdout.strip().splitlines()[-1]
    assert entry.startswith(str(tmp_path / "cache"))
    assert {"meta.json", "kernel.cpp", "kernel.so"} <= set(os.listdir(entry))
    meta = json.loads(open(os.path.join(entry, "meta.json")).read())
    assert meta["kernel"] == "cached_kernel" and meta["backend"] == "cpu"

    second = run_python(CACHE_SCRIPT, tmp_path, CXX=str(cxx))
    assert second.returncode == 0, second.stderr
    assert builds() == 1, "a second process recompiled a cached kernel"
    assert second.stdout.strip().splitlines()[-1] == entry

    third = run_python(CACHE_SCRIPT, tmp_path, CXX=str(cxx), TILEC_ALWAYS_COMPILE="1")
    assert third.returncode == 0, third.stderr
    assert builds() == 2, "TILEC_ALWAYS_COMPILE=1 did not recompile"


def test_host_compiler_failure(tmp_path):
    cxx = tmp_path / "broken-cxx.sh"
    cxx.write_text('#!/bin/sh\necho "fatal: simulated compiler breakage" >&2\nexit 1\n')
    cxx.chmod(0o755)
    code = CACHE_SCRIPT.replace("x = np.zeros", "try:\n    cached_kernel[(1,)](np.zeros(4, np.int32), 3, BLOCK=64)\n"
                                               "except tilec.CompileError as e:\n    print(e)\n    raise SystemExit(3)\n"
                                               "x = np.zeros")
    r = run_python(code, tmp_path, CXX=str(cxx))
    assert r.returncode == 3, r.stdout + r.stderr
    assert "the host C++ compiler failed on the generated code for 'cached_kernel'" in r.stdout
    assert "fatal: simulated compiler breakage" in r.stdout
    assert "source: " in r.stdout and ".cpp" in r.stdout
    assert f"command: {cxx}" in r.stdout and " -o " in r.stdout
    assert "script.py:7:1: error" in r.stdout, r.stdout
