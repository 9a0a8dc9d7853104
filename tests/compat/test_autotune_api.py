"""The Python API around kernels: autotune (re-tuning on key changes, stored winners reused by a
new process, TILEC_AUTOTUNE=retune, TILEC_LOG=autotune, pre_hook, conflicting meta-parameters),
heuristics stacked above and below autotune, the jit call form and options, and the options
tilec rejects by name (num_ctas > 1, maxnreg, use_cuda_graph, jit(repr=...))."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tilec
import tilec as triton
import tilec.language as tl
from compat_check import retune  # noqa: F401 (fixture)

HERE = os.path.dirname(os.path.abspath(__file__))


def add_one(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) + 1, mask=offs < n)


add_one_kernel = triton.jit(add_one)  # the call form


def grid(n):
    return lambda meta: (triton.cdiv(n, meta["BLOCK"]),)


def test_jit_call_form_and_arg_names():
    assert add_one_kernel.arg_names == ["x_ptr", "n", "BLOCK"]
    x = np.zeros(50, np.int32)
    add_one_kernel[grid(50)](x, 50, BLOCK=16)
    assert (x == 1).all()


def make_tuned(**kw):
    calls = []

    def hook(nargs):
        calls.append(nargs["BLOCK"])

    kernel = triton.autotune([triton.Config({"BLOCK": 16}, pre_hook=hook), triton.Config({"BLOCK": 64}, pre_hook=hook)],
                             key=["n"], restore_value=["x_ptr"], warmup=1, rep=2, **kw)(triton.jit(add_one))
    return kernel, calls


def test_retunes_when_the_key_changes(retune):
    kernel, calls = make_tuned()
    x = np.zeros(100, np.int32)
    kernel[grid(100)](x, 100)
    tuned = len(calls)
    assert tuned > 2 and (x == 1).all()
    kernel[grid(100)](x, 100)
    assert len(calls) == tuned + 1 and (x == 2).all()  # same key: no timing, one launch
    kernel[grid(60)](x, 60)
    assert len(calls) > tuned + 2  # a new n: tuned again
    assert (x[:60] == 3).all() and (x[60:] == 2).all()


def test_conflicting_meta_parameters():
    kernel, _ = make_tuned()
    with pytest.raises(ValueError, match="Conflicting meta-parameters: BLOCK"):
        kernel[(1,)](np.zeros(4, np.int32), 4, BLOCK=4)


def test_heuristics_above_and_below_autotune(retune):
    below = triton.autotune([triton.Config({"BLOCK": 16}), triton.Config({"BLOCK": 32})], key=["n"], warmup=1, rep=2,
                            restore_value=["x_ptr"])(
        triton.heuristics({"EXTRA": lambda a: a["BLOCK"] * 2})(triton.jit(add_extra)))
    above = triton.heuristics({"EXTRA": lambda a: 5})(
        triton.autotune([triton.Config({"BLOCK": 16}), triton.Config({"BLOCK": 32})], key=["n"], warmup=1, rep=2,
                        restore_value=["x_ptr"])(triton.jit(add_extra)))
    for kernel, expect in ((below, None), (above, 5)):
        x = np.zeros(40, np.int32)
        kernel[grid(40)](x, 40)
        block = kernel.best_config.kwargs["BLOCK"] if hasattr(kernel, "best_config") else kernel.fn.best_config.kwargs["BLOCK"]
        assert (x == (expect if expect is not None else 2 * block)).all()


def add_extra(x_ptr, n, BLOCK: tl.constexpr, EXTRA: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) + EXTRA, mask=offs < n)


SCRIPT = textwrap.dedent("""
    import numpy as np, tilec as triton, tilec.language as tl

    @triton.autotune(configs=[triton.Config({"BLOCK": 16}), triton.Config({"BLOCK": 32}, num_warps=2)],
                     key=["n"], warmup=1, rep=2)
    @triton.jit
    def persisted_kernel(x_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        tl.store(x_ptr + offs, offs, mask=offs < n)

    x = np.zeros(77, np.int32)
    persisted_kernel[lambda m: (triton.cdiv(77, m["BLOCK"]),)](x, 77)
    assert (x == np.arange(77)).all()
""")


def run_script(tmp_path, cache, **env):
    path = tmp_path / "persisted.py"
    path.write_text(SCRIPT)
    e = dict(os.environ, TILEC_CACHE_DIR=str(cache), TILEC_LOG="autotune", **env)
    e.pop("TILEC_AUTOTUNE", None)
    e.update(env)
    r = subprocess.run([sys.executable, str(path)], env=e, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stderr


def test_winner_persists_across_processes(tmp_path):
    cache = tmp_path / "cache"
    first = run_script(tmp_path, cache)
    assert "BLOCK: 16, num_warps: 4, num_stages: 3:" in first and " ms" in first and "best" in first
    second = run_script(tmp_path, cache)
    assert "stored result" in second and " ms\n" not in second
    assert len(list((cache / "autotune").glob("persisted_kernel-*.json"))) == 1
    third = run_script(tmp_path, cache, TILEC_AUTOTUNE="retune")
    assert "stored result" not in third and "best" in third


def test_rejected_options():
    with pytest.raises(ValueError, match="num_ctas"):
        triton.Config({"BLOCK": 16}, num_ctas=2)
    with pytest.raises(ValueError, match="maxnreg"):
        triton.Config({"BLOCK": 16}, maxnreg=128)
    with pytest.raises(ValueError, match="use_cuda_graph"):
        triton.autotune([triton.Config({})], key=[], use_cuda_graph=True)(add_one_kernel)
    with pytest.raises(TypeError, match="repr"):
        triton.jit(repr=lambda _: "k")
    with pytest.raises(TypeError, match="launch_metadata"):
        triton.jit(launch_metadata=None)
    with pytest.raises(ValueError, match="noinline"):
        triton.jit(noinline=True)
    with pytest.raises(ValueError, match="not an argument"):
        triton.autotune([triton.Config({})], key=["nope"])(add_one_kernel)
    x = np.zeros(4, np.int32)
    with pytest.raises(ValueError, match="num_ctas"):
        add_one_kernel[(1,)](x, 4, BLOCK=4, num_ctas=2)
    with pytest.raises(ValueError, match="maxnreg"):
        add_one_kernel[(1,)](x, 4, BLOCK=4, maxnreg=64)
    add_one_kernel[(1,)](x, 4, BLOCK=4, num_ctas=1, maxnreg=None)
    assert (x == 1).all()


def test_do_not_specialize_and_debug():
    kernel = triton.jit(do_not_specialize=["n"], debug=True)(add_one)
    x = np.zeros(32, np.int32)
    for n in (1, 16, 32):
        kernel[(1,)](x, n, BLOCK=32)
    assert list(x[:1]) == [3] and (x[1:16] == 2).all() and (x[16:] == 1).all()
    assert "divisibility" not in kernel.warmup(x, 16, BLOCK=32, grid=(1,)).asm["ir"].split("n.")[1].split(")")[0]


def test_python_level_names():
    import tilec.language.core as core
    import tilec.language.extra.cuda.libdevice as ld
    import tilec.language.math as tlmath
    assert core.constexpr is tl.constexpr and tl.dtype is core.dtype and tl.tensor is core.tensor
    assert tl.float16.primitive_bitwidth == 16 and tl.float32.is_floating() and not tl.int8.is_floating()
    assert tl.PropagateNan.ALL != tl.PropagateNan.NONE
    assert callable(ld.tanh) and callable(tlmath.rsqrt) and callable(tl.math.umulhi)
    assert triton.next_power_of_2(33) == 64 and triton.cdiv(33, 8) == 5
    assert triton.language is tl and callable(triton.testing.do_bench)
    with pytest.raises(RuntimeError, match="inside a @tilec.jit kernel"):
        ld.tanh(1.0)
    assert triton.testing.do_bench(lambda: None, warmup=1, rep=2) >= 0
