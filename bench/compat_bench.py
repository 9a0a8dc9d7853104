"""The compatibility suite's kernels (tests/compat) timed with tilec and with Triton: gpu_bench.py's
`compat` group. The same kernel source goes to both compilers, as the suite's premise is an import
swap: each test module is loaded once as written (`import tilec as triton`) and once with `tilec`
replaced by `triton` in its text (helpers imported from compat_helpers.py likewise).

Launch arguments come from the tests themselves: pytest runs tests/compat with every module-level
kernel replaced by a recorder, which keeps the first launch of each kernel (grid, arguments,
keywords; NumPy arrays copied) and does not run it. Each recorded launch is replayed on CUDA
tensors (fresh copies per compiler), checked once against the other compiler's outputs, and timed.
Sizes are the tests' own (small), so the ratios include launch overhead.

    PYTHONPATH=build/python python3 bench/compat_bench.py --list      # the recorded launches (CPU only)
    PYTHONPATH=build/python python3 bench/compat_bench.py --dry-run   # each launch once, both compilers, CPU

TILEC_COMPAT_ONLY=name,name,... keeps the launches whose `file::kernel` label contains one of the
names (to time a few kernels again without the whole group, e.g. with gpu_bench.py --only compat).
"""
import argparse
import importlib.util
import os
import re
import sys
import tempfile

import numpy as np

COMPAT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "compat")
TARGET = 1.1  # issue #9: each compat kernel within 1.1x of Triton's time


class Launch:
    """One recorded kernel launch: kernel[grid](*args, **kwargs)."""

    def __init__(self, module, name, kernel, grid, args, kwargs):
        self.module, self.name, self.kernel = module, name, kernel
        self.grid, self.args, self.kwargs = grid, args, kwargs

    @property
    def label(self):
        return f"{self.module}::{self.name}"


def _snapshot(v):
    return v.copy() if isinstance(v, np.ndarray) else v


class _Recorder:
    """Stands in for a module-level kernel during capture: kernel[grid](...) records the launch."""

    def __init__(self, kernel, module, name, store):
        self._kernel, self._module, self._name, self._store = kernel, module, name, store

    def __getitem__(self, grid):
        def launch(*args, **kwargs):
            key = (self._module, self._name)
            if key not in self._store:
                self._store[key] = Launch(self._module, self._name, self._kernel, grid, [_snapshot(a) for a in args],
                                          {k: _snapshot(v) for k, v in kwargs.items()})
        return launch

    def __getattr__(self, attr):
        return getattr(self._kernel, attr)


def _is_kernel(obj):
    import tilec
    return isinstance(obj, (tilec.JITFunction, tilec.Autotuner, tilec.Heuristics))


class _CapturePlugin:
    def __init__(self, store):
        self.store = store
        self.replaced = []  # (module, name, kernel): put back after the run, as modules may be shared

    def pytest_collection_modifyitems(self, session, config, items):
        seen = set()
        for item in items:
            mod = getattr(item, "module", None)
            if mod is None or mod.__name__ in seen:
                continue
            seen.add(mod.__name__)
            for name, obj in list(vars(mod).items()):
                if _is_kernel(obj):
                    self.replaced.append((mod, name, obj))
                    setattr(mod, name, _Recorder(obj, os.path.basename(mod.__file__), name, self.store))

    def restore(self):
        for mod, name, obj in self.replaced:
            setattr(mod, name, obj)


def capture(compat_dir=COMPAT_DIR):
    """Runs the suite's tests with recording kernels; returns the first launch of each kernel."""
    import pytest
    store = {}
    plugin = _CapturePlugin(store)
    with open(os.devnull, "w") as devnull:
        saved = sys.stdout
        sys.stdout = devnull  # the tests fail (nothing ran); their report is noise here
        try:
            code = pytest.main([compat_dir, "-q", "--tb=no", "-p", "no:cacheprovider", "-W", "ignore"], plugins=[plugin])
        finally:
            sys.stdout = saved
            plugin.restore()
    # Tests fail (nothing ran), which is expected; an internal or usage error means no capture.
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise RuntimeError(f"recording the compat suite's launches failed: pytest exited {code!r}")
    return list(store.values())


def _triton_text(text):
    text = re.sub(r"\bcompat_helpers\b", "compat_helpers_triton", text)
    return re.sub(r"\btilec\b", "triton", text)


def load_triton_modules(compat_dir=COMPAT_DIR):
    """Each test module (and compat_helpers) with Triton's names, keyed by its file name."""
    tmp = tempfile.mkdtemp(prefix="compat-triton-")
    files = sorted(f for f in os.listdir(compat_dir) if f.endswith(".py"))
    for f in files:
        with open(os.path.join(compat_dir, f)) as src:
            text = _triton_text(src.read())
        out = "compat_helpers_triton.py" if f == "compat_helpers.py" else f
        with open(os.path.join(tmp, out), "w") as dst:
            dst.write(text)
    sys.path.insert(0, tmp)
    if compat_dir not in sys.path:
        sys.path.append(compat_dir)  # compat_check (fixtures, no kernels) comes from the suite itself
    modules, errors = {}, {}
    for f in files:
        if not f.startswith("test_"):
            continue
        try:
            spec = importlib.util.spec_from_file_location(f"triton_{f[:-3]}", os.path.join(tmp, f))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            modules[f] = mod
        except Exception as e:  # noqa: BLE001 (reported per kernel as a Triton FAIL)
            errors[f] = f"{type(e).__name__}: {e}"
    return modules, errors


def _to_device(v, torch, tl_map, device):
    from tilec.tensor_wrapper import TensorWrapper
    if isinstance(v, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(v).copy()).to(device)
    if isinstance(v, TensorWrapper):
        # tilec.reinterpret(array, tl.float8e4nv): the bytes go to the device, re-wrapped by the
        # compiler's own reinterpret (triton.reinterpret for Triton).
        base = _to_device(v.base, torch, tl_map, device)
        if tl_map(v.dtype) is v.dtype:
            import tilec
            return tilec.reinterpret(base, v.dtype)
        import triton
        return triton.reinterpret(base, tl_map(v.dtype))
    if isinstance(v, (list, tuple)) and any(isinstance(x, (np.ndarray, TensorWrapper)) for x in v):
        return type(v)(_to_device(x, torch, tl_map, device) for x in v)
    return tl_map(v)


def _dtype_mapper(compiler):
    """tilec.language dtypes passed as constexprs become the other compiler's objects."""
    import tilec.language as tcl
    if compiler == "tilec":
        return lambda v: v
    import triton.language as trl
    return lambda v: getattr(trl, v.name) if isinstance(v, tcl.dtype) else v


def _outputs_differ(a, b):
    """Index of the first array argument whose contents differ between the two runs, or None."""
    for i, (x, y) in enumerate(zip(a, b)):
        if not hasattr(x, "cpu"):
            continue
        x = x.cpu().numpy().astype(np.float64)
        y = y.cpu().numpy().astype(np.float64)
        if x.shape != y.shape or not np.allclose(x, y, rtol=1e-3, atol=1e-3, equal_nan=True):
            return i
    return None


def bench_compat(b, torch, device="cuda"):
    """gpu_bench's `compat` group: one row per compiler per kernel (time, lower is better)."""
    launches = capture()
    only = [n for n in os.environ.get("TILEC_COMPAT_ONLY", "").split(",") if n]
    if only:
        launches = [ln for ln in launches if any(n in ln.label for n in only)]
    print(f"  recorded {len(launches)} kernel launches from {COMPAT_DIR}", flush=True)
    tr_modules, tr_errors = load_triton_modules()
    try:
        import triton
        # In-kernel tensor descriptors need scratch memory, which Triton asks the caller for.
        triton.set_allocator(lambda size, alignment, stream: torch.empty(size, device=device, dtype=torch.int8))
    except ImportError:
        pass
    for ln in launches:
        tc_kernel = ln.kernel
        tr_mod = tr_modules.get(ln.module)
        tr_kernel = getattr(tr_mod, ln.name, None) if tr_mod else None
        outs = {}
        for impl, kernel, missing in (("tilec", tc_kernel, ""),
                                      ("triton", tr_kernel, tr_errors.get(ln.module, "not found in the swapped module"))):
            bench = f"compat {ln.label}"
            if kernel is None:
                b.fail(bench, impl, "test launch", missing, "ms")
                continue
            try:
                dmap = _dtype_mapper(impl)
                args = [_to_device(a, torch, dmap, device) for a in ln.args]
                kwargs = {k: _to_device(v, torch, dmap, device) for k, v in ln.kwargs.items()}
            except Exception as e:  # noqa: BLE001 (one kernel's arguments never stop the group)
                b.fail(bench, impl, "test launch", f"arguments to CUDA: {type(e).__name__}: {e}", "ms")
                continue

            def launch(kernel=kernel, grid=ln.grid, args=args, kwargs=kwargs):
                kernel[grid](*args, **kwargs)
            row = b.run(bench, impl, "test launch", launch, None, None, 0, None, "ms")
            if "ms" in row:
                row["value"], row["value_lo"], row["value_hi"] = row["ms"], row["ms_p20"], row["ms_p80"]
                row["lower_is_better"] = True
                outs[impl] = (row, args)
        if len(outs) == 2:
            # Timing reran both launches; in-place kernels may drift, so this is a hint, not a FAIL.
            try:
                i = _outputs_differ(outs["tilec"][1], outs["triton"][1])
            except Exception as e:  # noqa: BLE001
                i = f"? ({type(e).__name__}: {e})"
            if i is not None:
                outs["tilec"][0]["config"] += f" (argument {i} differs from Triton's after timing)"


def compat_summary(rows):
    """Markdown lines: per kernel tilec / Triton time, and the kernels that miss the 1.1x target."""
    by_bench = {}
    for r in rows:
        if r["bench"].startswith("compat "):
            by_bench.setdefault(r["bench"], {})[r["impl"]] = r
    if not by_bench:
        return []
    lines = ["", f"## Compat kernels: tilec time / Triton time (target <= {TARGET}x)", "",
             "| kernel | tilec ms | Triton ms | ratio |", "|---|---|---|---|"]
    misses = []
    for bench, impls in by_bench.items():
        t, tr = impls.get("tilec"), impls.get("triton")
        cell = [("FAIL: " + r.get("error", "?")[:120]) if r and "ms" not in r else (f"{r['ms']:.4f}" if r else "n/a") for r in (t, tr)]
        ratio = "-"
        if t and tr and "ms" in t and "ms" in tr and tr["ms"] > 0:
            q = t["ms"] / tr["ms"]
            ratio = f"{q:.2f}x"
            if q > TARGET:
                misses.append(f"{bench[7:]} ({q:.2f}x)")
        elif t and "ms" not in t:
            misses.append(f"{bench[7:]} (tilec FAIL)")
        lines.append(f"| {bench[7:]} | {cell[0]} | {cell[1]} | {ratio} |")
    lines += ["", f"Missing the {TARGET}x target ({len(misses)} of {len(by_bench)}): " + (", ".join(misses) if misses else "none")]
    return lines


class _DryBench:
    """Bench's interface for --dry-run: each launch runs once, untimed."""

    def __init__(self):
        self.rows = []

    def run(self, bench, impl, config, launch, result, ref, tol, work, unit):
        row = {"bench": bench, "impl": impl, "config": config, "unit": unit}
        self.rows.append(row)
        try:
            launch()
            row["ms"] = row["ms_p20"] = row["ms_p80"] = 0.0
        except Exception as e:  # noqa: BLE001
            row["error"] = f"{type(e).__name__}: {e}".strip().splitlines()[0]
        return row

    def fail(self, bench, impl, config, msg, unit=""):
        self.rows.append({"bench": bench, "impl": impl, "config": config, "unit": unit, "error": msg})


def dry_run():
    """The compat group without a GPU: every recorded launch once, tilec on the CPU backend and
    Triton in its interpreter (TRITON_INTERPRET=1), on CPU tensors; prints FAIL rows."""
    os.environ["TRITON_INTERPRET"] = "1"
    import torch
    b = _DryBench()
    bench_compat(b, torch, device="cpu")
    failed = [r for r in b.rows if "error" in r]
    for r in failed:
        print(f"FAIL {r['bench'][7:]} [{r['impl']}]: {r['error'][:200]}")
    for r in b.rows:
        if "differs" in r["config"]:
            print(f"DIFFERS {r['bench'][7:]}: {r['config']}")
    print(f"{len(b.rows) - len(failed)} of {len(b.rows)} launches ran")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true", help="record the suite's launches on the CPU and list them (no GPU)")
    ap.add_argument("--dry-run", action="store_true",
                    help="run each recorded launch once with tilec (CPU backend) and Triton's interpreter, untimed (no GPU)")
    args = ap.parse_args()
    if args.dry_run:
        dry_run()
    elif args.list:
        launches = capture()
        for ln in launches:
            shapes = ", ".join(f"{a.dtype}{list(a.shape)}" if isinstance(a, np.ndarray) else repr(a)[:24] for a in ln.args)
            print(f"{ln.label}: grid={ln.grid if not callable(ln.grid) else 'lambda'} ({shapes}) {sorted(ln.kwargs)}")
        print(f"{len(launches)} kernels recorded")
        _, errors = load_triton_modules() if importlib.util.find_spec("triton") else ({}, {})
        for f, e in errors.items():
            print(f"Triton cannot load {f}: {e}")
    else:
        ap.print_help()


if __name__ == "__main__":
    main()
