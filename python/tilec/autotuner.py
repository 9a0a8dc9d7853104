"""tilec.autotune, tilec.heuristics and tilec.Config, with Triton's semantics. Each wraps anything
that has `arg_names`, `run(*args, grid=, **kwargs)` and `warmup(...)` (a JITFunction or another
wrapper), so they stack in any order. Beyond Triton: the winning config of each (kernel source,
key values, argument dtypes, device, tilec version, config list) is stored under
$TILEC_CACHE_DIR/autotune, so a new process does not re-tune (TILEC_AUTOTUNE=retune forces it);
all configs are compiled in parallel before timing; TILEC_LOG=autotune prints each config's time."""
# hashlib, json, concurrent.futures and tilec.testing (NumPy) are imported where they are used:
# a warm start pays `import tilec` in full, and tilec imports this module only when it is used.
import os
import sys

from . import _C


class Config:
    """One candidate: meta-parameters (`kwargs`, constexprs of the kernel) and launch options.
    num_ctas > 1 (thread-block clusters), maxnreg and ir_override are not supported and raise."""

    def __init__(self, kwargs, num_warps=4, num_stages=3, num_ctas=1, maxnreg=None, pre_hook=None, ir_override=None):
        if num_ctas not in (None, 1):
            raise ValueError(f"Config(num_ctas={num_ctas}): thread-block clusters (num_ctas > 1) are not supported by tilec")
        if maxnreg is not None:
            raise ValueError(f"Config(maxnreg={maxnreg}): a register limit is not supported by tilec")
        if ir_override is not None:
            raise ValueError("Config(ir_override=...) is not supported by tilec")
        self.kwargs = dict(kwargs)
        self.num_warps = 4 if num_warps is None else num_warps
        self.num_stages = 3 if num_stages is None else num_stages
        self.num_ctas = 1
        self.maxnreg = None
        self.pre_hook = pre_hook

    def all_kwargs(self):
        return {**self.kwargs, "num_warps": self.num_warps, "num_stages": self.num_stages}

    def __str__(self):
        items = [f"{k}: {v}" for k, v in self.kwargs.items()]
        items += [f"num_warps: {self.num_warps}", f"num_stages: {self.num_stages}"]
        return ", ".join(items)

    def __repr__(self):
        return f"Config({self})"


def _log_enabled():
    return "autotune" in os.environ.get("TILEC_LOG", "").split(",")


def _log(msg):
    if _log_enabled():
        print(f"[tilec autotune] {msg}", file=sys.stderr, flush=True)


def _base_function(fn):
    while not hasattr(fn, "_kernel"):
        fn = fn.fn
    return fn


def _is_cuda(arg):
    if getattr(arg, "is_cuda", False):
        return True
    return hasattr(arg, "__cuda_array_interface__")


def _device_of(args):
    """'cpu', or 'cuda:<device name>' when any argument is a CUDA tensor."""
    for a in args:
        if _is_cuda(a):
            name = "cuda"
            try:
                import torch
                index = a.device.index if hasattr(a, "device") and a.device.index is not None else 0
                name = "cuda:" + torch.cuda.get_device_name(index)
            except (ImportError, AttributeError, RuntimeError):
                pass
            return name
    return "cpu"


def _zero(arg):
    if hasattr(arg, "zero_"):
        arg.zero_()
    else:
        arg[...] = 0


def _snapshot(arg):
    return arg.clone() if hasattr(arg, "clone") else arg.copy()


def _restore(arg, saved):
    if hasattr(arg, "copy_"):
        arg.copy_(saved)
    else:
        arg[...] = saved


class Autotuner:
    """Times every config on the first call for each key and launches the fastest from then on."""

    def __init__(self, fn, arg_names, configs, key, reset_to_zero=None, restore_value=None, prune_configs_by=None,
                 pre_hook=None, post_hook=None, warmup=None, rep=None, use_cuda_graph=False, do_bench=None,
                 cache_results=True):
        if use_cuda_graph:
            raise ValueError("autotune(use_cuda_graph=True) is not supported by tilec; configs are timed with CUDA events")
        if not configs:
            configs = [Config({})]
        self.fn = fn
        self.arg_names = list(arg_names)
        self.configs = list(configs)
        self.keys = [key] if isinstance(key, str) else list(key)
        for name in self.keys + list(reset_to_zero or []) + list(restore_value or []):
            if name not in self.arg_names:
                raise ValueError(f"autotune: '{name}' is not an argument of {_base_function(fn).__name__}()")
        self.reset_to_zero = list(reset_to_zero or [])
        self.restore_value = list(restore_value or [])
        prune = prune_configs_by or {}
        unknown = set(prune) - {"perf_model", "top_k", "early_config_prune"}
        if unknown:
            raise ValueError(f"autotune(prune_configs_by=...) has unknown keys {sorted(unknown)}")
        self.perf_model = prune.get("perf_model")
        self.top_k = prune.get("top_k", 1.0)
        self.early_config_prune = prune.get("early_config_prune")
        self.user_pre_hook = pre_hook
        self.user_post_hook = post_hook
        self.num_warmup = 25 if warmup is None else warmup
        self.num_rep = 100 if rep is None else rep
        self.do_bench = do_bench
        self.cache_results = cache_results
        self.cache = {}
        self.best_config = None
        self.configs_timings = None
        self.nargs = None
        base = _base_function(fn)
        self.__name__ = base.__name__
        self.__doc__ = base.__doc__
        import hashlib
        # The text of the kernel's file and of its helpers' files (read once by JITFunction; the
        # kernel's own source would cost inspect.getsource, which tokenizes the whole module).
        self._source_digest = hashlib.sha256(f"{base.__name__}\0{base._source_text}".encode()).hexdigest()

    def __getitem__(self, grid):
        return lambda *args, **kwargs: self.run(*args, grid=grid, **kwargs)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{self.__name__} is a @tilec.jit kernel: launch it with a grid, {self.__name__}[grid](...)")

    # ---- configs ----

    def prune_configs(self, nargs, kwargs):
        configs = self.configs
        if self.early_config_prune:
            configs = list(self.early_config_prune(configs, nargs, **kwargs))
            if not configs:
                raise ValueError(f"autotune of {self.__name__}: early_config_prune left no configs")
        if self.perf_model:
            top_k = self.top_k
            if isinstance(top_k, float) and top_k <= 1.0:
                top_k = int(len(configs) * top_k)
            top_k = max(1, top_k)
            if len(configs) > top_k:
                est = [(self.perf_model(**nargs, **kwargs, **c.all_kwargs()), i) for i, c in enumerate(configs)]
                configs = [configs[i] for _, i in sorted(est)[:top_k]]
        return configs

    def _key(self, nargs):
        key = [nargs[k] for k in self.keys if k in nargs]
        key += [str(v.dtype) for v in nargs.values() if hasattr(v, "dtype")]
        return tuple(key)

    # ---- persistence ----

    def _disk_path(self, key, device, configs):
        import hashlib
        import json
        material = json.dumps({
            "tilec": _C.__version__, "kernel": self.__name__, "source": self._source_digest, "key": repr(key),
            "device": device, "configs": [str(c) for c in configs],
        }, sort_keys=True)
        digest = hashlib.sha256(material.encode()).hexdigest()[:40]
        return os.path.join(_C.cache_root(), "autotune", f"{self.__name__}-{digest}.json")

    def _load(self, path, configs):
        import json
        if not self.cache_results or os.environ.get("TILEC_AUTOTUNE", "") == "retune":
            return None
        try:
            with open(path) as f:
                entry = json.load(f)
            index = entry["best"]
            if 0 <= index < len(configs) and entry["config"] == str(configs[index]):
                return configs[index]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return None

    def _store(self, path, configs, best, timings):
        import json
        if not self.cache_results:
            return
        entry = {"kernel": self.__name__, "best": configs.index(best), "config": str(best),
                 "timings_ms": {str(c): t for c, t in timings.items()}}
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.tmp.{os.getpid()}"
            with open(tmp, "w") as f:
                json.dump(entry, f, indent=1)
            os.replace(tmp, path)
        except OSError as e:
            _log(f"could not store the result in {path}: {e}")

    # ---- benchmarking ----

    def _check_conflicts(self, kwargs):
        for c in self.configs:
            clash = set(c.kwargs) & set(kwargs)
            if clash:
                raise ValueError(f"Conflicting meta-parameters: {', '.join(sorted(clash))}. Make sure that you don't "
                                 f"re-define auto-tuned symbols.")

    def _compile_all(self, args, grid, kwargs, configs):
        """Compiles every config in parallel (compilation releases the GIL); returns the errors."""
        def build(config):
            try:
                self.fn.warmup(*args, grid=grid, **kwargs, **config.all_kwargs())
                return None
            except _C.CompileError as e:
                return e
        import concurrent.futures
        workers = max(1, min(len(configs), os.cpu_count() or 1))
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            return dict(zip(configs, pool.map(build, configs)))

    def _bench(self, args, grid, kwargs, nargs, config, device):
        full = {**nargs, **config.all_kwargs()}

        def kernel_call():
            if config.pre_hook:
                config.pre_hook(full)
            for name in self.reset_to_zero:
                _zero(nargs[name])
            if self.user_pre_hook:
                self.user_pre_hook(full)
            self.fn.run(*args, grid=grid, **kwargs, **config.all_kwargs())
            if self.user_post_hook:
                self.user_post_hook(full, None)

        if self.do_bench is not None:
            return self.do_bench(kernel_call, quantiles=(0.5, 0.2, 0.8))
        from . import testing
        return testing.do_bench(kernel_call, warmup=self.num_warmup, rep=self.num_rep, quantiles=(0.5, 0.2, 0.8),
                                device="cuda" if device.startswith("cuda") else "cpu")

    def _tune(self, args, grid, kwargs, nargs, configs, device):
        errors = self._compile_all(args, grid, kwargs, configs)
        saved = {name: _snapshot(nargs[name]) for name in self.restore_value}
        timings = {}
        try:
            for config in configs:
                if errors[config] is not None:
                    _log(f"{self.__name__}: {config}: does not compile: {str(errors[config]).splitlines()[0]}")
                    timings[config] = [float("inf")] * 3
                    continue
                timings[config] = self._bench(args, grid, kwargs, nargs, config, device)
                for name, value in saved.items():
                    _restore(nargs[name], value)
                _log(f"{self.__name__}: {config}: {timings[config][0]:.4f} ms")
        finally:
            for name, value in saved.items():
                _restore(nargs[name], value)
            for name in self.reset_to_zero:  # the real launch starts from zeros, as each timing run did
                _zero(nargs[name])
        best = min(configs, key=lambda c: timings[c][0])
        if timings[best][0] == float("inf"):
            raise errors[configs[0]]
        return best, timings

    # ---- launching ----

    def run(self, *args, grid, **kwargs):
        self._check_conflicts(kwargs)
        nargs = dict(zip(self.arg_names, args))
        nargs.update({k: v for k, v in kwargs.items() if k in self.arg_names})
        self.nargs = nargs
        if len(self.configs) > 1:
            key = self._key(nargs)
            if key not in self.cache:
                configs = self.prune_configs(nargs, kwargs)
                device = _device_of(nargs.values())
                best = configs[0]
                if len(configs) > 1:
                    path = self._disk_path(key, device, configs)
                    best = self._load(path, configs)
                    if best is not None:
                        _log(f"{self.__name__}: {best} (stored result, {path})")
                    else:
                        best, timings = self._tune(args, grid, kwargs, nargs, configs, device)
                        self.configs_timings = timings
                        self._store(path, configs, best, {c: t[0] for c, t in timings.items()})
                        _log(f"{self.__name__}: best {best}")
                self.cache[key] = best
            config = self.cache[key]
        else:
            config = self.configs[0]
        self.best_config = config
        if config.pre_hook:
            config.pre_hook({**nargs, **config.all_kwargs()})
        return self.fn.run(*args, grid=grid, **kwargs, **config.all_kwargs())

    def warmup(self, *args, **kwargs):
        """Compiles every (pruned) config for these arguments; returns their CompiledKernels."""
        self._check_conflicts(kwargs)
        nargs = dict(zip(self.arg_names, args))
        return [self.fn.warmup(*args, **kwargs, **c.all_kwargs()) for c in self.prune_configs(nargs, kwargs)]


def autotune(configs, key, prune_configs_by=None, reset_to_zero=None, restore_value=None, pre_hook=None,
             post_hook=None, warmup=None, rep=None, use_cuda_graph=False, do_bench=None, cache_results=True):
    """Decorator: @tilec.autotune(configs=[tilec.Config({...}, num_warps=4), ...], key=["n"]) above
    @tilec.jit. The kernel is re-tuned whenever the values of the `key` arguments (or argument
    dtypes) change; reset_to_zero / restore_value name in-place outputs that timing runs must not
    corrupt. cache_results=False keeps the winner in this process only."""
    def decorator(fn):
        return Autotuner(fn, fn.arg_names, configs, key, reset_to_zero, restore_value, prune_configs_by, pre_hook,
                         post_hook, warmup, rep, use_cuda_graph, do_bench, cache_results)
    return decorator


class Heuristics:
    """Computes meta-parameters from the arguments before each launch."""

    def __init__(self, fn, arg_names, values):
        self.fn = fn
        self.arg_names = list(arg_names)
        self.values = dict(values)
        base = _base_function(fn)
        self.__name__ = base.__name__
        self.__doc__ = base.__doc__

    def _apply(self, args, kwargs):
        for name, heur in self.values.items():
            kwargs[name] = heur({**dict(zip(self.arg_names, args)), **kwargs})
        return kwargs

    def run(self, *args, **kwargs):
        return self.fn.run(*args, **self._apply(args, kwargs))

    def warmup(self, *args, **kwargs):
        return self.fn.warmup(*args, **self._apply(args, kwargs))

    def __getitem__(self, grid):
        return lambda *args, **kwargs: self.run(*args, grid=grid, **kwargs)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{self.__name__} is a @tilec.jit kernel: launch it with a grid, {self.__name__}[grid](...)")


def heuristics(values):
    """Decorator: @tilec.heuristics({"BLOCK": lambda args: tilec.next_power_of_2(args["n"])});
    each function receives a dict of the call's arguments (and the meta-parameters given so far)."""
    def decorator(fn):
        return Heuristics(fn, fn.arg_names, values)
    return decorator
