// Input: the Python objects of one kernel launch. Output: what python/arguments.h promises, read
// through the cheapest route each kind of object has (NumPy's array fields, torch's C getters).
#include "python/arguments.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "runtime/dlpack_view.h"

namespace tilec::pyargs {

Names g_names;

void init_names() {
  auto intern = [](const char* s) { return PyUnicode_InternFromString(s); };
  g_names = Names{intern("data_ptr"), intern("dtype"),      intern("get_device"),   intern("shape"),
                  intern("stride"),   intern("num_warps"),  intern("num_stages"),   intern("stream"),
                  intern("num_ctas"), intern("maxnreg"),    intern("grid"),         intern("cuda_stream"),
                  intern("_tilec_dtype"), intern("value"), intern("_tilec_constexpr"), intern("torch")};
}


namespace {

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
    if (!t) throw_type_error("unsupported tensor dtype " + py::str(dtype_obj).cast<std::string>() + " (tilec supports bool, int8-64, uint8-64, float8_e5m2, float8_e4m3fn, float16, bfloat16, float32, float64)");
    Py_INCREF(dtype_obj);  // dtypes are singletons; keep the key alive
    it = cache.emplace(dtype_obj, *t).first;
  }
  last = dtype_obj;
  last_type = it->second;
  return it->second;
}

// What `obj.name` finds in obj's type, looked up once per type at each call site (one AttrCache
// there): a generic lookup walks the type's MRO dicts and checks the instance's __dict__ on every
// call, a third of reading a torch tensor (bench/RESULTS.md). Attributes set on one instance
// (t.data_ptr = ...) are not seen: tilec reads what the tensor type says, as C code would. An entry
// holds while the type's version tag does: assigning to the type (or a base) changes the tag.
struct TypeAttribute {
  PyObject* found = nullptr;  // borrowed from the type's dict; nullptr when the type has none
  // A C method taking no arguments or a C getter whose descriptor belongs to a base of the type:
  // its C function is called directly, without the instance check and dispatch of each call.
  bool direct = false;
};

struct AttrCache {
  static constexpr int kWays = 2;  // torch.Tensor and nn.Parameter in one launch
  PyTypeObject* type[kWays] = {};
  unsigned version[kWays] = {};
  TypeAttribute attr[kWays] = {};
  int next = 0;
};

// Whether `found`, an attribute of `type`, may be called through its C function with an instance
// of `type`: the descriptor's own type check, done once per type instead of on every call.
bool callable_directly(PyTypeObject* type, PyObject* found) {
  if (found && Py_IS_TYPE(found, &PyMethodDescr_Type)) {
    auto* d = reinterpret_cast<PyMethodDescrObject*>(found);
    return (d->d_method->ml_flags & ~METH_COEXIST) == METH_NOARGS && PyType_IsSubtype(type, PyDescr_TYPE(d));
  }
  if (found && Py_IS_TYPE(found, &PyGetSetDescr_Type)) {
    auto* d = reinterpret_cast<PyGetSetDescrObject*>(found);
    return d->d_getset->get != nullptr && PyType_IsSubtype(type, PyDescr_TYPE(d));
  }
  return false;
}

TypeAttribute type_attribute(AttrCache& cache, PyTypeObject* type, PyObject* name) {
  // A modified type's tag is 0 until its next lookup, and entries never record 0.
  for (int i = 0; i < AttrCache::kWays; ++i)
    if (cache.type[i] == type && cache.version[i] == type->tp_version_tag) return cache.attr[i];
  TypeAttribute a;
  a.found = _PyType_Lookup(type, name);  // gives the type a valid version tag where it can
  a.direct = callable_directly(type, a.found);
  // Kept for the process, each once: a freed type's address could be reused by another type.
  static std::unordered_set<PyObject*> kept;
  for (PyObject* o : {reinterpret_cast<PyObject*>(type), a.found})
    if (o && kept.insert(o).second) Py_INCREF(o);
  if (PyType_HasFeature(type, Py_TPFLAGS_VALID_VERSION_TAG) && type->tp_version_tag != 0) {
    int i = cache.next;
    cache.next = (i + 1) % AttrCache::kWays;
    cache.type[i] = type;
    cache.version[i] = type->tp_version_tag;
    cache.attr[i] = a;
  }
  return a;
}

// obj.name(): a C method (method_descriptor) of obj's type is called directly.
py::object call_method0(PyObject* obj, PyObject* name, AttrCache& cache) {
  TypeAttribute a = type_attribute(cache, Py_TYPE(obj), name);
  PyObject* r = a.direct ? reinterpret_cast<PyMethodDescrObject*>(a.found)->d_method->ml_meth(obj, nullptr)
                : a.found && Py_IS_TYPE(a.found, &PyMethodDescr_Type)
                    ? PyObject_Vectorcall(a.found, &obj, 1, nullptr)
                    : PyObject_VectorcallMethod(name, &obj, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
  if (!r) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(r);
}

// obj.name: a C getter (getset_descriptor, a data descriptor that no instance __dict__ shadows)
// of obj's type is called directly.
py::object get_attribute(PyObject* obj, PyObject* name, AttrCache& cache) {
  TypeAttribute a = type_attribute(cache, Py_TYPE(obj), name);
  PyGetSetDef* getset = a.direct ? reinterpret_cast<PyGetSetDescrObject*>(a.found)->d_getset : nullptr;
  PyObject* r = getset ? getset->get(obj, getset->closure) : PyObject_GetAttr(obj, name);
  if (!r) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(r);
}

void read_torch(PyObject* obj, TensorArg* t) {
  static AttrCache data_ptr, dtype_attr, get_device;
  py::object ptr = call_method0(obj, g_names.data_ptr, data_ptr);
  // unsigned long, not long long: 64 bits here too, read without CPython's byte-array route.
  static_assert(sizeof(unsigned long) == 8, "a 64-bit unsigned long");
  t->ptr = PyLong_AsUnsignedLong(ptr.ptr());
  if (t->ptr == ~uint64_t{0} && PyErr_Occurred()) throw py::error_already_set();
  py::object dtype = get_attribute(obj, g_names.dtype, dtype_attr);
  t->dtype = torch_dtype(dtype.ptr());
  py::object dev = call_method0(obj, g_names.get_device, get_device);
  long d = PyLong_AsLong(dev.ptr());
  if (d == -1 && PyErr_Occurred()) throw py::error_already_set();
  t->device_type = d < 0 ? kDLCPU : kDLCUDA;
  t->device_id = d < 0 ? 0 : static_cast<int>(d);
}

// The span of a torch tensor: shape and stride() are read only for launches that need it (a
// kernel with a 32-bit offset from this argument, or debug mode).
int64_t torch_span(PyObject* t) {
  static AttrCache shape_attr, stride;
  py::object shape = get_attribute(t, g_names.shape, shape_attr);
  py::object strides = call_method0(t, g_names.stride, stride);
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

}  // namespace

// The GIL guards the caches here, as everywhere on the launch path.
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

int64_t tensor_span_bound(PyObject* obj, TensorArg& t) {
  if (t.span >= 0 || t.cls != ArgClass::Torch) return tensor_span(obj, t);
  static PyObject* storage_name = PyUnicode_InternFromString("untyped_storage");
  static PyObject* nbytes_name = PyUnicode_InternFromString("nbytes");
  static AttrCache untyped_storage, nbytes;
  // Objects that only look like torch tensors (data_ptr, dtype, get_device, shape, stride()).
  if (!type_attribute(untyped_storage, Py_TYPE(obj), storage_name).found) return tensor_span(obj, t);
  py::object storage = call_method0(obj, storage_name, untyped_storage);
  py::object size = call_method0(storage.ptr(), nbytes_name, nbytes);
  long long bytes = PyLong_AsLongLong(size.ptr());
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

std::string device_str(int type, int id) {
  return type == kDLCUDA ? "cuda:" + std::to_string(id) : type == kDLCPU ? "cpu" : "device type " + std::to_string(type);
}

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

}  // namespace tilec::pyargs
