// Input: a host-side TensorDescriptor (triton.tools.tensor_descriptor, or tilec's copy) passed to a
// kernel. Output: its base tensor, shape, strides, block shape and padding, checked as Triton does.
#pragma once
#include "python/arguments.h"

namespace tilec::pyargs {

constexpr int kMaxDescriptorRank = 5;

// One TensorDescriptor argument of a launch; trivially constructible, like TensorArg.
struct DescriptorArg {
  TensorArg base;
  PyObject* base_obj;  // borrowed: the descriptor, which the caller keeps alive, holds it
  int rank;
  int64_t shape[kMaxDescriptorRank], strides[kMaxDescriptorRank], block[kMaxDescriptorRank];
  bool nan_padding;
  bool shape_div16;  // every shape entry divisible by 16: the kernel is specialized on it
};

// Whether `o` is a TensorDescriptor: an object of a class of that name with the fields Triton's has.
bool is_tensor_descriptor(PyObject* o);

// Reads `o`; a TypeError or ValueError names the kernel, the parameter and the field at fault.
void read_descriptor(const std::string& kernel, const std::string& param, PyObject* o, DescriptorArg* d);

// The key bytes that specialize a kernel on a descriptor: dtype, block shape, padding, shape_div16.
void put_descriptor_key(KeyBuilder& key, const DescriptorArg& d);

// Binds the runtime arguments a descriptor parameter compiles to (tilec/ir_gen_memory.cpp's
// descriptor_param): the base pointer, the shape, then the strides but the last.
void bind_descriptor(const std::string& kernel, const std::string& param, const DescriptorArg& d, BoundArgs& b);

}  // namespace tilec::pyargs
