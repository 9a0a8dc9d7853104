"""The `tilec` command (console script, also `python -m tilec`).

  tilec doctor                            what tilec found: version, host compiler and SIMD level,
                                          NVRTC, CUDA driver and GPUs, cache folder and size
  tilec cache list                        the kernel cache's entries, most recently used first
  tilec cache clear [--older-than DAYS]   removes cache entries (all, or those unused for DAYS)
  tilec precompile-runtime --into DIR     precompiles the CPU runtime headers for the host compiler
  tilec dump ... (and any other command)  the native compiler CLI (tools/tilec_main.cpp), run as is
"""
import argparse
import ctypes
import os
import subprocess
import sys
import time

from . import _C, _environment

_USAGE = __doc__.split("\n", 2)[2]


def _native_cli():
    """The native `tilec` binary: installed into the package by `pip install` (tilec/bin), or
    build/tilec beside build/python/tilec in a CMake build tree."""
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.path.join(here, "bin", "tilec"), os.path.join(here, "..", "..", "tilec")):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return os.path.normpath(path)
    return None


def _run_native(argv):
    exe = _native_cli()
    if exe is None:
        print("tilec: the native tilec binary is not in this installation (expected tilec/bin/tilec "
              "inside the package); reinstall with `pip install .`", file=sys.stderr)
        return 2
    env = dict(os.environ)
    if not env.get("TILEC_NVRTC_PATH"):
        lib = _environment.nvrtc_library_in_environment()
        if lib:
            env["TILEC_NVRTC_PATH"] = lib
    sys.stdout.flush()
    return subprocess.call([exe] + argv, env=env)


def _human_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _human_age(seconds):
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def simd_level(isa):
    """The widest vector extension named in a cpu_isa_description() string, or the level that
    TILEC_CPU_ISA forced (its ";isa=" part)."""
    forced = {"avx512": "avx512f", "avx2": "avx2", "scalar": "scalar"}
    for part in isa.split(";")[1:]:
        if part.startswith("isa=") and part[4:] in forced:
            return forced[part[4:]]
    features = isa.split(";")[0].split("+")
    for level in ("avx512f", "avx2", "avx", "sse4_2", "neon", "sve"):
        if level in features:
            return level
    return "scalar"


def _folder_bytes(root):
    total = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total


# ---- doctor --------------------------------------------------------------------------------------

def _cuda_driver():
    """(driver version string, [(name, 'sm_XY')]) through libcuda, or (why not, [])."""
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError as e:
        return f"not found ({e})", []
    if cuda.cuInit(0) != 0:
        return "libcuda.so.1 loaded, cuInit failed (no usable GPU?)", []
    version, count = ctypes.c_int(0), ctypes.c_int(0)
    cuda.cuDriverGetVersion(ctypes.byref(version))
    cuda.cuDeviceGetCount(ctypes.byref(count))
    gpus = []
    for i in range(count.value):
        dev, major, minor = ctypes.c_int(0), ctypes.c_int(0), ctypes.c_int(0)
        name = ctypes.create_string_buffer(256)
        cuda.cuDeviceGet(ctypes.byref(dev), i)
        cuda.cuDeviceGetName(name, 256, dev)
        cuda.cuDeviceGetAttribute(ctypes.byref(major), 75, dev)  # COMPUTE_CAPABILITY_MAJOR
        cuda.cuDeviceGetAttribute(ctypes.byref(minor), 76, dev)  # COMPUTE_CAPABILITY_MINOR
        gpus.append((name.value.decode(errors="replace"), f"sm_{major.value}{minor.value}"))
    return f"CUDA {version.value // 1000}.{version.value % 1000 // 10}", gpus


def doctor(out=sys.stdout):
    from . import __version__
    p = lambda key, value: print(f"{key:<14}{value}", file=out)  # noqa: E731
    p("tilec", f"{__version__} ({os.path.dirname(os.path.abspath(__file__))})")
    p("python", sys.version.split()[0])
    cc = _C.host_compiler_info()
    p("host compiler", f"{cc['command']}: {cc['version'] or 'cannot run it (set CXX)'}")
    p("SIMD level", f"{simd_level(cc['isa'])} (-march=native{'' if ';isa=' not in cc['isa'] else ', TILEC_CPU_ISA'}; {cc['isa']})")
    pch = _C.installed_pch_info()
    p("runtime PCH", {"matches": f"installed, matches this host compiler: {pch['path']}.gch",
                      "other-toolchain": f"installed for another compiler, flags or tilec, not used (in {pch['path']}); "
                                         "`tilec precompile-runtime --into DIR` makes one",
                      "missing": f"not installed (looked in {pch['path']}); each cache builds its own"}[pch["state"]])
    nv = _C.nvrtc_info()
    if "error" in nv:
        p("NVRTC", "not found (CPU backend only; `pip install tilec[cuda]` brings it)")
        for line in nv["error"].splitlines():
            print(f"{'':<14}{line}", file=out)
    else:
        p("NVRTC", f"{nv['version']} at {nv['path']}")
        p("CUDA headers", nv["include_dir"] or "not found (only kernels without fp16/bf16 compile)")
    driver, gpus = _cuda_driver()
    p("CUDA driver", driver)
    for i, (name, arch) in enumerate(gpus):
        p(f"GPU {i}", f"{name} ({arch})")
    if not gpus:
        p("GPUs", "none")
    root = _C.cache_root()
    entries = _C.cache_entries(root) if os.path.isdir(root) else []
    size = _folder_bytes(root) if os.path.isdir(root) else 0
    p("cache", f"{root}: {len(entries)} kernels, {_human_bytes(size)} in all")
    limit = os.environ.get("TILEC_CACHE_MAX_BYTES")
    p("cache limit", f"TILEC_CACHE_MAX_BYTES={limit}" if limit else "none (TILEC_CACHE_MAX_BYTES unset)")
    return 0


# ---- cache ---------------------------------------------------------------------------------------

def _target(meta):
    if meta.get("backend") == "cuda":
        return f"sm_{meta['arch']}" if "arch" in meta else "?"
    return simd_level(meta["isa"]) if "isa" in meta else "?"


def cache_list(out=sys.stdout):
    root = _C.cache_root()
    entries = _C.cache_entries(root) if os.path.isdir(root) else []
    if not entries:
        print(f"{root}: no cached kernels", file=out)
        return 0
    now = time.time()
    rows = [("KERNEL", "BACKEND", "ARCH", "SIZE", "AGE", "SOURCE")]
    for e in sorted(entries, key=lambda e: -e["last_used"]):
        meta = e["meta"] if isinstance(e["meta"], dict) else {}
        rows.append((meta.get("kernel", "?"), meta.get("backend", "?"), _target(meta), _human_bytes(e["bytes"]),
                     _human_age(now - e["last_used"]), meta.get("source") or "?"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[5], file=out)
    total = sum(e["bytes"] for e in entries)
    print(f"{len(entries)} kernels, {_human_bytes(total)} in {root} (AGE: since last use)", file=out)
    return 0


def _remove_tree(path):
    import shutil
    shutil.rmtree(path, ignore_errors=True)


def cache_clear(older_than_days=None, out=sys.stdout):
    """Removes kernel entries unused for more than older_than_days (all when None), with the warm
    start index entries, autotuning results and precompiled headers of the same age."""
    root = _C.cache_root()
    if not os.path.isdir(root):
        print(f"{root}: nothing to clear", file=out)
        return 0
    cutoff = None if older_than_days is None else time.time() - older_than_days * 86400
    old = lambda mtime: cutoff is None or mtime < cutoff  # noqa: E731
    removed, freed = 0, 0
    for e in _C.cache_entries(root):
        if old(e["last_used"]):
            _C.cache_remove(root, e["key"])
            removed, freed = removed + 1, freed + e["bytes"]
    index = os.path.join(root, "index")
    if os.path.isdir(index):
        for e in _C.cache_entries(index):
            if old(e["last_used"]):
                _C.cache_remove(index, e["key"])
                freed += e["bytes"]
    for sub in ("autotune", "pch"):
        folder = os.path.join(root, sub)
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if old(st.st_mtime):
                size = _folder_bytes(path) if os.path.isdir(path) else st.st_size
                _remove_tree(path) if os.path.isdir(path) else os.unlink(path)
                freed += size
    # Shard folders (root/<2 hex digits>) left empty.
    for base in (root, index):
        if os.path.isdir(base):
            for name in os.listdir(base):
                path = os.path.join(base, name)
                if len(name) == 2 and os.path.isdir(path) and not os.listdir(path):
                    os.rmdir(path)
    what = "all entries" if cutoff is None else f"entries unused for {older_than_days:g} days"
    print(f"{root}: removed {removed} kernels ({what}), {_human_bytes(freed)} freed", file=out)
    return 0


def _days(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"DAYS must be a number, got '{text}'") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"DAYS must be >= 0, got {text}")
    return v


def main(argv=None):
    try:
        return _main(argv)
    except BrokenPipeError:  # `tilec cache list | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("doctor", "cache"):
        parser = argparse.ArgumentParser(prog="tilec", description=_USAGE,
                                         formatter_class=argparse.RawDescriptionHelpFormatter)
        sub = parser.add_subparsers(dest="command", required=True)
        sub.add_parser("doctor", help="print what tilec found on this machine")
        cache = sub.add_parser("cache", help="list or clear the kernel cache").add_subparsers(dest="action", required=True)
        cache.add_parser("list", help="the cached kernels, most recently used first")
        clear = cache.add_parser("clear", help="remove cached kernels")
        clear.add_argument("--older-than", type=_days, metavar="DAYS",
                           help="only entries unused for more than DAYS days (fractions allowed)")
        args = parser.parse_args(argv)
        if args.command == "doctor":
            return doctor()
        return cache_list() if args.action == "list" else cache_clear(args.older_than)
    if argv and argv[0] in ("-h", "--help"):
        print(_USAGE)
    return _run_native(argv)


if __name__ == "__main__":
    sys.exit(main())
