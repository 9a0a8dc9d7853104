// Input: Python calls from the tilec package. Output: the native module tilec._C: compilation,
// and the launch path (kernel[grid](*args)) that binds arguments, specializes, compiles once per key and launches.
// The launch path is C++ through CPython's vectorcall protocol, so that a repeated launch allocates nothing.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "jit/cache.h"
#include "jit/cache_admin.h"
#include "jit/host_compiler.h"
#include "jit/nvrtc.h"
#include "jit/kernel.h"
#include "runtime/dlpack.h"
#include "runtime/dlpack_view.h"

namespace py = pybind11;
using namespace tilec;

namespace {

PyObject* g_compile_error = nullptr;

[[noreturn]] void throw_type_error(const std::string& msg) { throw py::type_error(msg); }
[[noreturn]] void throw_value_error(const std::string& msg) { throw py::value_error(msg); }

// Parameters of one kernel, and slots of one launch (debug extents included): a launch binds
// into fixed arrays on the stack, so a kernel with more is rejected when it is defined.
constexpr size_t kMaxParams = 128;
constexpr size_t kMaxSlots = 2 * kMaxParams;

// Names looked up on every launch, interned once so that attribute lookups and keyword matches
// compare pointers.
struct Names {
  PyObject *data_ptr, *dtype, *get_device, *shape, *stride, *num_warps, *num_stages, *stream, *num_ctas, *maxnreg,
      *grid, *cuda_stream, *tilec_dtype, *value, *tilec_constexpr, *modules_torch;
};
Names g_names;

void init_names() {
  auto intern = [](const char* s) { return PyUnicode_InternFromString(s); };
  g_names = Names{intern("data_ptr"), intern("dtype"),      intern("get_device"),   intern("shape"),
                  intern("stride"),   intern("num_warps"),  intern("num_stages"),   intern("stream"),
                  intern("num_ctas"), intern("maxnreg"),    intern("grid"),         intern("cuda_stream"),
                  intern("_tilec_dtype"), intern("value"), intern("_tilec_constexpr"), intern("torch")};
}

// How a Python type's objects are read as kernel arguments; decided once per type.
enum class ArgClass { NumPy, Torch, Buffer, DLPack, Int, Float, Bool, None, Other };

bool is_numpy_array_type(PyTypeObject* type) {
  for (PyTypeObject* t = type; t; t = t->tp_base)
    if (std::strcmp(t->tp_name, "numpy.ndarray") == 0) return true;
  return false;
}

ArgClass classify_uncached(PyTypeObject* type, PyObject* obj) {
  py::handle h(obj);
  if (PyBool_Check(obj)) return ArgClass::Bool;
  if (PyLong_Check(obj)) return ArgClass::Int;
  if (PyFloat_Check(obj)) return ArgClass::Float;
  if (obj == Py_None) return ArgClass::None;
  if (std::strncmp(type->tp_name, "numpy.", 6) == 0 && !is_numpy_array_type(type) && py::hasattr(h, "dtype") &&
      py::hasattr(h, "item") && h.attr("ndim").cast<int>() == 0) {
    // NumPy scalars (np.int64(5), np.float32(1.5), np.bool_) are numbers, not 0-d tensors.
    char kind = py::str(h.attr("dtype").attr("kind")).cast<std::string>()[0];
    return kind == 'b' ? ArgClass::Bool : (kind == 'i' || kind == 'u') ? ArgClass::Int : kind == 'f' ? ArgClass::Float : ArgClass::Other;
  }
  if (is_numpy_array_type(type) && PyObject_CheckBuffer(obj)) return ArgClass::NumPy;
  if (py::hasattr(h, "data_ptr") && py::hasattr(h, "get_device") && py::hasattr(h, "dtype")) return ArgClass::Torch;
  if (PyObject_CheckBuffer(obj) && py::hasattr(h, "__array_interface__")) return ArgClass::Buffer;
  if (py::hasattr(h, "__dlpack__")) return ArgClass::DLPack;
  return ArgClass::Other;
}

// Called with the GIL held, as every function of the launch path is, which guards the caches.
ArgClass classify_type(PyTypeObject* type, PyObject* obj) {
  // The common types are checked before the map: a launch classifies every argument.
  if (type == &PyLong_Type) return ArgClass::Int;
  if (type == &PyFloat_Type) return ArgClass::Float;
  if (type == &PyBool_Type) return ArgClass::Bool;
  static PyTypeObject* last_type = nullptr;  // the last tensor type seen (numpy.ndarray, torch.Tensor)
  static ArgClass last_class = ArgClass::Other;
  if (type == last_type) return last_class;
  static std::unordered_map<PyTypeObject*, ArgClass> cache;
  auto it = cache.find(type);
  if (it != cache.end()) {
    last_type = type;
    last_class = it->second;
    return it->second;
  }
  ArgClass c = classify_uncached(type, obj);
  Py_INCREF(type);  // a freed type's address could be reused by another type; keep the key alive
  cache.emplace(type, c);
  return c;
}

// Trivially constructible (no member initializers): a launch keeps kMaxParams of them on the
// stack and fills in only the ones it binds, through reset().
struct TensorArg {
  uint64_t ptr;
  DType dtype;
  int device_type;  // kDLCPU or kDLCUDA
  int device_id;
  bool readonly;    // a NumPy array with writeable=False, a DLPack tensor flagged read-only
  ArgClass cls;
  int64_t span;     // elements reachable from ptr (largest offset + 1); -1: not read yet

  void reset() {
    ptr = 0;
    dtype = DType::F32;
    device_type = kDLCPU;
    device_id = 0;
    readonly = false;
    cls = ArgClass::Other;
    span = -1;
  }
};

// Largest element offset reachable from the first element, plus one (0 for an empty tensor).
template <typename Int>
int64_t span_of(const Int* shape, const Int* strides, int ndim, int64_t stride_divisor = 1) {
  int64_t last = 0;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 0) return 0;
    int64_t s = static_cast<int64_t>(strides[d]) / stride_divisor;
    if (s > 0) last += (static_cast<int64_t>(shape[d]) - 1) * s;
  }
  return last + 1;
}

// ---- NumPy arrays ------------------------------------------------------------------------------
// NumPy's array object as its C headers lay it out (PyArrayObject_fields, the same in NumPy 1.x
// and 2.x: compiled extensions read it through PyArray_DATA and friends, so it is ABI). Reading it
// costs a few loads where the buffer protocol costs a format string and a shape copy per array.
// The first array of the process is read both ways; any difference turns this route off.
struct NumpyArrayFields {
  PyObject_HEAD
  char* data;
  int nd;
  Py_ssize_t* dimensions;
  Py_ssize_t* strides;
  PyObject* base;
  PyObject* descr;
  int flags;
};
struct NumpyDescrHead {  // PyArray_Descr up to type_num, unchanged by NumPy 2
  PyObject_HEAD
  PyTypeObject* typeobj;
  char kind;
  char type;
  char byteorder;
  char former_flags;
  int type_num;
};
constexpr int kNpyWriteable = 0x0400;

enum class NumpyRoute { Unchecked, Fields, Buffer };
NumpyRoute g_numpy_route = NumpyRoute::Unchecked;

// The dtype of a NumPy type number in native byte order; false for anything else (then the
// buffer protocol reads the array and names what is unsupported).
bool numpy_dtype(const NumpyDescrHead* d, DType* out) {
  if (d->byteorder == '>') return false;  // non-native on the little-endian hosts tilec runs on
  switch (d->type_num) {
    case 0: *out = DType::I1; return true;
    case 1: *out = DType::I8; return true;
    case 2: *out = DType::U8; return true;
    case 3: *out = DType::I16; return true;
    case 4: *out = DType::U16; return true;
    case 5: *out = DType::I32; return true;
    case 6: *out = DType::U32; return true;
    case 7: *out = sizeof(long) == 8 ? DType::I64 : DType::I32; return true;
    case 8: *out = sizeof(long) == 8 ? DType::U64 : DType::U32; return true;
    case 9: *out = DType::I64; return true;
    case 10: *out = DType::U64; return true;
    case 11: *out = DType::F32; return true;
    case 12: *out = DType::F64; return true;
    case 23: *out = DType::F16; return true;
  }
  return false;
}

bool read_numpy_fields(PyObject* obj, TensorArg* t) {
  auto* a = reinterpret_cast<NumpyArrayFields*>(obj);
  if (!a->descr || !numpy_dtype(reinterpret_cast<NumpyDescrHead*>(a->descr), &t->dtype)) return false;
  t->ptr = reinterpret_cast<uint64_t>(a->data);
  t->readonly = (a->flags & kNpyWriteable) == 0;
  return true;
}

int64_t numpy_fields_span(PyObject* obj, DType dtype) {
  auto* a = reinterpret_cast<NumpyArrayFields*>(obj);
  return span_of(a->dimensions, a->strides, a->nd, dtype_bytes(dtype));
}

// ---- PyTorch tensors ---------------------------------------------------------------------------
// Read through their Python API (tilec does not link against libtorch): data_ptr(), dtype and
// get_device(), each one vectorcall with an interned name.
DType torch_dtype(PyObject* dtype_obj) {
  static PyObject* last = nullptr;
  static DType last_type = DType::F32;
  if (dtype_obj == last) return last_type;
  static std::unordered_map<PyObject*, DType> cache;
  auto it = cache.find(dtype_obj);
  if (it == cache.end()) {
    std::string name = py::str(dtype_obj);
    if (name.rfind("torch.", 0) == 0) name = name.substr(6);
    if (name == "bool") name = "int1";
    std::optional<DType> t = dtype_from_name(name);
    if (!t) throw_type_error("unsupported tensor dtype " + py::str(dtype_obj).cast<std::string>() + " (tilec supports bool, int8-64, uint8-64, float16, bfloat16, float32, float64)");
    Py_INCREF(dtype_obj);  // dtypes are singletons; keep the key alive
    it = cache.emplace(dtype_obj, *t).first;
  }
  last = dtype_obj;
  last_type = it->second;
  return it->second;
}

py::object call_method0(PyObject* obj, PyObject* name) {
  PyObject* r = PyObject_VectorcallMethod(name, &obj, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
  if (!r) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(r);
}

void read_torch(PyObject* obj, TensorArg* t) {
  py::object ptr = call_method0(obj, g_names.data_ptr);
  t->ptr = PyLong_AsUnsignedLongLong(ptr.ptr());
  if (PyErr_Occurred()) throw py::error_already_set();
  py::object dtype = py::reinterpret_steal<py::object>(PyObject_GetAttr(obj, g_names.dtype));
  if (!dtype) throw py::error_already_set();
  t->dtype = torch_dtype(dtype.ptr());
  py::object dev = call_method0(obj, g_names.get_device);
  long d = PyLong_AsLong(dev.ptr());
  if (d == -1 && PyErr_Occurred()) throw py::error_already_set();
  t->device_type = d < 0 ? kDLCPU : kDLCUDA;
  t->device_id = d < 0 ? 0 : static_cast<int>(d);
}

// The span of a torch tensor: shape and stride() are read only for launches that need it (a
// kernel with a 32-bit offset from this argument, or debug mode).
int64_t torch_span(PyObject* t) {
  py::object shape = py::reinterpret_steal<py::object>(PyObject_GetAttr(t, g_names.shape));
  if (!shape) throw py::error_already_set();
  py::object strides = call_method0(t, g_names.stride);
  if (!PyTuple_Check(shape.ptr()) || !PyTuple_Check(strides.ptr()) || PyTuple_GET_SIZE(shape.ptr()) != PyTuple_GET_SIZE(strides.ptr()))
    throw_type_error("a tensor's shape and stride() must be tuples of one length");
  int ndim = static_cast<int>(PyTuple_GET_SIZE(shape.ptr()));
  int64_t dims[64], steps[64];
  if (ndim > 64) throw_value_error("tensors of more than 64 dimensions are not supported");
  for (int d = 0; d < ndim; ++d) {
    dims[d] = PyLong_AsLongLong(PyTuple_GET_ITEM(shape.ptr(), d));
    steps[d] = PyLong_AsLongLong(PyTuple_GET_ITEM(strides.ptr(), d));
  }
  if (PyErr_Occurred()) throw py::error_already_set();
  return span_of(dims, steps, ndim);
}

// ---- the buffer protocol and DLPack (everything else) -----------------------------------------

// Whether a type's __dlpack__ takes max_version= (DLPack 1.0, which can flag read-only tensors).
std::unordered_map<PyTypeObject*, bool>& dlpack_versioned_types() {
  static std::unordered_map<PyTypeObject*, bool> m;
  return m;
}

std::string device_str(int type, int id) {
  return type == kDLCUDA ? "cuda:" + std::to_string(id) : type == kDLCPU ? "cpu" : "device type " + std::to_string(type);
}

DType buffer_dtype(const Py_buffer& b) {
  std::string f = b.format ? b.format : "B";
  if (!f.empty() && (f[0] == '<' || f[0] == '=' || f[0] == '@' || f[0] == '|')) f = f.substr(1);
  char c = f.empty() ? 'B' : f[0];
  switch (c) {
    case '?': return DType::I1;
    case 'e': return DType::F16;
    case 'f': return DType::F32;
    case 'd': return DType::F64;
    case 'b': case 'h': case 'i': case 'l': case 'q':
      return b.itemsize == 1 ? DType::I8 : b.itemsize == 2 ? DType::I16 : b.itemsize == 4 ? DType::I32 : DType::I64;
    case 'B': case 'H': case 'I': case 'L': case 'Q':
      return b.itemsize == 1 ? DType::U8 : b.itemsize == 2 ? DType::U16 : b.itemsize == 4 ? DType::U32 : DType::U64;
  }
  throw_type_error("unsupported array dtype (buffer format '" + f + "')");
}

void read_buffer(PyObject* obj, TensorArg* t) {
  Py_buffer b;
  if (PyObject_GetBuffer(obj, &b, PyBUF_RECORDS_RO) != 0) throw py::error_already_set();
  t->ptr = reinterpret_cast<uint64_t>(b.buf);
  t->readonly = b.readonly != 0;
  t->span = span_of(b.shape, b.strides, b.ndim, b.itemsize > 0 ? b.itemsize : 1);
  try {
    t->dtype = buffer_dtype(b);
  } catch (...) {
    PyBuffer_Release(&b);
    throw;
  }
  PyBuffer_Release(&b);  // the array object itself keeps the memory alive during the launch
}

void read_dlpack(PyObject* obj, TensorArg* t) {
  py::handle h(obj);
  // DLPack 1.0 first: only its versioned tensors can say they are read-only.
  auto known = dlpack_versioned_types().find(Py_TYPE(obj));
  bool try_versioned = known == dlpack_versioned_types().end() || known->second;
  py::object capsule;
  if (try_versioned) {
    try {
      capsule = h.attr("__dlpack__")(py::arg("max_version") = py::make_tuple(1, 0));
    } catch (const py::error_already_set& e) {
      if (!e.matches(PyExc_TypeError)) throw;
    }
    dlpack_versioned_types()[Py_TYPE(obj)] = static_cast<bool>(capsule);
  }
  if (!capsule) capsule = h.attr("__dlpack__")();
  TensorView view;
  std::string error;
  if (PyCapsule_IsValid(capsule.ptr(), "dltensor_versioned")) {
    auto* managed = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor_versioned"));
    if (!dlpack_to_view(*managed, &view, &t->readonly, &error)) throw_type_error(error);
  } else {
    auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
    if (!managed) throw py::error_already_set();
    if (!dlpack_to_view(managed->dl_tensor, &view, &error)) throw_type_error(error);
  }
  t->ptr = reinterpret_cast<uint64_t>(view.data);
  t->dtype = view.dtype;
  t->span = span_of(view.shape.data(), view.strides.data(), static_cast<int>(view.shape.size()));
  t->device_type = view.device_type == kDLCUDAHost ? kDLCPU : view.device_type;
  t->device_id = view.device_id;
  if (t->device_type != kDLCPU && t->device_type != kDLCUDA)
    throw_value_error("tensors on " + device_str(view.device_type, view.device_id) + " are not supported (cpu and cuda are)");
}

// Reads a tensor argument's pointer, dtype, device and write flag: the per-launch work of a
// tensor. Its span (for the 2^31 check and debug extents) is read later, only when needed.
void read_tensor(PyObject* obj, ArgClass cls, TensorArg* t) {
  t->reset();
  t->cls = cls;
  switch (cls) {
    case ArgClass::NumPy:
      if (g_numpy_route == NumpyRoute::Fields && read_numpy_fields(obj, t)) return;
      if (g_numpy_route == NumpyRoute::Unchecked) {
        // Checks the field layout against the buffer protocol once per process.
        TensorArg by_fields, by_buffer;
        by_fields.reset();
        by_buffer.reset();
        bool ok = read_numpy_fields(obj, &by_fields);
        read_buffer(obj, &by_buffer);
        if (ok) {
          bool same = by_fields.ptr == by_buffer.ptr && by_fields.dtype == by_buffer.dtype &&
                      by_fields.readonly == by_buffer.readonly &&
                      numpy_fields_span(obj, by_fields.dtype) == by_buffer.span;
          g_numpy_route = same ? NumpyRoute::Fields : NumpyRoute::Buffer;
        }
        *t = by_buffer;
        t->cls = g_numpy_route == NumpyRoute::Fields ? ArgClass::NumPy : ArgClass::Buffer;
        return;
      }
      t->cls = ArgClass::Buffer;
      read_buffer(obj, t);
      return;
    case ArgClass::Torch: read_torch(obj, t); return;
    case ArgClass::Buffer: read_buffer(obj, t); return;
    case ArgClass::DLPack: read_dlpack(obj, t); return;
    case ArgClass::Int: case ArgClass::Float: case ArgClass::Bool: case ArgClass::None: case ArgClass::Other:
      break;
  }
  throw_type_error("not a tensor");
}

int64_t tensor_span(PyObject* obj, TensorArg& t);

// An upper bound of the span that is cheaper to read than the span: for a torch tensor, the
// elements of its storage (one call instead of shape and stride()); for the others, the span.
int64_t tensor_span_bound(PyObject* obj, TensorArg& t) {
  if (t.span >= 0 || t.cls != ArgClass::Torch) return tensor_span(obj, t);
  static PyObject* storage_name = PyUnicode_InternFromString("untyped_storage");
  static PyObject* nbytes_name = PyUnicode_InternFromString("nbytes");
  PyObject* st = PyObject_VectorcallMethod(storage_name, &obj, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
  if (!st) {
    // Objects that only look like torch tensors (data_ptr, dtype, get_device, shape, stride()).
    if (!PyErr_ExceptionMatches(PyExc_AttributeError)) throw py::error_already_set();
    PyErr_Clear();
    return tensor_span(obj, t);
  }
  py::object storage = py::reinterpret_steal<py::object>(st);
  py::object nbytes = call_method0(storage.ptr(), nbytes_name);
  long long bytes = PyLong_AsLongLong(nbytes.ptr());
  if (bytes == -1 && PyErr_Occurred()) throw py::error_already_set();
  return bytes / dtype_bytes(t.dtype);
}

int64_t tensor_span(PyObject* obj, TensorArg& t) {
  if (t.span >= 0) return t.span;
  if (t.cls == ArgClass::NumPy) t.span = numpy_fields_span(obj, t.dtype);
  else if (t.cls == ArgClass::Torch) t.span = torch_span(obj);
  else throw std::logic_error("tensor span not read");
  return t.span;
}

bool is_tensor_class(ArgClass c) {
  return c == ArgClass::NumPy || c == ArgClass::Torch || c == ArgClass::Buffer || c == ArgClass::DLPack;
}

struct Param {
  std::string name;
  py::object name_obj;         // the interned name, for keyword matching by pointer
  bool is_constexpr = false;
  bool no_specialize = false;  // jit(do_not_specialize=...): ints are not specialized on 1 or %16
  py::object default_value;    // null when there is none
};

// A value that goes into the compiled kernel's argument list, 8 bytes at most.
struct Slot {
  alignas(8) unsigned char bytes[8];
};

ConstValue const_value_of(py::handle v, const std::string& name, const std::string& kernel) {
  PyObject* o = v.ptr();
  if (PyBool_Check(o)) return ConstValue::of_bool(o == Py_True);
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) throw_value_error("constexpr '" + name + "' of " + kernel + "() does not fit in 64 bits");
    return ConstValue::of_int(x);
  }
  if (PyFloat_Check(o)) return ConstValue::of_float(PyFloat_AsDouble(o));
  if (o == Py_None) return ConstValue{};
  if (PyUnicode_Check(o)) return ConstValue::of_str(v.cast<std::string>());
  if (py::hasattr(v, "_tilec_dtype")) {
    std::optional<DType> t = dtype_from_name(v.attr("_tilec_dtype").cast<std::string>());
    if (t) return ConstValue::of_dtype(*t);
  }
  if (py::hasattr(v, "value") && py::hasattr(v, "_tilec_constexpr")) return const_value_of(v.attr("value"), name, kernel);
  throw_type_error("constexpr '" + name + "' of " + kernel + "() must be an int, float, bool, str, None or a tl dtype, got " +
                   std::string(Py_TYPE(o)->tp_name));
}

// The specialization key of one launch, built on the stack: one record per parameter (a
// constexpr's value, a runtime argument's kind) and the target. Long keys (long string
// constexprs) spill to the heap.
class KeyBuilder {
 public:
  void put(const void* p, size_t n) {
    if (!spilled_ && len_ + n <= sizeof small_) {
      std::memcpy(small_ + len_, p, n);
      len_ += n;
      return;
    }
    if (!spilled_) {
      big_.assign(small_, len_);
      spilled_ = true;
    }
    big_.append(static_cast<const char*>(p), n);
    len_ += n;
  }
  void put_u8(uint8_t v) { put(&v, 1); }
  void put_i64(int64_t v) { put(&v, 8); }
  const char* data() const { return spilled_ ? big_.data() : small_; }
  size_t size() const { return len_; }
  uint64_t hash() const {  // FNV-1a
    uint64_t h = 1469598103934665603ull;
    const char* d = data();
    for (size_t i = 0; i < len_; ++i) h = (h ^ static_cast<unsigned char>(d[i])) * 1099511628211ull;
    return h;
  }

 private:
  char small_[512];
  size_t len_ = 0;
  bool spilled_ = false;
  std::string big_;
};

// A tl dtype object (tl.float16) as a DType, cached by object: dtypes are module-level singletons.
std::optional<DType> tl_dtype_of(PyObject* o) {
  static std::unordered_map<PyObject*, std::optional<DType>> cache;
  auto it = cache.find(o);
  if (it != cache.end()) return it->second;
  std::optional<DType> t;
  PyObject* name = PyObject_GetAttr(o, g_names.tilec_dtype);
  if (!name) {
    PyErr_Clear();
  } else {
    if (PyUnicode_Check(name)) t = dtype_from_name(PyUnicode_AsUTF8(name));
    Py_DECREF(name);
  }
  Py_INCREF(o);  // keep the key alive
  cache.emplace(o, t);
  return t;
}

// Appends a constexpr's value to the key, distinguishing exactly what const_value_of does.
void put_const(KeyBuilder& key, PyObject* o, const Param& p, const std::string& kernel) {
  if (PyBool_Check(o)) {
    key.put_u8('B');
    key.put_u8(o == Py_True);
  } else if (PyLong_Check(o)) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) throw_value_error("constexpr '" + p.name + "' of " + kernel + "() does not fit in 64 bits");
    key.put_u8('I');
    key.put_i64(x);
  } else if (PyFloat_Check(o)) {
    double f = PyFloat_AsDouble(o);
    key.put_u8('F');
    key.put(&f, 8);
  } else if (o == Py_None) {
    key.put_u8('N');
  } else if (PyUnicode_Check(o)) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(o, &n);
    if (!s) throw py::error_already_set();
    key.put_u8('S');
    key.put_i64(n);
    key.put(s, static_cast<size_t>(n));
  } else if (std::optional<DType> t = tl_dtype_of(o)) {
    key.put_u8('D');
    key.put_u8(static_cast<uint8_t>(*t));
  } else {
    // tl.constexpr(v) wrappers (rare): their value, or the error naming what is accepted.
    ConstValue c = const_value_of(o, p.name, kernel);
    std::string text = c.str();
    key.put_u8('W');
    key.put_u8(static_cast<uint8_t>(c.kind));
    key.put_i64(static_cast<int64_t>(text.size()));
    key.put(text.data(), text.size());
  }
}

// sm_XY of each device, read from the driver once per device.
int device_arch(int device) {
  static std::atomic<int> archs[CompiledKernel::kMaxDevices];
  if (device < 0 || device >= CompiledKernel::kMaxDevices)
    throw_value_error("CUDA device ordinal " + std::to_string(device) + " out of range");
  int a = archs[device].load(std::memory_order_relaxed);
  if (a > 0) return a;
  std::string error;
  a = cuda_device_arch(device, &error);
  if (a < 0) throw std::runtime_error("CUDA tensors were passed but the GPU cannot be used: " + error);
  archs[device].store(a, std::memory_order_relaxed);
  return a;
}

// A launch's runtime arguments once bound, in the kernel's argument order. Lives on the stack;
// only the first n entries (and the slots in use) are meaningful.
struct BoundArgs {
  size_t n = 0;      // runtime arguments bound
  size_t nslots = 0; // slots in use (runtime arguments, then debug extents)
  Slot slots[kMaxSlots];
  TensorArg tensors[kMaxParams];  // meaningful where is_tensor
  bool is_tensor[kMaxParams];
  PyObject* objects[kMaxParams];  // the argument objects (borrowed: the caller keeps them alive)
  int device_type = -1, device_id = 0;
  const std::string* first_device_arg = nullptr;

  void add_scalar(const Slot& s) {
    if (n >= kMaxParams) throw_value_error("too many kernel arguments");
    slots[nslots++] = s;
    is_tensor[n] = false;
    objects[n] = nullptr;
    ++n;
  }

  void add_tensor(const std::string& kernel, const std::string& param, PyObject* o, const TensorArg& t) {
    if (n >= kMaxParams) throw_value_error("too many kernel arguments");
    if (device_type < 0) {
      device_type = t.device_type;
      device_id = t.device_id;
      first_device_arg = &param;
    } else if (device_type != t.device_type || device_id != t.device_id) {
      throw_value_error(kernel + "(): argument '" + *first_device_arg + "' is on " + device_str(device_type, device_id) +
                        " but '" + param + "' is on " + device_str(t.device_type, t.device_id) +
                        "; all tensors of one launch must be on one device");
    }
    Slot s;
    std::memcpy(s.bytes, &t.ptr, 8);
    slots[nslots++] = s;
    tensors[n] = t;
    is_tensor[n] = true;
    objects[n] = o;
    ++n;
  }
};

int32_t grid_dim(const std::string& kernel, PyObject* d, size_t i) {
  if (!PyLong_Check(d) || PyBool_Check(d))
    throw_value_error(kernel + "(): grid dimension " + std::to_string(i) + " must be an int, got " + std::string(Py_TYPE(d)->tp_name));
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(d, &overflow);
  if (overflow || v < 0 || v > INT32_MAX)
    throw_value_error(kernel + "(): grid dimension " + std::to_string(i) + " is " + py::str(d).cast<std::string>() +
                      "; it must be between 0 and 2^31-1");
  return static_cast<int32_t>(v);
}

// The grid as three dimensions; a dimension of 0 is an empty grid, which launches nothing (as in
// Triton). A grid function is called with the launch's meta-parameters (built only then).
std::array<int32_t, 3> resolve_grid(const std::string& kernel, PyObject* grid, const std::function<py::dict()>& meta) {
  py::object called;
  if (PyCallable_Check(grid)) {
    called = py::reinterpret_borrow<py::object>(grid)(meta());
    grid = called.ptr();
  }
  std::array<int32_t, 3> out = {1, 1, 1};
  if (PyLong_Check(grid)) {
    out[0] = grid_dim(kernel, grid, 0);
    return out;
  }
  if (!PyTuple_Check(grid) && !PyList_Check(grid))
    throw_value_error(kernel + "(): the grid must be a tuple of 1 to 3 non-negative ints (or a function returning one), got " +
                      std::string(Py_TYPE(grid)->tp_name));
  Py_ssize_t size = PySequence_Fast_GET_SIZE(grid);
  if (size < 1 || size > 3) throw_value_error(kernel + "(): the grid must have 1 to 3 dimensions, got " + std::to_string(size));
  PyObject** items = PySequence_Fast_ITEMS(grid);
  for (Py_ssize_t i = 0; i < size; ++i) out[i] = grid_dim(kernel, items[i], static_cast<size_t>(i));
  return out;
}

// torch._C._cuda_getCurrentRawStream once torch is imported (a C function: no Python frame);
// nullptr while it is not, and then launches go to the null stream. torch is never imported here.
PyObject* torch_stream_getter() {
  static PyObject* getter = nullptr;
  static bool unavailable = false;
  if (getter || unavailable) return getter;
  PyObject* torch = PyDict_GetItemWithError(PyImport_GetModuleDict(), g_names.modules_torch);  // borrowed
  if (!torch) {
    if (PyErr_Occurred()) throw py::error_already_set();
    return nullptr;
  }
  try {
    py::object f = py::reinterpret_borrow<py::object>(torch).attr("_C").attr("_cuda_getCurrentRawStream");
    getter = f.release().ptr();
  } catch (const py::error_already_set&) {
    unavailable = true;  // a torch built without CUDA
  }
  return getter;
}

void* resolve_stream(PyObject* stream_arg, int device) {
  if (stream_arg && stream_arg != Py_None) {
    if (PyLong_Check(stream_arg)) return reinterpret_cast<void*>(py::handle(stream_arg).cast<uint64_t>());
    py::handle h(stream_arg);
    if (py::hasattr(h, "cuda_stream")) return reinterpret_cast<void*>(h.attr("cuda_stream").cast<uint64_t>());
    throw_type_error("stream= must be a raw CUDA stream handle (int) or an object with .cuda_stream (torch.cuda.Stream)");
  }
  // The caller's current PyTorch stream, as Triton uses; the null stream without torch.
  PyObject* get_stream = torch_stream_getter();
  if (!get_stream) return nullptr;
  py::object dev = py::reinterpret_steal<py::object>(PyLong_FromLong(device));
  PyObject* r = PyObject_CallOneArg(get_stream, dev.ptr());
  if (!r) throw py::error_already_set();
  py::object owned = py::reinterpret_steal<py::object>(r);
  uint64_t s = PyLong_AsUnsignedLongLong(r);
  if (s == static_cast<uint64_t>(-1) && PyErr_Occurred()) throw py::error_already_set();
  return reinterpret_cast<void*>(s);
}

// Releases the GIL for a scope: a CPU kernel may run long, and other Python threads may launch.
class WithoutGil {
 public:
  WithoutGil() : state_(PyEval_SaveThread()) {}
  ~WithoutGil() { PyEval_RestoreThread(state_); }
  WithoutGil(const WithoutGil&) = delete;
  WithoutGil& operator=(const WithoutGil&) = delete;

 private:
  PyThreadState* state_;
};

// Checks what the compiled kernel needs of its tensors (writable where it writes, offsets that
// cannot wrap), appends the debug-mode extents, and launches unless the grid is empty.
void launch_bound(CompiledKernel& k, BoundArgs& b, const std::array<int32_t, 3>& g, PyObject* stream_arg) {
  size_t n = k.num_user_args;
  if (b.n != n)
    throw_type_error(k.name + "() was compiled for " + std::to_string(n) + " runtime arguments but " +
                     std::to_string(b.n) + " were bound");
  for (size_t i = 0; i < n; ++i) {
    if (!b.is_tensor[i]) continue;
    TensorArg& t = b.tensors[i];
    if (t.readonly && k.arg_written[i])
      throw_value_error(k.name + "(): argument '" + k.arg_names[i] + "' is read-only, but the kernel stores to it or updates it atomically; "
                        "pass a writable array (e.g. a copy: np.array(x))");
    // The bound first: it settles the check for every tensor smaller than 2^31 elements.
    if (!k.arg_offset32[i].empty() && tensor_span_bound(b.objects[i], t) >= (int64_t{1} << 31) &&
        tensor_span(b.objects[i], t) >= (int64_t{1} << 31))
      throw_value_error(k.name + "(): argument '" + k.arg_names[i] + "' spans " + std::to_string(t.span) +
                        " elements (2^31 or more), but the kernel offsets it by a 32-bit offset at " + k.arg_offset32[i] +
                        ", which would wrap; compute that offset in 64 bits (e.g. pid.to(tl.int64) * BLOCK)");
  }
  for (size_t i = 0; k.debug && i < n; ++i) {
    if (!k.arg_types[i].is_ptr) continue;
    Slot s;
    int64_t extent = b.is_tensor[i] ? tensor_span(b.objects[i], b.tensors[i]) : 0;
    std::memcpy(s.bytes, &extent, 8);
    if (b.nslots >= kMaxSlots) throw_value_error("too many kernel arguments");
    b.slots[b.nslots++] = s;
  }
  if (g[0] == 0 || g[1] == 0 || g[2] == 0) return;
  void* ptrs[kMaxSlots];
  for (size_t i = 0; i < b.nslots; ++i) ptrs[i] = b.slots[i].bytes;
  std::string error;
  if (k.backend == Backend::Cpu) {
    if (b.device_type == kDLCUDA) throw_value_error(k.name + "() was compiled for the CPU but its tensors are on " + device_str(b.device_type, b.device_id));
    WithoutGil released;
    error = launch_cpu(k, g, ptrs);
  } else {
    if (b.device_type != kDLCUDA) throw_value_error(k.name + "() was compiled for CUDA but its tensors are not on a GPU");
    void* stream = resolve_stream(stream_arg, b.device_id);
    error = launch_cuda(k, b.device_id, g, stream, ptrs);
  }
  if (!error.empty()) throw std::runtime_error(error);
}

// Packs a Python number as a scalar of `t`, range-checked.
Slot scalar_slot(py::handle v, DType t, int divisibility, const std::string& kernel, const std::string& param) {
  PyObject* o = v.ptr();
  Slot s{};
  auto fail = [&](const std::string& why) {
    throw_type_error(kernel + "(): argument '" + param + "' was compiled as " + dtype_name(t) + "; " + why);
  };
  if (t == DType::I1) {
    if (!PyBool_Check(o) && !PyLong_Check(o)) fail("pass a bool, got " + std::string(Py_TYPE(o)->tp_name));
    bool x = PyObject_IsTrue(o) == 1;
    std::memcpy(s.bytes, &x, 1);
    return s;
  }
  if (is_float(t)) {
    if (!PyFloat_Check(o) && !(PyLong_Check(o) && !PyBool_Check(o))) fail("pass a float, got " + std::string(Py_TYPE(o)->tp_name));
    double x = PyFloat_AsDouble(o);
    if (x == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    if (t == DType::F32) {
      float f = static_cast<float>(x);
      std::memcpy(s.bytes, &f, 4);
    } else if (t == DType::F64) {
      std::memcpy(s.bytes, &x, 8);
    } else {
      fail("scalar arguments of this type cannot be passed from Python (use fp32)");
    }
    return s;
  }
  if (!PyLong_Check(o) || PyBool_Check(o)) fail("pass an int, got " + std::string(Py_TYPE(o)->tp_name));
  int overflow = 0;
  long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
  if (x == -1 && PyErr_Occurred()) throw py::error_already_set();
  int bits = dtype_bits(t);
  bool fits = !overflow && (is_unsigned(t) ? x >= 0 && (bits == 64 || x < (1LL << bits))
                                           : bits == 64 || (x >= -(1LL << (bits - 1)) && x < (1LL << (bits - 1))));
  if (!fits) throw_value_error(kernel + "(): argument '" + param + "' is " + py::str(v).cast<std::string>() + ", which does not fit in " + dtype_name(t));
  if (divisibility == 16 && x % 16 != 0)
    throw_value_error(kernel + "(): argument '" + param + "' is " + std::to_string(x) + ", but the kernel was compiled for values divisible by 16");
  std::memcpy(s.bytes, &x, 8);  // little-endian: the low bytes are the narrower type's value
  return s;
}

class PyCompiledKernel {
 public:
  explicit PyCompiledKernel(std::shared_ptr<CompiledKernel> k) : k_(std::move(k)) {}
  py::dict asm_dict() const {
    std::map<std::string, std::string> texts;
    {
      py::gil_scoped_release release;  // may run the front end again (a kernel loaded by a warm start)
      texts = kernel_asm(*k_);
    }
    py::dict d;
    for (const auto& [stage, text] : texts) d[py::str(stage)] = text;
    return d;
  }
  py::object metadata() const { return py::module_::import("json").attr("loads")(k_->metadata.dump()); }
  std::string name() const { return k_->name; }
  std::string backend() const { return backend_name(k_->backend); }
  const std::shared_ptr<CompiledKernel>& get() const { return k_; }

  // ck[grid](*args): every parameter in order (constexprs must equal the compiled values), as
  // Triton's CompiledKernel takes them, or the runtime arguments alone; each is checked against
  // the signature the kernel was compiled for.
  void launch(py::object grid, py::args args, py::kwargs kwargs) {
    CompiledKernel& k = *k_;
    PyObject* stream_arg = nullptr;
    for (auto item : kwargs) {
      std::string key = py::str(item.first);
      if (key != "stream") throw_type_error(k.name + "(): a compiled kernel takes only stream= as a keyword, got '" + key + "'");
      stream_arg = item.second.ptr();
    }
    size_t nparams = k.params.size(), nrt = k.num_user_args;
    bool all_params = args.size() == nparams;
    if (!all_params && args.size() != nrt) {
      std::string names;
      for (size_t i = 0; i < nrt; ++i) names += (i ? ", " : "") + k.arg_names[i];
      throw_type_error(k.name + "() compiled kernel takes its " + std::to_string(nrt) + " runtime arguments (" + names +
                       ") or all " + std::to_string(nparams) + " parameters, but " + std::to_string(args.size()) + " were given");
    }
    BoundArgs b;
    py::dict meta;
    size_t rt = 0;
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& param = all_params ? k.params[i] : k.arg_names[i];
      py::handle v = args[i];
      meta[py::str(param)] = v;
      auto ce = std::find_if(k.constexprs.begin(), k.constexprs.end(), [&](const auto& c) { return c.first == param; });
      if (all_params && ce != k.constexprs.end()) {
        std::string got = const_value_of(v, param, k.name).str();
        if (got != ce->second)
          throw_value_error(k.name + "(): '" + param + "' was compiled as " + ce->second + " but " + got + " was given");
        continue;
      }
      const Type& t = k.arg_types[rt];
      if (t.is_ptr) {
        ArgClass cls = classify_type(Py_TYPE(v.ptr()), v.ptr());
        if (!is_tensor_class(cls))
          throw_type_error(k.name + "(): argument '" + param + "' was compiled as a pointer to " + dtype_name(t.dtype) +
                           "; pass a tensor, got " + std::string(Py_TYPE(v.ptr())->tp_name));
        TensorArg ta;
        read_tensor(v.ptr(), cls, &ta);
        if (ta.dtype != t.dtype)
          throw_type_error(k.name + "(): argument '" + param + "' was compiled as a pointer to " + dtype_name(t.dtype) +
                           ", got a tensor of " + dtype_name(ta.dtype));
        if (k.arg_divisibility[rt] == 16 && ta.ptr % 16 != 0)
          throw_value_error(k.name + "(): argument '" + param + "' was compiled for 16-byte aligned data, but this tensor is not aligned");
        b.add_tensor(k.name, param, v.ptr(), ta);
      } else {
        b.add_scalar(scalar_slot(v, t.dtype, k.arg_divisibility[rt], k.name, param));
      }
      ++rt;
    }
    // Constexprs not passed still reach a grid function, as Python values where they are literals.
    for (const auto& [name, value] : k.constexprs) {
      if (meta.contains(name)) continue;
      try {
        meta[py::str(name)] = py::module_::import("ast").attr("literal_eval")(value);
      } catch (const py::error_already_set&) {
        meta[py::str(name)] = value;
      }
    }
    std::array<int32_t, 3> g = resolve_grid(k.name, grid.ptr(), [&] { return meta; });
    launch_bound(k, b, g, stream_arg);
  }

 private:
  std::shared_ptr<CompiledKernel> k_;
};

// What a launch passed besides the parameters.
struct LaunchOptions {
  int num_warps = 4;
  int num_stages = 3;
  PyObject* stream = nullptr;  // borrowed
  PyObject* grid = nullptr;    // borrowed; from grid= when the entry point takes it (run, warmup)
  bool warmup = false;         // run(..., warmup=True), as Triton's JITFunction.run: compile only
};

// One runtime argument's kind, recorded while the key is built, so that a compile on a miss
// specializes exactly what the key says.
struct ArgRec {
  ArgKind kind;
  DType dtype;
  int divisibility;
  bool const_one;   // an int equal to 1, specialized as a constexpr
};

// Triton's launch keywords (3.6's CUDAOptions fields and debug) that tilec has no setting for. One
// at Triton's default value asks for what tilec does anyway and is accepted; any other value raises,
// naming the option, so a launch never silently runs differently from what it asked. Returns
// whether `key` is one of them.
bool accept_triton_launch_option(const std::string& kernel, const std::string& key, PyObject* v) {
  struct Option {
    const char* name;
    const char* default_repr;  // Python repr of Triton's default; "None" also covers an unset option
    const char* why;
  };
  static const Option options[] = {
      {"warp_size", "32", "a warp is 32 threads on every GPU tilec targets"},
      {"ptx_version", "None", "NVRTC chooses the PTX version"},
      {"ptx_options", "None", "tilec does not run ptxas itself"},
      {"ir_override", "None", "tilec does not read IR files"},
      {"enable_fp_fusion", "True", "NVRTC may always fuse a*b+c, as Triton does by default; turning that off is not plumbed"},
      {"enable_reflect_ftz", "True", "libdevice's flush-to-zero setting is fixed"},
      {"launch_cooperative_grid", "False", "cooperative launches are not supported"},
      {"launch_pdl", "False", "programmatic dependent launch is not supported"},
      {"supported_fp8_dtypes", "None", "fp8 support follows the GPU"},
      {"deprecated_fp8_dot_operand_dtypes", "None", "fp8 support follows the GPU"},
      {"default_dot_input_precision", "'tf32'", "pass input_precision= to tl.dot instead"},
      {"allowed_dot_input_precisions", "None", "tl.dot accepts its own set"},
      {"max_num_imprecise_acc_default", "None", "pass max_num_imprecise_acc= to tl.dot instead"},
      {"extern_libs", "None", "libdevice is built in; other libraries cannot be linked"},
      {"debug", "False", "use tilec.jit(debug=True) or TILEC_DEBUG=1"},
      {"backend_name", "None", "the backend follows the tensors' device"},
      {"sanitize_overflow", "True", "overflow checks follow debug mode"},
      {"arch", "None", "the GPU's own architecture is used"},
      {"instrumentation_mode", "''", "instrumentation is not supported"},
  };
  for (const Option& o : options) {
    if (key != o.name) continue;
    std::string r = py::repr(v).cast<std::string>();
    if (r == o.default_repr || r == "None") return true;
    throw_value_error(kernel + "(): the launch option " + key + "=" + r + " is not supported by tilec (" + o.why +
                      "); only " + o.name + "=" + o.default_repr + ", Triton's default, is accepted");
  }
  return false;
}

// One per @tilec.jit function: its source, parameters and compiled specializations.
class JitKernel {
 public:
  JitKernel(std::string path, std::string text, std::string name, std::vector<std::string> names,
            std::vector<bool> constexprs, std::vector<py::object> defaults, std::vector<bool> has_default,
            std::vector<bool> no_specialize, std::vector<std::pair<std::string, std::string>> imported, bool debug)
      : file_(std::make_shared<SourceFile>(std::move(path), std::move(text))), name_(std::move(name)), debug_(debug) {
    if (names.size() > kMaxParams)
      throw_value_error(name_ + "() has " + std::to_string(names.size()) + " parameters; tilec supports at most " +
                        std::to_string(kMaxParams));
    for (auto& [p, t] : imported) imported_.push_back(std::make_shared<SourceFile>(std::move(p), std::move(t)));
    for (size_t i = 0; i < names.size(); ++i) {
      PyObject* s = PyUnicode_FromString(names[i].c_str());
      if (!s) throw py::error_already_set();
      PyUnicode_InternInPlace(&s);
      params_.push_back(Param{names[i], py::reinterpret_steal<py::object>(s), constexprs[i], no_specialize[i],
                              has_default[i] ? defaults[i] : py::object()});
    }
  }

  const std::string& name() const { return name_; }

  enum class Mode { Launch, Run, Warmup };

  // The whole launch path, with CPython's vectorcall arguments: args[0, nargs) positional, then
  // one value per name in kwnames. Launch: kernel[grid](...); Run: kernel.run(..., grid=);
  // Warmup: compile only, returns the CompiledKernel. A launch whose argument kinds were seen
  // before reads each argument once, builds the key on the stack and finds the kernel by it.
  py::object call(PyObject* grid, PyObject* const* args, size_t nargs, PyObject* kwnames, Mode mode) {
    size_t n = params_.size();
    if (nargs > n)
      throw_type_error(name_ + "() takes " + std::to_string(n) + " arguments but " + std::to_string(nargs) + " were given");
    PyObject* values[kMaxParams];
    for (size_t i = 0; i < n; ++i) values[i] = i < nargs ? args[i] : nullptr;
    LaunchOptions opt;
    opt.grid = grid;
    if (kwnames) parse_keywords(args + nargs, kwnames, values, mode, &opt);
    if (mode == Mode::Run && !opt.grid) throw_type_error(name_ + ".run() needs grid=");
    if (mode == Mode::Warmup && !opt.grid) opt.grid = one_program_grid();
    if (opt.num_warps <= 0 || opt.num_warps > 32 || (opt.num_warps & (opt.num_warps - 1)))
      throw_value_error("num_warps must be a power of two between 1 and 32, got " + std::to_string(opt.num_warps));
    if (opt.num_stages <= 0 || opt.num_stages > 8) throw_value_error("num_stages must be between 1 and 8");

    KeyBuilder key;
    BoundArgs b;  // on the stack: its arrays are trivially constructed, so this costs nothing
    ArgRec recs[kMaxParams];
    for (size_t i = 0; i < n; ++i) {
      const Param& p = params_[i];
      PyObject* o = values[i];
      if (!o) {
        if (!p.default_value) throw_type_error(name_ + "() missing required argument '" + p.name + "'");
        o = values[i] = p.default_value.ptr();
      }
      if (p.is_constexpr) {
        key.put_u8('c');
        put_const(key, o, p, name_);
        continue;
      }
      bind_runtime(p, o, &recs[i], key, b);
    }
    Backend backend = b.device_type == kDLCUDA ? Backend::Cuda : Backend::Cpu;
    int arch = backend == Backend::Cuda ? device_arch(b.device_id) : 0;
    // TILEC_DEBUG is read once per process: getenv scans the environment on every call.
    static const bool env_debug = debug_from_env();
    bool debug = debug_ || env_debug;
    key.put_u8('|');
    key.put_u8(backend == Backend::Cuda);
    if (backend == Backend::Cuda) {
      key.put_i64(arch);
      key.put_i64(opt.num_warps);
      key.put_i64(opt.num_stages);
    }
    key.put_u8(debug);

    CompiledKernel* k = find(key);
    std::shared_ptr<CompiledKernel> fresh;
    if (!k) {
      fresh = compile(key, values, recs, backend, arch, opt.num_warps, opt.num_stages, debug);
      k = fresh.get();
    }
    if (mode == Mode::Warmup || opt.warmup) return py::cast(PyCompiledKernel(fresh ? fresh : find_shared(key)));

    std::array<int32_t, 3> g = resolve_grid(name_, opt.grid, [&] {
      py::dict meta;
      for (size_t i = 0; i < n; ++i) meta[params_[i].name_obj] = py::handle(values[i]);
      return meta;
    });
    launch_bound(*k, b, g, opt.stream);
    return py::none();
  }

 private:
  static PyObject* one_program_grid() {
    static PyObject* g = Py_BuildValue("(i)", 1);
    return g;
  }

  void parse_keywords(PyObject* const* kwvalues, PyObject* kwnames, PyObject** values, Mode mode, LaunchOptions* opt) {
    size_t n = params_.size();
    Py_ssize_t nk = PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t j = 0; j < nk; ++j) {
      PyObject* key = PyTuple_GET_ITEM(kwnames, j);
      PyObject* v = kwvalues[j];
      // Launch options first (as Triton does), then parameters; pointers first, then by value.
      int options = mode == Mode::Launch ? 5 : 6;  // grid= belongs to run() and warmup() only
      int option = option_index(key, true, options);
      size_t i = option < 0 ? param_index(key, true) : n;
      if (option < 0 && i == n) {
        option = option_index(key, false, options);
        if (option < 0) i = param_index(key, false);
      }
      if (option == 0 || option == 1) {
        if (!PyLong_Check(v) || PyBool_Check(v))
          throw_type_error(name_ + "(): " + (option == 0 ? "num_warps" : "num_stages") + " must be an int, got " +
                           std::string(Py_TYPE(v)->tp_name));
        long x = PyLong_AsLong(v);
        if (x == -1 && PyErr_Occurred()) throw py::error_already_set();
        (option == 0 ? opt->num_warps : opt->num_stages) = static_cast<int>(std::clamp<long>(x, -1, 1 << 20));
      } else if (option == 2) {
        opt->stream = v;
      } else if (option == 3) {
        if (!PyLong_Check(v) || PyLong_AsLong(v) != 1)
          throw_value_error(name_ + "(): num_ctas > 1 (thread-block clusters) is not supported by tilec");
      } else if (option == 4) {
        if (v != Py_None) throw_value_error(name_ + "(): maxnreg= (a register limit) is not supported by tilec");
      } else if (option == 5) {
        opt->grid = v;
      } else if (i < n) {
        if (values[i]) throw_type_error(name_ + "() got multiple values for argument '" + params_[i].name + "'");
        values[i] = v;
      } else {
        std::string k = py::str(key).cast<std::string>();
        if (mode == Mode::Run && k == "warmup") {
          int truth = PyObject_IsTrue(v);
          if (truth < 0) throw py::error_already_set();
          opt->warmup = truth == 1;
        } else if (!accept_triton_launch_option(name_, k, v)) {
          throw_type_error(name_ + "() got an unexpected keyword argument '" + k + "'");
        }
      }
    }
  }

  // 0 num_warps, 1 num_stages, 2 stream, 3 num_ctas, 4 maxnreg, 5 grid (only through run() and
  // warmup(), whose grid= is theirs); -1 none.
  int option_index(PyObject* key, bool by_pointer, int options) const {
    PyObject* names[] = {g_names.num_warps, g_names.num_stages, g_names.stream, g_names.num_ctas, g_names.maxnreg, g_names.grid};
    for (int o = 0; o < options; ++o)
      if (by_pointer ? key == names[o] : PyUnicode_Compare(key, names[o]) == 0) return o;
    return -1;
  }

  size_t param_index(PyObject* key, bool by_pointer) const {
    size_t i = 0;
    for (; i < params_.size(); ++i) {
      PyObject* name = params_[i].name_obj.ptr();
      if (by_pointer ? key == name : PyUnicode_Compare(key, name) == 0) break;
    }
    return i;
  }

  // Reads one runtime argument: its key record, and its value into the bound slots.
  void bind_runtime(const Param& p, PyObject* o, ArgRec* rec, KeyBuilder& key, BoundArgs& b) {
    ArgClass cls = classify_type(Py_TYPE(o), o);
    Slot s{};
    switch (cls) {
      case ArgClass::NumPy: case ArgClass::Torch: case ArgClass::Buffer: case ArgClass::DLPack: {
        TensorArg t;
        read_tensor(o, cls, &t);
        bool aligned = t.ptr % 16 == 0;
        key.put_u8('p');
        key.put_u8(static_cast<uint8_t>(t.dtype));
        key.put_u8(aligned);
        *rec = ArgRec{ArgKind::Pointer, t.dtype, aligned ? 16 : 1, false};
        b.add_tensor(name_, p.name, o, t);
        return;
      }
      case ArgClass::Int: {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (x == -1 && PyErr_Occurred()) throw py::error_already_set();
        if (overflow) throw_value_error(name_ + "(): integer argument '" + p.name + "' does not fit in 64 bits");
        if (x == 1 && !p.no_specialize) {
          // Triton specializes 1 as a constant: strides of 1 make contiguous, vectorizable access.
          key.put_u8('1');
          *rec = ArgRec{ArgKind::Constexpr, DType::I32, 1, true};
          return;
        }
        bool wide = x < INT32_MIN || x > INT32_MAX;
        bool div16 = x % 16 == 0 && !p.no_specialize;
        key.put_u8('i');
        key.put_u8(wide);
        key.put_u8(div16);
        *rec = ArgRec{ArgKind::Scalar, wide ? DType::I64 : DType::I32, div16 ? 16 : 1, false};
        if (wide) {
          std::memcpy(s.bytes, &x, 8);
        } else {
          int32_t y = static_cast<int32_t>(x);
          std::memcpy(s.bytes, &y, 4);
        }
        b.add_scalar(s);
        return;
      }
      case ArgClass::Float: {
        double d = PyFloat_AsDouble(o);
        if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
        float f = static_cast<float>(d);
        key.put_u8('f');
        *rec = ArgRec{ArgKind::Scalar, DType::F32, 1, false};
        std::memcpy(s.bytes, &f, 4);
        b.add_scalar(s);
        return;
      }
      case ArgClass::Bool: {
        int truth = PyObject_IsTrue(o);
        if (truth < 0) throw py::error_already_set();
        bool x = truth == 1;
        key.put_u8('b');
        *rec = ArgRec{ArgKind::Scalar, DType::I1, 1, false};
        std::memcpy(s.bytes, &x, 1);
        b.add_scalar(s);
        return;
      }
      case ArgClass::None:
        // As in Triton, None specializes the argument to a constexpr None (`if bias_ptr is not None:`).
        key.put_u8('n');
        *rec = ArgRec{ArgKind::Constexpr, DType::I32, 1, false};
        return;
      case ArgClass::Other:
        break;
    }
    throw_type_error(name_ + "(): argument '" + p.name + "' has unsupported type " + std::string(Py_TYPE(o)->tp_name) +
                     "; pass a tensor (anything with __dlpack__), an int, a float or a bool");
  }

  struct Spec {
    uint64_t hash;
    std::string key;
    std::shared_ptr<CompiledKernel> kernel;
  };

  // Specializations are never removed, so the raw pointer stays valid while this JitKernel lives
  // (every launcher holds a reference to it).
  CompiledKernel* find(const KeyBuilder& key) {
    uint64_t h = key.hash();
    std::lock_guard<std::mutex> lock(mu_);
    for (const Spec& s : specs_)
      if (s.hash == h && s.key.size() == key.size() && std::memcmp(s.key.data(), key.data(), key.size()) == 0)
        return s.kernel.get();
    return nullptr;
  }

  std::shared_ptr<CompiledKernel> find_shared(const KeyBuilder& key) {
    uint64_t h = key.hash();
    std::lock_guard<std::mutex> lock(mu_);
    for (const Spec& s : specs_)
      if (s.hash == h && s.key.size() == key.size() && std::memcmp(s.key.data(), key.data(), key.size()) == 0)
        return s.kernel;
    throw std::logic_error("specialization vanished");
  }

  // A miss: the signature the key describes, compiled (the GIL released meanwhile) and recorded.
  std::shared_ptr<CompiledKernel> compile(const KeyBuilder& key, PyObject* const* values, const ArgRec* recs, Backend backend,
                                          int arch, int num_warps, int num_stages, bool debug) {
    Signature sig;
    for (size_t i = 0; i < params_.size(); ++i) {
      const Param& p = params_[i];
      if (p.is_constexpr) {
        sig.args.push_back(ArgSpec{p.name, ArgKind::Constexpr, DType::I32, 1, const_value_of(values[i], p.name, name_)});
        continue;
      }
      const ArgRec& r = recs[i];
      ConstValue c = r.const_one ? ConstValue::of_int(1) : ConstValue{};
      sig.args.push_back(ArgSpec{p.name, r.kind, r.dtype, r.divisibility, r.kind == ArgKind::Constexpr ? c : ConstValue{}});
    }
    KernelOptions options;
    options.backend = backend;
    options.cuda.arch = arch;
    options.cuda.num_warps = num_warps;
    options.cuda.num_stages = num_stages;
    options.debug = debug;
    Diagnostics diags;
    std::shared_ptr<CompiledKernel> k;
    {
      py::gil_scoped_release release;
      k = compile_kernel(KernelSource{file_, name_, sig, imported_}, options, diags);
    }
    if (!k) {
      PyErr_SetString(g_compile_error, diags.render().c_str());
      throw py::error_already_set();
    }
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t h = key.hash();
    // Another thread may have compiled the same key meanwhile: keep the first.
    for (const Spec& s : specs_)
      if (s.hash == h && s.key.size() == key.size() && std::memcmp(s.key.data(), key.data(), key.size()) == 0)
        return s.kernel;
    specs_.push_back(Spec{h, std::string(key.data(), key.size()), k});
    return k;
  }

  std::shared_ptr<SourceFile> file_;
  std::vector<std::shared_ptr<const SourceFile>> imported_;  // files of @jit helpers the kernel imports
  std::string name_;
  bool debug_ = false;
  std::vector<Param> params_;
  std::mutex mu_;  // guards specs_; never held while compiling or launching
  std::vector<Spec> specs_;
};

// ---- the Python-facing launch objects ----------------------------------------------------------
// Plain CPython types, not pybind11 classes: `kernel[grid]` and the launcher's call are on every
// launch, and these slots take their arguments without building tuples or dicts.

// Turns a C++ exception from the launch path into the Python exception it stands for.
PyObject* set_python_error() {
  try {
    throw;
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

// _C.KernelBase: the base class of tilec.jit's JITFunction; holds its JitKernel.
struct KernelObject {
  PyObject_HEAD
  PyObject* holder;  // the pybind11 JitKernel object
  JitKernel* kernel;
};

// kernel[grid]: the kernel and its grid, launched by calling it (and reusable: `launch =
// kernel[grid]` hoisted out of a loop re-uses the bound grid).
struct LauncherObject {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  PyObject* owner;  // the KernelObject
  JitKernel* kernel;
  PyObject* grid;
};

// Static types, the C API's usual form: the head is initialized here, every slot in init_types().
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
PyTypeObject g_launcher_type = {PyVarObject_HEAD_INIT(nullptr, 0)};
PyTypeObject g_kernel_base_type = {PyVarObject_HEAD_INIT(nullptr, 0)};
#pragma GCC diagnostic pop

JitKernel* attached(PyObject* self) {
  auto* k = reinterpret_cast<KernelObject*>(self);
  if (!k->kernel) throw std::runtime_error("this tilec kernel was not initialized (JITFunction.__init__ did not run)");
  return k->kernel;
}

PyObject* launcher_vectorcall(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  auto* l = reinterpret_cast<LauncherObject*>(self);
  try {
    l->kernel->call(l->grid, args, PyVectorcall_NARGS(nargsf), kwnames, JitKernel::Mode::Launch);
    Py_RETURN_NONE;
  } catch (...) {
    return set_python_error();
  }
}

int launcher_traverse(PyObject* self, visitproc visit, void* arg) {
  auto* l = reinterpret_cast<LauncherObject*>(self);
  Py_VISIT(l->owner);
  Py_VISIT(l->grid);
  return 0;
}

int launcher_clear(PyObject* self) {
  auto* l = reinterpret_cast<LauncherObject*>(self);
  Py_CLEAR(l->grid);
  // owner stays: a call after clearing (during collection) must still find the kernel.
  return 0;
}

void launcher_dealloc(PyObject* self) {
  auto* l = reinterpret_cast<LauncherObject*>(self);
  PyObject_GC_UnTrack(self);
  Py_CLEAR(l->grid);
  Py_CLEAR(l->owner);
  PyObject_GC_Del(self);
}

PyObject* launcher_grid(PyObject* self, void*) {
  PyObject* g = reinterpret_cast<LauncherObject*>(self)->grid;
  if (!g) Py_RETURN_NONE;
  Py_INCREF(g);
  return g;
}

PyGetSetDef g_launcher_getset[] = {{"grid", launcher_grid, nullptr, "The bound grid.", nullptr}, {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyObject* kernel_subscript(PyObject* self, PyObject* grid) {
  try {
    JitKernel* k = attached(self);
    auto* l = PyObject_GC_New(LauncherObject, &g_launcher_type);
    if (!l) return nullptr;
    l->vectorcall = launcher_vectorcall;
    Py_INCREF(self);
    l->owner = self;
    l->kernel = k;
    Py_INCREF(grid);
    l->grid = grid;
    PyObject_GC_Track(l);
    return reinterpret_cast<PyObject*>(l);
  } catch (...) {
    return set_python_error();
  }
}

PyObject* kernel_run(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  try {
    return attached(self)->call(nullptr, args, static_cast<size_t>(nargs), kwnames, JitKernel::Mode::Run).release().ptr();
  } catch (...) {
    return set_python_error();
  }
}

PyObject* kernel_warmup(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  try {
    return attached(self)->call(nullptr, args, static_cast<size_t>(nargs), kwnames, JitKernel::Mode::Warmup).release().ptr();
  } catch (...) {
    return set_python_error();
  }
}

PyObject* kernel_attach(PyObject* self, PyObject* holder) {
  try {
    auto* k = reinterpret_cast<KernelObject*>(self);
    JitKernel* jk = py::cast<JitKernel*>(py::handle(holder));
    Py_INCREF(holder);
    Py_XSETREF(k->holder, holder);
    k->kernel = jk;
    Py_RETURN_NONE;
  } catch (...) {
    return set_python_error();
  }
}

// A Python subclass's own slots (subtype_traverse / subtype_dealloc) visit and release the
// reference its instances hold to the type: doing it here too made the collector free the class
// of live kernels at exit (a crash in the garbage collector on the GPU machine).
int kernel_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(reinterpret_cast<KernelObject*>(self)->holder);
  return 0;
}

int kernel_clear(PyObject* self) {
  auto* k = reinterpret_cast<KernelObject*>(self);
  k->kernel = nullptr;
  Py_CLEAR(k->holder);
  return 0;
}

void kernel_dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  kernel_clear(self);
  Py_TYPE(self)->tp_free(self);
}

PyMethodDef g_kernel_methods[] = {
    {"_attach", kernel_attach, METH_O, "Attaches the _C.JitKernel this kernel launches."},
    {"run", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(kernel_run)), METH_FASTCALL | METH_KEYWORDS,
     "run(*args, grid, **kwargs): launches with an explicit grid, as kernel[grid](*args, **kwargs) does."},
    {"warmup", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(kernel_warmup)), METH_FASTCALL | METH_KEYWORDS,
     "warmup(*args, grid=(1,), **kwargs): compiles for these arguments without launching and returns the "
     "CompiledKernel (.asm[\"ir\"], .asm[\"ir-opt\"], .asm[\"cpp\"] or .asm[\"cuda\"]/[\"ptx\"], .metadata)."},
    {nullptr, nullptr, 0, nullptr}};

PyMappingMethods g_kernel_mapping = {nullptr, kernel_subscript, nullptr};

void init_types(py::module_& m) {
  g_launcher_type.tp_name = "tilec._C.Launcher";
  g_launcher_type.tp_doc = "kernel[grid]: call it with the kernel's arguments to launch; reusable.";
  g_launcher_type.tp_basicsize = sizeof(LauncherObject);
  g_launcher_type.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
  g_launcher_type.tp_vectorcall_offset = offsetof(LauncherObject, vectorcall);
  g_launcher_type.tp_call = PyVectorcall_Call;
  g_launcher_type.tp_traverse = launcher_traverse;
  g_launcher_type.tp_clear = launcher_clear;
  g_launcher_type.tp_dealloc = launcher_dealloc;
  g_launcher_type.tp_getset = g_launcher_getset;
  if (PyType_Ready(&g_launcher_type) < 0) throw py::error_already_set();

  g_kernel_base_type.tp_name = "tilec._C.KernelBase";
  g_kernel_base_type.tp_doc = "Base class of tilec.jit's JITFunction: kernel[grid], run() and warmup() in C++.";
  g_kernel_base_type.tp_basicsize = sizeof(KernelObject);
  g_kernel_base_type.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC;
  g_kernel_base_type.tp_new = PyType_GenericNew;
  g_kernel_base_type.tp_traverse = kernel_traverse;
  g_kernel_base_type.tp_clear = kernel_clear;
  g_kernel_base_type.tp_dealloc = kernel_dealloc;
  g_kernel_base_type.tp_as_mapping = &g_kernel_mapping;
  g_kernel_base_type.tp_methods = g_kernel_methods;
  if (PyType_Ready(&g_kernel_base_type) < 0) throw py::error_already_set();
  Py_INCREF(&g_launcher_type);
  Py_INCREF(&g_kernel_base_type);
  m.add_object("Launcher", py::handle(reinterpret_cast<PyObject*>(&g_launcher_type)));
  m.add_object("KernelBase", py::handle(reinterpret_cast<PyObject*>(&g_kernel_base_type)));
}

// compiled_kernel[grid]: the same for a CompiledKernel.
struct CompiledLauncher {
  PyCompiledKernel kernel;
  py::object grid;
};

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "tilec native module: compiler and launcher";
  init_names();
  g_compile_error = PyErr_NewExceptionWithDoc("tilec.CompileError",
                                              "A kernel failed to compile; the message has file:line:col, the line and a caret.",
                                              PyExc_Exception, nullptr);
  m.add_object("CompileError", py::handle(g_compile_error));
  m.attr("__version__") = TILEC_VERSION;
  init_types(m);

  py::class_<PyCompiledKernel>(m, "CompiledKernel")
      .def_property_readonly("asm", &PyCompiledKernel::asm_dict)
      .def_property_readonly("metadata", &PyCompiledKernel::metadata)
      .def_property_readonly("name", &PyCompiledKernel::name)
      .def_property_readonly("backend", &PyCompiledKernel::backend)
      .def("__getitem__", [](const PyCompiledKernel& k, py::object grid) { return CompiledLauncher{k, std::move(grid)}; })
      .def("__repr__", [](const PyCompiledKernel& k) { return "<tilec.CompiledKernel " + k.name() + " (" + k.backend() + ")>"; });

  py::class_<JitKernel, std::shared_ptr<JitKernel>>(m, "JitKernel")
      .def(py::init<std::string, std::string, std::string, std::vector<std::string>, std::vector<bool>, std::vector<py::object>,
                    std::vector<bool>, std::vector<bool>, std::vector<std::pair<std::string, std::string>>, bool>())
      .def_property_readonly("name", &JitKernel::name);

  py::class_<CompiledLauncher>(m, "CompiledLauncher")
      .def("__call__", [](CompiledLauncher& l, py::args args, py::kwargs kwargs) { l.kernel.launch(l.grid, args, kwargs); });
  m.def("compile", [](const std::string& source, const std::string& path, const std::string& kernel,
                      const std::string& signature, const std::vector<std::string>& constexprs, const std::string& backend,
                      int arch, int num_warps, int num_stages, py::object debug) {
    std::string error;
    std::optional<Signature> sig = parse_signature(signature, constexprs, &error);
    if (!sig) throw py::value_error(error);
    KernelOptions options;
    if (backend == "cuda") options.backend = Backend::Cuda;
    else if (backend != "cpu") throw py::value_error("backend must be 'cpu' or 'cuda', got '" + backend + "'");
    options.cuda = CudaOptions{arch, num_warps, num_stages};
    options.debug = debug.is_none() ? debug_from_env() : debug.cast<bool>();
    Diagnostics diags;
    std::shared_ptr<CompiledKernel> k;
    KernelSource src{std::make_shared<SourceFile>(path, source), kernel, *sig};
    {
      py::gil_scoped_release release;
      k = compile_kernel(src, options, diags);
    }
    if (!k) {
      PyErr_SetString(g_compile_error, diags.render().c_str());
      throw py::error_already_set();
    }
    return PyCompiledKernel(k);
  });
  m.def("emit", [](const std::string& source, const std::string& path, const std::string& kernel, const std::string& signature,
                   const std::vector<std::string>& constexprs, const std::string& stage, int arch) {
    std::string error;
    std::optional<Signature> sig = parse_signature(signature, constexprs, &error);
    if (!sig) throw py::value_error(error);
    std::optional<Stage> st = stage_from_name(stage);
    if (!st) throw py::value_error("unknown stage '" + stage + "'");
    Diagnostics diags;
    KernelSource src{std::make_shared<SourceFile>(path, source), kernel, *sig};
    std::optional<std::string> out = emit_stage(src, *st, TargetOptions{arch, 4, 3}, diags);
    if (!out) {
      PyErr_SetString(g_compile_error, diags.render().c_str());
      throw py::error_already_set();
    }
    return *out;
  });
  // The launch floor for bench/gpu_bench.py: `args` are the kernel's runtime arguments (tensors
  // or numbers, bound as a CompiledKernel launch binds them); returns host seconds per launch.
  m.def("_time_raw_cuda_launches", [](const PyCompiledKernel& ck, py::object grid, py::tuple args, int n) {
    CompiledKernel& k = *ck.get();
    if (k.backend != Backend::Cuda) throw py::value_error("_time_raw_cuda_launches needs a CUDA kernel");
    if (args.size() != k.num_user_args || k.debug) throw py::value_error("pass the runtime arguments of a non-debug kernel");
    BoundArgs b;
    for (size_t i = 0; i < args.size(); ++i) {
      PyObject* v = args[i].ptr();
      if (k.arg_types[i].is_ptr) {
        TensorArg t;
        read_tensor(v, classify_type(Py_TYPE(v), v), &t);
        b.add_tensor(k.name, k.arg_names[i], v, t);
      } else {
        b.add_scalar(scalar_slot(args[i], k.arg_types[i].dtype, 1, k.name, k.arg_names[i]));
      }
    }
    if (b.device_type != kDLCUDA) throw py::value_error("pass CUDA tensors");
    std::array<int32_t, 3> g = resolve_grid(k.name, grid.ptr(), [] { return py::dict(); });
    void* ptrs[kMaxSlots];
    for (size_t i = 0; i < b.nslots; ++i) ptrs[i] = b.slots[i].bytes;
    void* stream = resolve_stream(nullptr, b.device_id);
    std::string error;
    double s = time_raw_cuda_launches(k, b.device_id, g, stream, ptrs, n, &error);
    if (s < 0) throw std::runtime_error(error);
    return s;
  });
  // For `tilec cache` and `tilec doctor` (python/tilec/cli.py).
  m.def("cache_entries", [](const std::string& root) {
    py::list out;
    for (const CacheEntryInfo& e : list_cache_entries(root)) {
      py::dict d;
      d["key"] = e.key;
      d["dir"] = e.dir;
      d["bytes"] = e.bytes;
      d["last_used"] = e.last_used;
      d["meta"] = py::module_::import("json").attr("loads")(e.meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      out.append(d);
    }
    return out;
  });
  m.def("cache_remove", [](const std::string& root, const std::string& key) { KernelCache(root).remove(key); });
  m.def("cache_evict", &evict_cache_entries, py::arg("root"), py::arg("max_bytes"), py::arg("keep") = "");
  m.def("set_nvrtc_search_dirs", &Nvrtc::set_search_dirs);
  m.def("nvrtc_info", [] {
    std::string error;
    const Nvrtc* n = Nvrtc::get(&error);
    py::dict d;
    if (n == nullptr) {
      d["error"] = error;
      return d;
    }
    d["path"] = n->library_path();
    d["version"] = n->version();
    d["include_dir"] = n->include_dir();
    d["archs"] = n->supported_archs();
    return d;
  });
  m.def("host_compiler_info", [] {
    const HostCompiler& cc = host_compiler(runtime_include_dir());
    std::string flags;
    for (const std::string& f : cc.flags) flags += (flags.empty() ? "" : " ") + f;
    py::dict d;
    d["command"] = cc.command;
    d["version"] = cc.version;
    d["flags"] = flags;
    d["isa"] = cpu_isa_description();
    return d;
  });
  m.def("set_runtime_include_dir", &set_runtime_include_dir);
  m.def("cache_root", &default_cache_root);
  m.def("runtime_include_dir", &runtime_include_dir);
}
