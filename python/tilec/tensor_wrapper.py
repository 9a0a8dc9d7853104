"""tilec.reinterpret(tensor, dtype): a tensor's memory seen as another dtype of the same width, as
triton.reinterpret does. It is how fp8 data reaches kernels without torch's float8 dtypes, e.g. a
NumPy uint8 array holding e5m2 bytes: kernel[grid](tilec.reinterpret(bytes, tl.float8e5), ...).
The wrapper has the attributes the launcher reads of a torch tensor (data_ptr, get_device, dtype,
shape, stride), so it is passed like one."""
from . import language


class TensorWrapper:
    def __init__(self, base, dtype):
        if not isinstance(dtype, language.dtype):
            raise TypeError(f"tilec.reinterpret: dtype must be a tl dtype such as tl.float8e5, got {dtype!r}")
        itemsize = base.element_size() if hasattr(base, "element_size") else base.itemsize
        if itemsize * 8 != dtype.primitive_bitwidth:
            raise ValueError(f"tilec.reinterpret: {dtype} is {dtype.primitive_bitwidth} bits wide but the tensor's "
                             f"elements are {itemsize * 8}; reinterpret only keeps the width")
        self.base = base
        self.dtype = dtype
        self.shape = tuple(base.shape)
        self._itemsize = itemsize

    def data_ptr(self):
        return self.base.data_ptr() if hasattr(self.base, "data_ptr") else self.base.ctypes.data

    def get_device(self):
        return self.base.get_device() if hasattr(self.base, "get_device") else -1

    def stride(self, dim=None):
        steps = tuple(self.base.stride()) if callable(getattr(self.base, "stride", None)) else \
            tuple(s // self._itemsize for s in self.base.strides)
        return steps if dim is None else steps[dim]

    def numel(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def element_size(self):
        return self._itemsize

    def __repr__(self):
        return f"TensorWrapper[{self.dtype}]({self.base!r})"


def reinterpret(tensor, dtype):
    """`tensor`'s memory as elements of `dtype` (same width); reinterpreting a TensorWrapper rewraps
    its base."""
    if isinstance(tensor, TensorWrapper):
        tensor = tensor.base
    return TensorWrapper(tensor, dtype)
