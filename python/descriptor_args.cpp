// Input: a TensorDescriptor launch argument (Python object, GIL held). Output: its fields, key
// bytes and bound slots; every field is checked here, so the kernel may trust the last stride is 1
// and a 16-byte aligned base and strides.
#include "python/descriptor_args.h"

namespace tilec::pyargs {

namespace {

// A list of `rank` ints (a list, tuple or torch.Size) into `out`; `rank` < 0 takes the length.
int read_ints(const std::string& where, PyObject* seq, int rank, int64_t* out) {
  py::sequence s = py::reinterpret_borrow<py::object>(seq);
  int n = static_cast<int>(py::len(s));
  if (rank >= 0 && n != rank)
    throw_value_error(where + " has " + std::to_string(n) + " entries, but the descriptor has rank " + std::to_string(rank));
  if (n < 1 || n > kMaxDescriptorRank) throw_value_error(where + " needs 1 to 5 entries, got " + std::to_string(n));
  for (int i = 0; i < n; ++i) {
    py::object v = s[i];
    if (!PyLong_Check(v.ptr()) && !PyIndex_Check(v.ptr())) throw_type_error(where + " entry " + std::to_string(i) + " is not an int");
    py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(v.ptr()));
    if (!index) throw py::error_already_set();
    out[i] = PyLong_AsLongLong(index.ptr());
    if (out[i] == -1 && PyErr_Occurred()) throw py::error_already_set();
  }
  return n;
}

}  // namespace

bool is_tensor_descriptor(PyObject* o) {
  if (std::strcmp(Py_TYPE(o)->tp_name, "TensorDescriptor") != 0) return false;
  py::handle h(o);
  return py::hasattr(h, "base") && py::hasattr(h, "shape") && py::hasattr(h, "strides") && py::hasattr(h, "block_shape");
}

void read_descriptor(const std::string& kernel, const std::string& param, PyObject* o, DescriptorArg* d) {
  py::handle h(o);
  std::string where = kernel + "(): TensorDescriptor argument '" + param + "'";
  py::object base = h.attr("base");
  ArgClass cls = classify_type(Py_TYPE(base.ptr()), base.ptr());
  if (!is_tensor_class(cls)) throw_type_error(where + " has a base of type " + std::string(Py_TYPE(base.ptr())->tp_name) + "; it must be a tensor");
  d->base.reset();
  d->base_obj = base.ptr();
  read_tensor(base.ptr(), cls, &d->base);
  d->rank = read_ints(where + "'s shape", h.attr("shape").ptr(), -1, d->shape);
  read_ints(where + "'s strides", h.attr("strides").ptr(), d->rank, d->strides);
  read_ints(where + "'s block_shape", h.attr("block_shape").ptr(), d->rank, d->block);
  if (d->strides[d->rank - 1] != 1)
    throw_value_error(where + " has a last stride of " + std::to_string(d->strides[d->rank - 1]) + "; the last dim must be contiguous (stride 1)");
  for (int i = 0; i < d->rank; ++i)
    if (d->shape[i] < 0) throw_value_error(where + " has a negative shape entry " + std::to_string(d->shape[i]));
  // Triton's (TMA's) alignment rules, so that a descriptor runs here exactly when it runs on Triton.
  int64_t elem = dtype_bytes(d->base.dtype);
  if (d->base.ptr % 16 != 0) throw_value_error(where + " has a base that is not 16-byte aligned");
  for (int i = 0; i + 1 < d->rank; ++i)
    if (d->strides[i] * elem % 16 != 0)
      throw_value_error(where + " has a stride of " + std::to_string(d->strides[i]) + " elements in dim " + std::to_string(i) +
                        ", which is not 16-byte aligned");
  std::string padding = py::hasattr(h, "padding") ? py::str(h.attr("padding")).cast<std::string>() : "zero";
  if (padding != "zero" && padding != "nan") throw_value_error(where + " has padding '" + padding + "'; use \"zero\" or \"nan\"");
  d->nan_padding = padding == "nan";
  d->shape_div16 = true;
  for (int i = 0; i < d->rank; ++i) d->shape_div16 = d->shape_div16 && d->shape[i] % 16 == 0;
}

void put_descriptor_key(KeyBuilder& key, const DescriptorArg& d) {
  key.put_u8('d');
  key.put_u8(static_cast<uint8_t>(d.base.dtype));
  key.put_u8(static_cast<uint8_t>(d.rank));
  for (int i = 0; i < d.rank; ++i) key.put_i64(d.block[i]);
  key.put_u8(d.nan_padding);
  key.put_u8(d.shape_div16);
}

void bind_descriptor(const std::string& kernel, const std::string& param, const DescriptorArg& d, BoundArgs& b) {
  b.add_tensor(kernel, param, d.base_obj, d.base);
  Slot s;
  for (int i = 0; i < d.rank; ++i) {
    std::memcpy(s.bytes, &d.shape[i], 8);
    b.add_scalar(s);
  }
  for (int i = 0; i + 1 < d.rank; ++i) {
    std::memcpy(s.bytes, &d.strides[i], 8);
    b.add_scalar(s);
  }
}

}  // namespace tilec::pyargs
