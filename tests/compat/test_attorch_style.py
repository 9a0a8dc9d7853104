"""Kernels in the style of attorch: activations chosen by a constexpr string and applied by one
@jit helper, libdevice/tl.math spellings (tanh, log1p, pow, erf), dtype introspection
(`x.dtype.is_fp16()`, `ptr.dtype.element_ty`, `.primitive_bitwidth`), an autotuned
elementwise kernel keyed on size, and a None-able residual input."""
import numpy as np
import pytest

import tilec as triton
import tilec.language as tl
from tilec.language.extra.cuda import libdevice
from compat_check import close, retune, rng  # noqa: F401 (fixtures)


def element_wise_kernel_configs(block_name="BLOCK_SIZE"):
    return [triton.Config({block_name: 64}, num_warps=2), triton.Config({block_name: 128}, num_warps=4),
            triton.Config({block_name: 256}, num_warps=4)]


@triton.jit
def softplus(input):
    return tl.log(1 + tl.exp(input))


@triton.jit
def apply_act_func(input, drop_p, seed, offset, param, act_func: tl.constexpr, dropout: tl.constexpr):
    if act_func == "sigmoid":
        input = input.to(tl.float32)
        output = tl.sigmoid(input)
    elif act_func == "tanh":
        input = input.to(tl.float32)
        output = libdevice.tanh(input)
    elif act_func == "relu":
        output = tl.maximum(0, input)
    elif act_func == "gelu":
        input = input.to(tl.float32)
        output = 0.5 * input * (1 + tl.math.erf(input * 0.7071067811865476))
    elif act_func == "silu":
        input = input.to(tl.float32)
        output = input * tl.sigmoid(input)
    elif act_func == "softplus":
        input = input.to(tl.float32)
        output = libdevice.log1p(tl.exp(-tl.abs(input))) + tl.maximum(input, 0)
    elif act_func == "mish":
        input = input.to(tl.float32)
        output = input * libdevice.tanh(softplus(input))
    elif act_func == "leaky_relu":
        output = tl.where(input > 0, input, param * input)
    elif act_func == "hardswish":
        output = input * tl.clamp(input + 3, 0, 6) / 6
    elif act_func == "squared_relu":
        output = libdevice.pow(tl.maximum(0.0, input.to(tl.float32)), 2.0)
    if dropout:
        keep = tl.rand(seed, offset) > drop_p
        output = tl.where(keep, output / (1 - drop_p), 0.0)
    return output


@triton.autotune(configs=element_wise_kernel_configs(), key=["size"], warmup=1, rep=2)
@triton.jit
def act_func_forward_kernel(input_pointer, output_pointer, residual_pointer, size, drop_p, seed, param,
                            act_func: tl.constexpr, dropout: tl.constexpr, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(axis=0)
    offset = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offset < size
    input = tl.load(input_pointer + offset, mask=mask)
    output = apply_act_func(input, drop_p, seed, offset, param, act_func, dropout)
    if residual_pointer is not None:
        output += tl.load(residual_pointer + offset, mask=mask)
    if output_pointer.dtype.element_ty.is_fp16():
        output = output.to(tl.float16)
    tl.store(output_pointer + offset, output, mask=mask)


def act_ref(name, x, param):
    x = x.astype(np.float64)
    return {
        "sigmoid": lambda: 1 / (1 + np.exp(-x)), "tanh": lambda: np.tanh(x), "relu": lambda: np.maximum(0, x),
        "gelu": lambda: 0.5 * x * (1 + np.vectorize(__import__("math").erf)(x / np.sqrt(2))),
        "silu": lambda: x / (1 + np.exp(-x)), "softplus": lambda: np.log1p(np.exp(x)),
        "mish": lambda: x * np.tanh(np.log1p(np.exp(x))), "leaky_relu": lambda: np.where(x > 0, x, param * x),
        "hardswish": lambda: x * np.clip(x + 3, 0, 6) / 6, "squared_relu": lambda: np.maximum(0, x) ** 2,
    }[name]()


ACTS = ["sigmoid", "tanh", "relu", "gelu", "silu", "softplus", "mish", "leaky_relu", "hardswish", "squared_relu"]


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_activations(rng, act, dtype):
    n = 700
    x = rng.uniform(-4, 4, n).astype(dtype)
    res = rng.standard_normal(n).astype(dtype) if act in ("relu", "gelu") else None
    out = np.empty_like(x)
    act_func_forward_kernel[lambda m: (triton.cdiv(n, m["BLOCK_SIZE"]),)](x, out, res, n, 0.0, 0, 0.1, act_func=act,
                                                                          dropout=False)
    ref = act_ref(act, x, 0.1) + (res.astype(np.float64) if res is not None else 0)
    close(out, ref, 1e-5 if dtype == "float32" else 4e-3)


def test_activation_dropout(rng):
    n = 4096
    x = rng.uniform(0.5, 1, n).astype(np.float32)
    out = np.empty_like(x)
    act_func_forward_kernel[lambda m: (triton.cdiv(n, m["BLOCK_SIZE"]),)](x, out, None, n, 0.25, 7, 0.0,
                                                                          act_func="relu", dropout=True)
    kept = out != 0
    assert 0.7 < kept.mean() < 0.8
    close(out[kept], x[kept] / 0.75, 1e-6)


@triton.jit
def dtype_probe_kernel(x_ptr, out_ptr, BLOCK: tl.constexpr):
    x = tl.load(x_ptr + tl.arange(0, BLOCK))
    ety = x_ptr.dtype.element_ty
    code = 0
    if ety.is_floating():
        code += 1
    if ety.is_fp16():
        code += 2
    if ety.is_int64():
        code += 4
    if x.dtype.is_int_signed():
        code += 8
    if ety.is_bf16() or ety.is_fp64():
        code += 16
    if x_ptr.type.element_ty == x.type.element_ty:
        code += 32
    if x_ptr.dtype.is_ptr() and not ety.is_ptr():
        code += 64
    tl.store(out_ptr + tl.arange(0, BLOCK), x.to(tl.int64) * 0 + code * 1000 + ety.primitive_bitwidth)


@pytest.mark.parametrize("dtype,code", [("float32", 1 + 32 + 64), ("float16", 1 + 2 + 32 + 64), ("int64", 4 + 8 + 32 + 64),
                                        ("uint8", 32 + 64), ("float64", 1 + 16 + 32 + 64)])
def test_dtype_introspection(dtype, code):
    x = np.ones(8, dtype)
    out = np.zeros(8, np.int64)
    dtype_probe_kernel[(1,)](x, out, BLOCK=8)
    assert (out == code * 1000 + np.dtype(dtype).itemsize * 8).all()
