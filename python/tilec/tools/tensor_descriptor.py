"""triton.tools.tensor_descriptor.TensorDescriptor, the host-side descriptor of Triton 3.x, taken as
a kernel argument: the kernel sees it as tl.make_tensor_descriptor's descriptor, specialized on its
dtype, block_shape and padding (python/descriptor_args.cpp reads it at launch). The checks are
Triton's, so a descriptor that Triton accepts is accepted here and the other way round."""
from dataclasses import dataclass
from typing import Any, List


@dataclass
class TensorDescriptor:
    base: Any
    shape: List[int]
    strides: List[int]
    block_shape: List[int]
    padding: str = "zero"

    def __post_init__(self):
        rank = len(self.shape)
        if not 1 <= rank <= 5:
            raise ValueError(f"a TensorDescriptor needs 1 to 5 dims, got shape {list(self.shape)}")
        if len(self.strides) != rank or len(self.block_shape) != rank:
            raise ValueError(f"rank mismatch: shape {list(self.shape)}, strides {list(self.strides)}, "
                             f"block_shape {list(self.block_shape)}")
        for b in self.block_shape:
            if b < 1 or b & (b - 1):
                raise ValueError(f"block_shape {list(self.block_shape)} has {b}, which is not a power of two")
        if self.strides[-1] != 1:
            raise ValueError(f"the last dim must be contiguous (stride 1), got strides {list(self.strides)}")
        # TMA's rules, which Triton checks on every target: a 16-byte aligned base and strides.
        elem_bytes = self.base.dtype.itemsize
        address = self.base.data_ptr() if hasattr(self.base, "data_ptr") else self.base.__array_interface__["data"][0]
        if address % 16:
            raise ValueError("base must be 16-byte aligned")
        if any(s * elem_bytes % 16 for s in self.strides[:-1]):
            raise ValueError(f"strides {list(self.strides)} must be 16-byte aligned")
        if self.padding not in ("zero", "nan"):
            raise ValueError(f"padding must be 'zero' or 'nan', got {self.padding!r}")

    @staticmethod
    def from_tensor(tensor: Any, block_shape: List[int], padding="zero"):
        # torch's stride() counts elements; a NumPy array's strides count bytes.
        strides = tensor.stride() if callable(getattr(tensor, "stride", None)) else [s // tensor.itemsize for s in tensor.strides]
        return TensorDescriptor(tensor, list(tensor.shape), list(strides), list(block_shape), padding)
