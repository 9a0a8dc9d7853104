"""tilec: a JIT compiler for Triton-style tile kernels, with CUDA and CPU backends.

    import tilec
    import tilec.language as tl

    @tilec.jit
    def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
        ...

    add_kernel[(tilec.cdiv(n, 1024),)](x, y, out, n, BLOCK=1024)

`import tilec as triton` works for code written for Triton: triton.jit, triton.autotune,
triton.heuristics, triton.Config, triton.cdiv, triton.next_power_of_2, triton.reinterpret, triton.language,
triton.testing.
"""
from . import language
from ._C import CompileError, CompiledKernel
from .jit import JITFunction, compile, jit
from .tensor_wrapper import TensorWrapper, reinterpret

__version__ = "0.1.0"
constexpr = language.constexpr


def cdiv(x, div):
    """Ceiling division of Python ints, for grids."""
    return (x + div - 1) // div


def set_allocator(allocator):
    """triton.set_allocator: Triton calls the allocator for the global scratch memory of device-side
    TMA descriptors. tilec's tensor descriptors are plain bounds-checked loads and stores that need
    no scratch memory, so the allocator is kept (tilec.get_allocator()) but never called."""
    global _allocator
    _allocator = allocator


def get_allocator():
    return _allocator


_allocator = None


def next_power_of_2(n):
    """The smallest power of two >= n (1 for n <= 1)."""
    return 1 if n <= 1 else 1 << (int(n) - 1).bit_length()


_AUTOTUNER_NAMES = ("autotune", "heuristics", "Config", "Autotuner", "Heuristics")


def __getattr__(name):
    # tilec.testing (NumPy), runtime, tools and the autotuner are imported on first use: every
    # warm start pays for `import tilec`, and most programs never tune.
    import importlib  # not `from . import`, which asks this function for the name again
    if name in ("testing", "runtime", "tools"):
        return importlib.import_module(f"{__name__}.{name}")
    if name in _AUTOTUNER_NAMES:
        value = getattr(importlib.import_module(f"{__name__}.autotuner"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tilec' has no attribute {name!r}")


__all__ = ["jit", "compile", "JITFunction", "CompileError", "CompiledKernel", "cdiv", "next_power_of_2", "constexpr",
           "language", "runtime", "testing", "autotune", "heuristics", "Config", "Autotuner", "Heuristics",
           "reinterpret", "TensorWrapper",
           "set_allocator", "get_allocator", "tools"]
