"""The kernel cache heals itself (issue #10, item 2): a missing, truncated, edited or unloadable
artifact (kernel.so on the CPU; a cubin or PTX on the GPU, where CUDA is available) is removed and
recompiled once with a one-line warning; concurrent processes leave one
whole entry; an unwritable cache folder means compiling in memory, said once."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import HAS_CUDA
from test_errors import CACHE_SCRIPT, run_python

WARNING = "tilec: warning: "


def first_run(tmp_path):
    r = run_python(CACHE_SCRIPT, tmp_path)
    assert r.returncode == 0, r.stderr
    assert WARNING not in r.stderr
    return r.stdout.strip().splitlines()[-1]


def warnings_of(r):
    return [line for line in r.stderr.splitlines() if line.startswith(WARNING)]


def damage_truncate(entry, name):
    path = os.path.join(entry, name)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def damage_delete(entry, name):
    os.remove(os.path.join(entry, name))


def damage_flip(entry, name):
    path = os.path.join(entry, name)
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(path, "wb").write(bytes(data))


@pytest.mark.parametrize("name", ["kernel.so", "kernel.cpp"])
@pytest.mark.parametrize("damage", [damage_truncate, damage_delete, damage_flip], ids=["truncated", "missing", "edited"])
def test_damaged_artifact_is_recompiled_once(tmp_path, damage, name):
    entry = first_run(tmp_path)
    damage(entry, name)
    r = run_python(CACHE_SCRIPT, tmp_path)
    assert r.returncode == 0, r.stderr
    warned = warnings_of(r)
    assert len(warned) == 1, r.stderr
    assert f"damaged kernel cache entry {entry} ({name}" in warned[0] and "removed, recompiling" in warned[0]
    # Healed: the next process hits the cache silently.
    again = run_python(CACHE_SCRIPT, tmp_path)
    assert again.returncode == 0 and not warnings_of(again), again.stderr


def replace_with_junk(entry, name):
    """Replaces an artifact with bytes no loader accepts, and records their size and hash in
    meta.json, so that only loading it can tell."""
    junk = b"not an ELF file" * 10
    open(os.path.join(entry, name), "wb").write(junk)
    meta_path = os.path.join(entry, "meta.json")
    meta = json.load(open(meta_path))
    meta["artifacts"][name] = {"size": len(junk), "sha256": hashlib.sha256(junk).hexdigest()}
    open(meta_path, "w").write(json.dumps(meta))


def drop_index(tmp_path):
    """Without the warm-start index a new process finds the entry through a full compile, the
    other path that loads a cached binary."""
    shutil.rmtree(tmp_path / "cache" / "index")


def run_without_arch_checks(script, tmp_path):
    """run_python with TILEC_CHECK_CUDA_ARCHS unset: those checks bypass the warm-start index, one of
    the two paths under test (the test suite sets them)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("TILEC_CHECK_CUDA_ARCHS", raising=False)
        return run_python(script, tmp_path)


def heals_unloadable(tmp_path, script, artifact, path):
    """Runs `script` once, swaps the artifact that `artifact(entry)` names for junk with a valid
    hash, and checks that the next run warns once and recompiles and the run after is silent."""
    first = run_without_arch_checks(script, tmp_path)
    assert first.returncode == 0 and not warnings_of(first), first.stderr
    entry = first.stdout.strip().splitlines()[-1]
    name = artifact(entry)
    replace_with_junk(entry, name)
    if path == "full-compile":
        drop_index(tmp_path)
    r = run_without_arch_checks(script, tmp_path)
    assert r.returncode == 0, r.stderr
    warned = warnings_of(r)
    assert len(warned) == 1, r.stderr
    assert f"cannot load the cached kernel {entry}/{name} (" in warned[0] and "removed, recompiling" in warned[0]
    again = run_without_arch_checks(script, tmp_path)
    assert again.returncode == 0 and not warnings_of(again), again.stderr
    assert again.stdout.strip().splitlines()[-1] == entry


@pytest.mark.parametrize("path", ["index", "full-compile"])
def test_unloadable_kernel_so_is_recompiled_once(tmp_path, path):
    heals_unloadable(tmp_path, CACHE_SCRIPT, lambda entry: "kernel.so", path)


CUDA_CACHE_SCRIPT = textwrap.dedent("""
    import torch
    import tilec
    import tilec.language as tl

    @tilec.jit
    def cached_kernel(x_ptr, n, BLOCK: tl.constexpr):
        offs = tl.arange(0, BLOCK)
        tl.store(x_ptr + offs, offs * 3 + 1, mask=offs < n)

    x = torch.zeros(40, dtype=torch.int32, device="cuda")
    cached_kernel[(1,)](x, 33, BLOCK=64)
    h = x.cpu()
    assert (h[:33] == torch.arange(33, dtype=torch.int32) * 3 + 1).all() and (h[33:] == 0).all()
    print(cached_kernel.warmup(x, 33, BLOCK=64).metadata["cache_dir"])
""")


@pytest.mark.skipif(not HAS_CUDA, reason="needs torch with CUDA")
@pytest.mark.parametrize("path", ["index", "full-compile"])
def test_unloadable_cubin_is_recompiled_once(tmp_path, path):
    # The driver rejects the image at the kernel's first launch: healed as a kernel.so is.
    def image(entry):
        return "kernel.cubin" if os.path.exists(os.path.join(entry, "kernel.cubin")) else "kernel.ptx"
    heals_unloadable(tmp_path, CUDA_CACHE_SCRIPT, image, path)


def test_meta_json_that_is_not_json_is_replaced_silently(tmp_path):
    entry = first_run(tmp_path)
    open(os.path.join(entry, "meta.json"), "w").write("{ not json")
    r = run_python(CACHE_SCRIPT, tmp_path)
    assert r.returncode == 0 and not warnings_of(r), r.stderr
    assert "artifacts" in json.load(open(os.path.join(entry, "meta.json")))


def test_eight_processes_on_one_key_leave_one_whole_entry(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(CACHE_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k != "TILEC_ALWAYS_COMPILE"}
    env["TILEC_CACHE_DIR"] = str(tmp_path / "cache")
    procs = [subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(8)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert WARNING not in err, err
    entries = {out.strip().splitlines()[-1] for out, _ in outs}
    assert len(entries) == 1
    entry = entries.pop()
    shard = os.path.dirname(entry)
    assert os.listdir(shard) == [os.path.basename(entry)], "temp folders were left beside the entry"
    assert sorted(os.listdir(entry)) == ["kernel.cpp", "kernel.so", "meta.json"]
    meta = json.load(open(os.path.join(entry, "meta.json")))
    for name, rec in meta["artifacts"].items():
        assert os.path.getsize(os.path.join(entry, name)) == rec["size"]
    again = run_python(CACHE_SCRIPT, tmp_path)
    assert again.returncode == 0 and not warnings_of(again), again.stderr


def test_unwritable_cache_dir_compiles_in_memory_and_warns_once(tmp_path):
    # A regular file where the cache folder should be is unwritable even for root.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = CACHE_SCRIPT + textwrap.dedent("""
        @tilec.jit
        def other_kernel(x_ptr, BLOCK: tl.constexpr):
            tl.store(x_ptr + tl.arange(0, BLOCK), tl.arange(0, BLOCK))

        y = np.zeros(16, np.int32)
        other_kernel[(1,)](y, BLOCK=16)
        assert (y == np.arange(16)).all()
        print("ok", repr(cached_kernel.warmup(x, 33, BLOCK=64).metadata["cache_dir"]))
    """)
    r = run_python(code, tmp_path, TILEC_CACHE_DIR=str(blocker / "cache"))
    assert r.returncode == 0, r.stderr
    warned = warnings_of(r)
    assert len(warned) == 1, r.stderr
    assert f"the kernel cache {blocker}/cache is not writable" in warned[0] and "compiled in memory" in warned[0]
    assert r.stdout.strip().splitlines()[-1] == "ok ''"
