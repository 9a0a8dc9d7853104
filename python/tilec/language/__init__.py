"""The tile language's names, so that `import tilec.language as tl` works in editors and at import
time. Kernels are compiled from their source text by the C++ compiler; these Python objects are
never executed inside a kernel, and calling an operation outside one raises a clear error."""
import enum


class constexpr:
    """Marks a compile-time parameter (`BLOCK: tl.constexpr`); `tl.constexpr(v)` wraps a value
    (module-level `NAME = tl.constexpr(128)` globals can be read inside kernels)."""

    _tilec_constexpr = True

    def __init__(self, value):
        self.value = value.value if isinstance(value, constexpr) else value

    def __repr__(self):
        return f"constexpr[{self.value!r}]"

    def __index__(self):
        return self.value.__index__()

    def __int__(self):
        return int(self.value)

    def __bool__(self):
        return bool(self.value)

    def __eq__(self, other):
        return self.value == (other.value if isinstance(other, constexpr) else other)

    def __hash__(self):
        return hash(self.value)


class dtype:
    """A scalar type of the language, e.g. tl.float32."""

    def __init__(self, name, tilec_name, bits):
        self.name = name
        self._tilec_dtype = tilec_name
        self.primitive_bitwidth = bits

    def __repr__(self):
        return f"tl.{self.name}"

    def __str__(self):
        return self.name

    def __eq__(self, other):
        return isinstance(other, dtype) and other._tilec_dtype == self._tilec_dtype

    def __hash__(self):
        return hash(self._tilec_dtype)

    def is_floating(self):
        return self._tilec_dtype.startswith(("fp", "bf"))

    def is_fp8(self):
        return self._tilec_dtype.startswith("fp8")

    def is_int(self):
        return not self.is_floating()

    def is_int_signed(self):
        return self._tilec_dtype.startswith("i") and self._tilec_dtype != "i1"

    def is_int_unsigned(self):
        return self._tilec_dtype.startswith("u")

    def is_bool(self):
        return self._tilec_dtype == "i1"


class pointer_type:
    """The type of a pointer to `element_ty` (for annotations; kernels see their own types)."""

    def __init__(self, element_ty):
        self.element_ty = element_ty

    def __repr__(self):
        return f"pointer<{self.element_ty!r}>"


class tensor:
    """The type of values inside kernels; only usable in annotations and isinstance-free code."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("tl.tensor values only exist inside @tilec.jit kernels")


class PropagateNan(enum.Enum):
    """tl.maximum/minimum/clamp(propagate_nan=...): NONE is what tilec implements."""
    NONE = 0
    ALL = 0xFFFF


int1 = dtype("int1", "i1", 1)
int8 = dtype("int8", "i8", 8)
int16 = dtype("int16", "i16", 16)
int32 = dtype("int32", "i32", 32)
int64 = dtype("int64", "i64", 64)
uint8 = dtype("uint8", "u8", 8)
uint16 = dtype("uint16", "u16", 16)
uint32 = dtype("uint32", "u32", 32)
uint64 = dtype("uint64", "u64", 64)
float16 = dtype("float16", "fp16", 16)
bfloat16 = dtype("bfloat16", "bf16", 16)
float32 = dtype("float32", "fp32", 32)
float64 = dtype("float64", "fp64", 64)
float8e5 = dtype("float8e5", "fp8e5", 8)
float8e4nv = dtype("float8e4nv", "fp8e4nv", 8)
# Triton's software fp8 (sm_70/sm_80 inline PTX, deprecated on sm_90): importable, so that modules
# naming it load; a kernel that uses it gets a compile error naming it.
float8e4b15 = dtype("float8e4b15", "fp8e4b15", 8)

_OPERATIONS = """
program_id num_programs arange zeros zeros_like full load store where cdiv dot sum max min argmax
argmin cumsum cumprod xor_sum exp exp2 log log2 sqrt rsqrt abs sin cos sigmoid erf floor ceil
maximum minimum fma clamp umulhi broadcast_to expand_dims reshape view trans permute split join
flip cast atomic_add atomic_max atomic_min atomic_cas atomic_xchg atomic_and atomic_or atomic_xor multiple_of max_contiguous max_constancy
static_assert device_assert static_print debug_barrier range static_range rand randn make_block_ptr advance
randint randint4x rand4x randn4x uint_to_uniform_float pair_uniform_to_normal philox device_print
inline_asm_elementwise make_tensor_descriptor load_tensor_descriptor store_tensor_descriptor sort topk gather histogram reduce reduce_or associative_scan interleave cat ravel
softmax swizzle2d add sub mul fdiv broadcast assume
""".split()


def _make_operation(name):
    def operation(*args, **kwargs):
        raise RuntimeError(
            f"tl.{name}() can only be called inside a @tilec.jit kernel; kernels are compiled from their "
            f"source, so call the kernel with a grid instead: kernel[grid](...)")

    operation.__name__ = name
    operation.__qualname__ = name
    operation.__doc__ = f"tl.{name}: see the language reference in tilec's README."
    return operation


for _name in _OPERATIONS:
    globals()[_name] = _make_operation(_name)
del _name

_SUBMODULES = ("core", "extra", "math", "random", "target_info")


def __getattr__(name):
    # The submodules (Triton's module names for the same functions) are imported on first use:
    # `import tilec` is part of every warm start.
    if name in _SUBMODULES:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["constexpr", "dtype", "pointer_type", "tensor", "PropagateNan", "int1", "int8", "int16", "int32",
           "int64", "uint8", "uint16", "uint32", "uint64", "float16", "bfloat16", "float32", "float64",
           "float8e5", "float8e4nv", "float8e4b15",
           "core", "extra", "math", "random", "target_info"] + _OPERATIONS
