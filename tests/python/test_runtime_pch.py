"""The installed runtime-header PCH (`tilec precompile-runtime`, run by the build): the first
kernel compile of a fresh cache uses it, and a damaged one never breaks a compile (issue #11).
Each test installs its own copy of the runtime headers with a PCH beside them in tmp_path."""
import os
import shutil
import subprocess

import pytest

from test_errors import CACHE_SCRIPT, run_python
from tilec import cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def installed(tmp_path):
    """(include dir, .gch path): the runtime headers with their PCH, as an installation ships them."""
    exe = cli._native_cli()
    if exe is None:
        pytest.skip("the native tilec binary is not built")
    include = tmp_path / "include"
    shutil.copytree(os.path.join(ROOT, "runtime", "cpu"), include / "runtime" / "cpu")
    r = subprocess.run([exe, "precompile-runtime", "--into", str(include / "runtime" / "pch")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    gch = r.stdout.strip()
    assert gch.endswith("tilec_pch.h.gch") and os.path.isfile(gch) and os.path.isfile(gch[:-len(".gch")])
    return include, gch


def run_installed(tmp_path, include):
    code = f"import tilec\ntilec._C.set_runtime_include_dir({str(include)!r})\n" + CACHE_SCRIPT
    return run_python(code, tmp_path, TILEC_LOG="compile")


def cache_gch_files(tmp_path):
    return [f for _, _, files in os.walk(tmp_path / "cache") for f in files if f.endswith(".gch")]


def test_first_compile_of_a_fresh_cache_uses_the_installed_pch(tmp_path, installed):
    include, gch = installed
    before = os.path.getmtime(gch)
    r = run_installed(tmp_path, include)
    assert r.returncode == 0, r.stderr
    assert "host-cc (pch)" in r.stderr, r.stderr
    assert "warning" not in r.stderr
    assert cache_gch_files(tmp_path) == [], "the cache built a PCH of its own"
    assert os.path.getmtime(gch) == before, "the installed PCH was written"


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_installed_pch_still_compiles(tmp_path, installed, damage):
    include, gch = installed
    if damage == "truncated":  # a valid PCH header: the compiler fails on it, tilec compiles again without
        with open(gch, "r+b") as f:
            f.truncate(os.path.getsize(gch) // 2)
    else:  # not a PCH: the compiler parses the plain header beside it
        with open(gch, "wb") as f:
            f.write(b"\x00not a pch" * 1000)
    r = run_installed(tmp_path, include)
    assert r.returncode == 0, r.stderr  # the script checks the kernel's results
    if damage == "truncated":
        assert "tilec: warning: the precompiled runtime header" in r.stderr and "broke a compile" in r.stderr, r.stderr


def test_pch_for_another_toolchain_is_not_used(tmp_path, installed):
    include, gch = installed
    key = os.path.dirname(gch)
    os.rename(key, os.path.join(os.path.dirname(key), "0" * 24))
    r = run_installed(tmp_path, include)
    assert r.returncode == 0, r.stderr
    assert "host-cc (pch)" not in r.stderr, r.stderr


def test_doctor_says_whether_the_installed_pch_matches(tmp_path, installed):
    include, gch = installed
    code = f"import tilec\ntilec._C.set_runtime_include_dir({str(include)!r})\nfrom tilec import cli\ncli.doctor()\n"
    r = run_python(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"installed, matches this host compiler: {gch}" in r.stdout, r.stdout
    os.rename(os.path.dirname(gch), os.path.join(os.path.dirname(os.path.dirname(gch)), "0" * 24))
    r = run_python(code, tmp_path)
    assert "installed for another compiler, flags or tilec, not used" in r.stdout, r.stdout


def test_pch_key_names_the_compiler_file_not_the_command(tmp_path, installed):
    # pip's build (scikit-build-core) sets CXX=g++; kernels later run c++, often the same file.
    include, gch = installed
    cxx = os.environ.get("CXX") or "c++"
    gxx = shutil.which("g++")
    if not gxx or not shutil.which(cxx) or os.path.realpath(shutil.which(cxx)) != os.path.realpath(gxx):
        pytest.skip("g++ is not the host compiler's file")
    r = subprocess.run([cli._native_cli(), "precompile-runtime", "--into", str(include / "runtime" / "pch")],
                       capture_output=True, text=True, timeout=300, env={**os.environ, "CXX": "g++"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == gch
