"""@tilec.jit: hands a kernel's source text to the C++ compiler and returns a launchable object.
Binding, specialization, caching and launching all happen in tilec._C (see python/bindings.cpp).
Nothing here imports inspect: a warm start pays every import, and code objects tell what is needed."""
import linecache
import os

from . import _C, _environment
from .language import constexpr

_INCLUDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")
if os.path.isdir(os.path.join(_INCLUDE, "runtime", "cpu")):
    _C.set_runtime_include_dir(_INCLUDE)
_C.set_nvrtc_search_dirs(_environment.nvrtc_search_paths())


def _is_constexpr_annotation(annotation):
    # Also triton.language.constexpr: kernels written for Triton keep their annotations.
    if annotation is constexpr or getattr(annotation, "__name__", None) == "constexpr":
        return True
    return isinstance(annotation, str) and annotation.split(".")[-1].strip() == "constexpr"


def _source_path(fn):
    # co_filename is the path the module was loaded from, as inspect.getsourcefile finds it for
    # modules loaded from source (the only ones whose text tilec can read).
    return fn.__code__.co_filename


def _module_text(fn):
    """The whole text of the file defining fn (for helpers and real line numbers); for functions
    without a file (exec, notebooks) their own source, padded so that line numbers still match."""
    path = _source_path(fn)
    lines = linecache.getlines(path, fn.__globals__)
    if lines:
        return path, "".join(lines)
    import inspect  # only for sources linecache cannot read (functions defined by exec in a notebook)
    source = inspect.getsource(fn)
    return path, "\n" * (fn.__code__.co_firstlineno - 1) + source


_CO_VARARGS, _CO_VARKEYWORDS = 0x04, 0x08  # inspect.CO_VARARGS, inspect.CO_VARKEYWORDS


def _parameters(fn):
    """fn's parameter names, constexpr flags and defaults (None where has_default is False), read
    from its code object as inspect.signature would (following functools.wraps' __wrapped__); only
    plain positional parameters are allowed."""
    while hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    code = fn.__code__
    n = code.co_argcount
    extra = code.co_varnames[n:n + code.co_kwonlyargcount + bool(code.co_flags & _CO_VARARGS) +
                             bool(code.co_flags & _CO_VARKEYWORDS)]
    if extra:
        raise TypeError(f"{fn.__name__}: kernel parameters must be plain positional parameters, not {extra[0]!r} "
                        f"(*args, keyword-only parameters and **kwargs are not supported)")
    names = list(code.co_varnames[:n])
    annotations = getattr(fn, "__annotations__", {})
    flags = [_is_constexpr_annotation(annotations.get(name)) for name in names]
    given = fn.__defaults__ or ()
    has_default = [i >= n - len(given) for i in range(n)]
    defaults = [given[i - (n - len(given))] if d else None for i, d in enumerate(has_default)]
    return names, flags, has_default, defaults


def _imported_helper_files(fn, path):
    """{file: a JITFunction defined there} for the @jit helpers that fn's code (and, transitively,
    the helpers' code) reaches through names bound in other files (`from .utils import helper`)."""
    found, seen = {}, set()
    todo = [fn]
    while todo:
        f = todo.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        for name in f.__code__.co_names:
            obj = f.__globals__.get(name)
            if not isinstance(obj, JITFunction):
                continue
            todo.append(obj.fn)
            helper_path = _source_path(obj.fn)
            if helper_path != path:
                found.setdefault(helper_path, obj)
    return found


class JITFunction(_C.KernelBase):
    """A kernel: index it with a grid and call it, `kernel[grid](*args, **constexprs)`; `launch =
    kernel[grid]` is a reusable launcher. `kernel[grid]`, `run(*args, grid=, ...)` and
    `warmup(*args, grid=(1,), ...)` are implemented by _C.KernelBase, in C++, for cheap launches.
    do_not_specialize: names or indices of integer arguments that are not specialized on being
    1 or divisible by 16 (one compiled kernel for all their values); debug: bounds-check every
    load, store and atomic (as TILEC_DEBUG=1 does for every kernel)."""

    def __init__(self, fn, do_not_specialize=(), debug=False):
        self.fn = fn
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__
        self.__module__ = fn.__module__
        names, flags, has_default, defaults = _parameters(fn)
        path, text = _module_text(fn)
        # The autotuner's cache key (autotuner.py): the text the kernel and its helpers come from.
        self._source_text = text
        no_specialize = [False] * len(names)
        for d in do_not_specialize:
            i = d if isinstance(d, int) else names.index(d) if d in names else -1
            if not 0 <= i < len(names):
                raise ValueError(f"{fn.__name__}: do_not_specialize names {d!r}, which is not a parameter")
            no_specialize[i] = True
        self.arg_names = names
        imported = [(p, _module_text(f.fn)[1]) for p, f in _imported_helper_files(fn, path).items()]
        self._source_text += "".join(t for _, t in imported)
        self._kernel = _C.JitKernel(path, text, fn.__name__, names, flags, defaults, has_default, no_specialize,
                                    imported, bool(debug))
        self._attach(self._kernel)

    @property
    def src(self):
        """The kernel's own source text (as Triton's JITFunction.src); read on first use, since
        inspect.getsource tokenizes the whole module (~15 ms, most of a warm start)."""
        import inspect
        return inspect.getsource(self.fn)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            f"{self.__name__} is a @tilec.jit kernel: launch it with a grid, {self.__name__}[grid](...); "
            f"@tilec.jit helpers are only callable from inside kernels")

    def __repr__(self):
        return f"JITFunction({self.fn.__module__}:{self.__name__})"


def jit(fn=None, *, do_not_specialize=(), debug=False, noinline=False, **options):
    """Decorator: @tilec.jit, @tilec.jit(...) or tilec.jit(fn) turns a tile-language function into
    a kernel. debug=True (or TILEC_DEBUG=1) bounds-checks every load, store and atomic; options
    tilec cannot honour (noinline=True, repr=, launch_metadata=, ...) raise, naming the option."""
    if options:
        raise TypeError(f"tilec.jit() does not support the option(s) {', '.join(sorted(options))}")
    if noinline:
        raise ValueError("tilec.jit(noinline=True) is not supported: @jit helpers are always inlined")

    def decorate(f):
        return JITFunction(f, do_not_specialize=do_not_specialize, debug=debug)
    return decorate if fn is None else decorate(fn)


def compile(source, name, signature="", constexprs=None, backend="cpu", arch=90, num_warps=4, num_stages=3,
            path="<string>", debug=None):
    """Compiles kernel `name` from `source` (a Python module's text) for a signature such as
    "x_ptr:*fp32:16,n:i32"; constexprs is a dict; debug=None follows TILEC_DEBUG. Returns a
    CompiledKernel, launchable as ck[grid](*args)."""
    items = [f"{k}={_constexpr_text(v)}" for k, v in (constexprs or {}).items()]
    return _C.compile(source, path, name, signature, items, backend, arch, num_warps, num_stages, debug)


def _constexpr_text(v):
    if hasattr(v, "_tilec_dtype"):
        return v._tilec_dtype
    if isinstance(v, str):
        return repr(v)
    return str(v)
