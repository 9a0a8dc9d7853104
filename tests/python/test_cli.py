"""The `tilec` command of the package (python/tilec/cli.py): `cache list`, `cache clear
[--older-than DAYS]`, TILEC_CACHE_MAX_BYTES's least-recently-used eviction, `doctor`, and `dump`
forwarded to the native CLI. Kernels are compiled in child processes, each against its own cache."""
import os
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

KERNELS = textwrap.dedent('''
    import sys
    import numpy as np
    import tilec
    import tilec.language as tl

    @tilec.jit
    def k_a(x, n, B: tl.constexpr):
        o = tl.arange(0, B)
        tl.store(x + o, tl.load(x + o, mask=o < n) + 1, mask=o < n)

    @tilec.jit
    def k_b(x, n, B: tl.constexpr):
        o = tl.arange(0, B)
        tl.store(x + o, tl.load(x + o, mask=o < n) * 2, mask=o < n)

    @tilec.jit
    def k_c(x, n, B: tl.constexpr):
        o = tl.arange(0, B)
        tl.store(x + o, tl.load(x + o, mask=o < n) - 3, mask=o < n)

    for name in sys.argv[1:]:
        x = np.ones(16, np.float32)
        globals()[name][(1,)](x, 16, B=16)
''')


@pytest.fixture
def cache(tmp_path):
    """(run kernels by name, run `tilec ...`, the cache folder), all on a fresh cache."""
    root = tmp_path / "cache"
    script = tmp_path / "kernels.py"
    script.write_text(KERNELS)
    env = dict(os.environ, TILEC_CACHE_DIR=str(root))
    env.pop("TILEC_CACHE_MAX_BYTES", None)
    env.pop("TILEC_ALWAYS_COMPILE", None)
    env.pop("TILEC_CHECK_CUDA_ARCHS", None)  # it bypasses the warm-start index

    def kernels(*names, **extra_env):
        r = subprocess.run([sys.executable, str(script), *names], env=dict(env, **extra_env),
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        return r

    def tilec(*args, **extra_env):
        return subprocess.run([sys.executable, "-m", "tilec", *args], env=dict(env, **extra_env), cwd=ROOT,
                              capture_output=True, text=True, timeout=300)

    return kernels, tilec, root


def entries(root):
    """{kernel name: entry folder} from the meta.json files of root/<2>/<key>."""
    import json
    found = {}
    for shard in os.listdir(root):
        if len(shard) != 2:
            continue
        for key in os.listdir(root / shard):
            meta = json.loads((root / shard / key / "meta.json").read_text())
            found[meta["kernel"]] = root / shard / key
    return found


def test_cache_list_names_kernel_backend_arch_size_age_source(cache):
    kernels, tilec, root = cache
    kernels("k_a", "k_b")
    r = tilec("cache", "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["KERNEL", "BACKEND", "ARCH", "SIZE", "AGE", "SOURCE"]
    rows = {line.split()[0]: line.split() for line in lines[1:3]}
    assert set(rows) == {"k_a", "k_b"}
    for row in rows.values():
        assert row[1] == "cpu" and row[2] in ("avx512f", "avx2", "avx", "sse4_2", "neon", "sve", "scalar")
        assert row[-1].endswith("kernels.py")
    assert lines[-1].startswith("2 kernels, ")


def test_cache_list_empty_cache(cache):
    _, tilec, root = cache
    r = tilec("cache", "list")
    assert r.returncode == 0 and "no cached kernels" in r.stdout


def test_cache_clear_removes_everything(cache):
    kernels, tilec, root = cache
    kernels("k_a", "k_b")
    assert os.listdir(root / "index")
    r = tilec("cache", "clear")
    assert r.returncode == 0, r.stderr
    assert "removed 2 kernels" in r.stdout
    assert entries(root) == {} and os.listdir(root / "index") == []
    kernels("k_a")  # recompiles into the cleared cache
    assert set(entries(root)) == {"k_a"}


def test_cache_clear_older_than_keeps_recent_entries(cache):
    kernels, tilec, root = cache
    kernels("k_a", "k_b")
    old = time.time() - 10 * 86400
    os.utime(entries(root)["k_a"], (old, old))
    r = tilec("cache", "clear", "--older-than", "5")
    assert r.returncode == 0, r.stderr
    assert "removed 1 kernels" in r.stdout
    assert set(entries(root)) == {"k_b"}


@pytest.mark.parametrize("days", ["-1", "soon"])
def test_cache_clear_rejects_bad_days(cache, days):
    _, tilec, _ = cache
    r = tilec("cache", "clear", "--older-than", days)
    assert r.returncode == 2 and "DAYS must be" in r.stderr


def test_cache_max_bytes_evicts_least_recently_used(cache):
    kernels, tilec, root = cache
    kernels("k_a", "k_b")
    sizes = {k: sum(f.stat().st_size for f in d.iterdir()) for k, d in entries(root).items()}
    # k_a is older than k_b, then used again (a warm start), so k_b is the least recently used.
    for name, age in (("k_a", 100), ("k_b", 50)):
        t = time.time() - age
        os.utime(entries(root)[name], (t, t))
    kernels("k_a")
    limit = sizes["k_a"] + sizes["k_b"] + sizes["k_b"] // 2  # room for two entries, not three
    kernels("k_c", TILEC_CACHE_MAX_BYTES=str(limit))
    assert set(entries(root)) == {"k_a", "k_c"}
    t = time.time() - 30  # k_a's last use before k_c's store (the same second would tie)
    os.utime(entries(root)["k_a"], (t, t))
    kernels("k_b", TILEC_CACHE_MAX_BYTES=str(limit))  # compiled again: k_a is now the least recently used
    assert set(entries(root)) == {"k_c", "k_b"}


def test_cache_max_bytes_zero_keeps_only_the_new_entry(cache):
    kernels, _, root = cache
    kernels("k_a", "k_b", TILEC_CACHE_MAX_BYTES="0")
    assert set(entries(root)) == {"k_b"}


def test_cache_max_bytes_malformed_is_reported(cache):
    kernels, _, root = cache
    r = kernels("k_a", TILEC_CACHE_MAX_BYTES="10GB")
    assert "TILEC_CACHE_MAX_BYTES='10GB' is not a whole number of bytes; no cache size limit is applied" in r.stderr
    assert set(entries(root)) == {"k_a"}


def test_doctor_reports_what_it_found(cache):
    kernels, tilec, root = cache
    kernels("k_a")
    r = tilec("doctor")
    assert r.returncode == 0, r.stderr
    for key in ("tilec", "host compiler", "SIMD level", "runtime PCH", "NVRTC", "CUDA driver", "cache"):
        assert any(line.startswith(key + " ") for line in r.stdout.splitlines()), (key, r.stdout)
    assert f"{root}: 1 kernels" in r.stdout


def test_dump_runs_the_native_cli(cache):
    _, tilec, _ = cache
    args = ["dump", "samples/vector_add.py", "--kernel", "add_kernel", "--signature",
            "x_ptr:*fp32:16,y_ptr:*fp32:16,output_ptr:*fp32:16,n_elements:i32", "--constexpr", "BLOCK_SIZE=1024"]
    r = tilec(*args, "--emit", "cuda")
    assert r.returncode == 0, r.stderr
    assert "add_kernel" in r.stdout and "__global__" in r.stdout
    r = tilec(*args, "--emit", "nonsense")
    assert r.returncode == 2 and "unknown stage 'nonsense'" in r.stderr
    r = tilec("frobnicate")
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr
