"""The tile language's names, so that `import tilec.language as tl` works in editors and at import
time. Kernels are compiled from their source text by the C++ compiler; these Python objects are
never executed inside a kernel, and calling an operation outside one raises a clear error."""


class constexpr:
    """Marks a compile-time parameter (`BLOCK: tl.constexpr`); `tl.constexpr(v)` wraps a value."""

    _tilec_constexpr = True

    def __init__(self, value):
        self.value = value.value if isinstance(value, constexpr) else value

    def __repr__(self):
        return f"constexpr[{self.value!r}]"


class dtype:
    """A scalar type of the language, e.g. tl.float32."""

    def __init__(self, name, tilec_name):
        self.name = name
        self._tilec_dtype = tilec_name

    def __repr__(self):
        return f"tl.{self.name}"

    def __eq__(self, other):
        return isinstance(other, dtype) and other._tilec_dtype == self._tilec_dtype

    def __hash__(self):
        return hash(self._tilec_dtype)


int1 = dtype("int1", "i1")
int8 = dtype("int8", "i8")
int16 = dtype("int16", "i16")
int32 = dtype("int32", "i32")
int64 = dtype("int64", "i64")
uint8 = dtype("uint8", "u8")
uint16 = dtype("uint16", "u16")
uint32 = dtype("uint32", "u32")
uint64 = dtype("uint64", "u64")
float16 = dtype("float16", "fp16")
bfloat16 = dtype("bfloat16", "bf16")
float32 = dtype("float32", "fp32")
float64 = dtype("float64", "fp64")

_OPERATIONS = """
program_id num_programs arange zeros zeros_like full load store where cdiv dot sum max min argmax
argmin cumsum exp exp2 log log2 sqrt rsqrt abs sin cos sigmoid erf floor ceil maximum minimum fma
clamp broadcast_to expand_dims reshape view trans permute cast atomic_add atomic_max atomic_min
atomic_cas atomic_xchg multiple_of max_contiguous static_assert device_assert range static_range
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

__all__ = ["constexpr", "dtype", "int1", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "bfloat16", "float32", "float64"] + _OPERATIONS
