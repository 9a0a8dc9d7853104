"""triton.tools.tensor_descriptor.TensorDescriptor, the host-side descriptor of Triton 3.x. tilec does
not take one as a kernel argument yet: passing it to a kernel is an error that says so, and the
kernel can build the same descriptor itself with tl.make_tensor_descriptor(base, shape, strides,
block_shape), which tilec lowers to bounds-checked loads and stores on both backends."""
from dataclasses import dataclass
from typing import Any, List


@dataclass
class TensorDescriptor:
    base: Any
    shape: List[int]
    strides: List[int]
    block_shape: List[int]
    padding: str = "zero"

    @staticmethod
    def from_tensor(tensor: Any, block_shape: List[int], padding="zero"):
        return TensorDescriptor(tensor, list(tensor.shape), list(tensor.stride()), list(block_shape), padding)
