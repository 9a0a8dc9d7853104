"""PyTorch integration: `tilec.torch.custom_op` registers a Python function that launches tilec
kernels as a PyTorch operator (torch.library.custom_op), so that torch.compile sees one opaque op
instead of tracing into the launch: `torch.compile(fullgraph=True)` compiles the caller without
graph breaks, and the fake implementation gives the compiler the outputs' shapes and dtypes.

    @tilec.torch.custom_op("mylib::rms_norm", mutates_args=(), fake=lambda x, w, eps: torch.empty_like(x))
    def rms_norm(x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
        y = torch.empty_like(x)
        rms_norm_kernel[(x.shape[0],)](x, w, y, x.shape[1], eps, BLOCK=...)
        return y

Launches go to PyTorch's current CUDA stream, so the op also runs inside a captured CUDA graph
(the kernel must be compiled, i.e. the op run once, before capture, as for any lazy JIT).
Needs torch >= 2.4 (torch.library.custom_op). The op has no autograd formula unless you give one
with `op.register_autograd(backward, setup_context=...)` (torch.library's API).
"""
import inspect

import torch as _torch

__all__ = ["custom_op"]


def _returns_none(fn):
    ann = inspect.signature(fn).return_annotation
    return ann is None or ann is type(None)


def custom_op(name, fn=None, *, mutates_args, fake=None, device_types=None, schema=None):
    """torch.library.custom_op(name, mutates_args=..., device_types=..., schema=...) plus the fake
    (meta) implementation in the same call. `name` is "namespace::op_name". The function must
    annotate its parameters and return type (torch.library derives the schema from them).
    `fake(*args)` returns empty tensors of the outputs' shapes, dtypes and devices; it may be left
    out only for an op that returns None (it then does nothing). Usable as a decorator
    (`@custom_op(name, mutates_args=...)`) or called with the function. Returns the registered op
    (a torch.library.CustomOpDef: call it like the function; `.register_autograd` adds a backward)."""
    if not hasattr(_torch, "library") or not hasattr(_torch.library, "custom_op"):
        raise RuntimeError(f"tilec.torch.custom_op needs torch >= 2.4 (torch.library.custom_op); this is torch {_torch.__version__}")
    if not isinstance(name, str) or "::" not in name:
        raise ValueError(f"custom_op name must be 'namespace::op_name', got {name!r}")

    def register(f):
        if fake is None and not _returns_none(f):
            raise TypeError(f"custom_op '{name}': pass fake= (a function returning empty tensors of the outputs' "
                            "shapes and dtypes) so that torch.compile can propagate shapes; only an op that "
                            "returns None may leave it out")
        op = _torch.library.custom_op(name, f, mutates_args=mutates_args, device_types=device_types, schema=schema)
        op.register_fake(fake if fake is not None else (lambda *args, **kwargs: None))
        return op

    return register if fn is None else register(fn)
