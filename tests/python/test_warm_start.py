"""Warm starts (issue #11, item 3): a new process with a populated cache launches a kernel without
running the front end (no parse, no lowering), and `import tilec` loads only what a launch needs.
Each case runs in a child process; TILEC_LOG=compile's line says which path a compile took."""
import os
import re
import subprocess
import sys
import textwrap

import pytest

from test_errors import CACHE_SCRIPT, run_python


def compile_log_lines(r):
    return [line for line in r.stderr.splitlines() if line.startswith("tilec: compile ")]


@pytest.fixture
def without_arch_checks(monkeypatch):
    # TILEC_CHECK_CUDA_ARCHS (set by the test suite) sends every kernel through the front end and
    # NVRTC, bypassing the warm-start index under test.
    monkeypatch.delenv("TILEC_CHECK_CUDA_ARCHS", raising=False)


def test_warm_start_runs_no_front_end(tmp_path, without_arch_checks):
    cold = run_python(CACHE_SCRIPT, tmp_path, TILEC_LOG="compile")
    assert cold.returncode == 0, cold.stderr
    (line,) = compile_log_lines(cold)
    assert "[cpu, cold]" in line and "frontend" in line, line
    warm = run_python(CACHE_SCRIPT, tmp_path, TILEC_LOG="compile")
    assert warm.returncode == 0, warm.stderr
    (line,) = compile_log_lines(warm)
    assert "[cpu, warm: index hit]" in line, line
    # The stages a warm start runs, and nothing else: no parsing, lowering, passes or codegen.
    stages = [s.split()[0] for s in line.split("]: ", 1)[1].split(", ")]
    assert stages == ["index", "cache-lookup", "load", "total"], line
    assert warm.stdout == cold.stdout  # the same entry, the same result


def test_cold_log_accounts_for_every_stage(tmp_path, without_arch_checks):
    # A cold CPU compile's stages, in order, the index store included (it was untimed), and the
    # thread's CPU time and major page faults on each stage of 1 ms or more (the host compiler
    # always is): wall time far above CPU time is waiting on the disk or another process.
    cold = run_python(CACHE_SCRIPT, tmp_path, TILEC_LOG="compile")
    assert cold.returncode == 0, cold.stderr
    (line,) = compile_log_lines(cold)
    stages = line.split("]: ", 1)[1].split(", ")
    names = [s.split()[0] for s in stages]
    assert names[:3] == ["frontend", "passes", "codegen"] and names[-2:] == ["index-store", "total"], line
    assert "store+load" in names and any(n == "host-cc" for n in names), line
    host_cc = next(s for s in stages if s.startswith("host-cc "))
    assert re.fullmatch(r"host-cc( \([a-z ]+\))? [0-9.]+ ms \(cpu [0-9.]+ ms; [0-9]+ major faults\)", host_cc), host_cc
    # "host-cc (pch) 110.1 ms": a stage's wall time is its first number before " ms".
    ms = lambda s: float(re.search(r"([0-9.]+) ms", s).group(1))  # noqa: E731
    wall = sum(ms(s) for s in stages[:-1])
    assert wall <= ms(stages[-1]) + 0.05 * len(stages), line


def test_a_changed_source_misses_the_index(tmp_path, without_arch_checks):
    assert run_python(CACHE_SCRIPT, tmp_path).returncode == 0
    changed = CACHE_SCRIPT.replace("@tilec.jit", "# a comment changes the file's text, hence the key\n@tilec.jit", 1)
    assert changed != CACHE_SCRIPT
    r = run_python(changed, tmp_path, TILEC_LOG="compile")
    assert r.returncode == 0, r.stderr
    (line,) = compile_log_lines(r)
    assert "frontend" in line and "warm" not in line, line


def test_import_tilec_loads_only_what_a_launch_needs():
    # The autotuner, tilec.testing (NumPy), inspect and the language's submodules are imported
    # on first use; a warm start pays for every module `import tilec` imports.
    code = textwrap.dedent("""
        import sys
        before = set(sys.modules)  # what the interpreter's start-up (site, .pth files) imported
        import tilec
        lazy = ["inspect", "numpy", "glob", "tilec.autotuner", "tilec.testing", "tilec.language.math",
                "tilec.language.extra", "tilec.language.core", "tilec.language.random"]
        print(" ".join(m for m in lazy if m in sys.modules and m not in before))
        # ... and each is there when asked for.
        import tilec.language as tl
        assert tilec.autotune and tilec.Config and tilec.heuristics and tilec.testing.do_bench
        assert tl.math.exp and tl.extra.cuda.libdevice.tanh and tl.core.constexpr and tl.random.rand
        from tilec import *  # noqa: F403 (every name in __all__ resolves)
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["", "ok"], r.stdout


def test_kernel_parameters_from_the_code_object():
    import tilec
    import tilec.language as tl

    def k(x_ptr, n, scale=2.0, BLOCK: tl.constexpr = 16, FLAG: "tl.constexpr" = True):
        pass

    kernel = tilec.jit(k)
    assert kernel.arg_names == ["x_ptr", "n", "scale", "BLOCK", "FLAG"]
    for bad in ("def f(x, *rest): pass", "def f(x, *, y): pass", "def f(x, **kw): pass"):
        namespace = {}
        exec(bad, namespace)
        with pytest.raises(TypeError, match="plain positional parameters"):
            tilec.jit(namespace["f"])
