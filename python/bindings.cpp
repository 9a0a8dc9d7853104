// Input: Python calls from the tilec package. Output: the native module tilec._C: compilation,
// and the launcher whose __call__ binds arguments, specializes, compiles once per key and launches.
// The whole launch path is C++ so that errors carry no binding frames and launches stay cheap.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "jit/cache.h"
#include "jit/kernel.h"
#include "runtime/dlpack.h"
#include "runtime/dlpack_view.h"

namespace py = pybind11;
using namespace tilec;

namespace {

PyObject* g_compile_error = nullptr;

[[noreturn]] void throw_type_error(const std::string& msg) { throw py::type_error(msg); }
[[noreturn]] void throw_value_error(const std::string& msg) { throw py::value_error(msg); }

// How a Python type's objects are read as kernel arguments; decided once per type.
enum class ArgClass { Torch, Buffer, DLPack, Int, Float, Bool, None, Other };

ArgClass classify_type(PyTypeObject* type, PyObject* obj) {
  static std::unordered_map<PyTypeObject*, ArgClass> cache;
  auto it = cache.find(type);
  if (it != cache.end()) return it->second;
  ArgClass c = ArgClass::Other;
  py::handle h(obj);
  if (PyBool_Check(obj)) c = ArgClass::Bool;
  else if (PyLong_Check(obj)) c = ArgClass::Int;
  else if (PyFloat_Check(obj)) c = ArgClass::Float;
  else if (obj == Py_None) c = ArgClass::None;
  else if (std::strncmp(type->tp_name, "numpy.", 6) == 0 && std::strcmp(type->tp_name, "numpy.ndarray") != 0 &&
           py::hasattr(h, "dtype") && py::hasattr(h, "item") && h.attr("ndim").cast<int>() == 0) {
    // NumPy scalars (np.int64(5), np.float32(1.5), np.bool_) are numbers, not 0-d tensors.
    char kind = py::str(h.attr("dtype").attr("kind")).cast<std::string>()[0];
    c = kind == 'b' ? ArgClass::Bool : (kind == 'i' || kind == 'u') ? ArgClass::Int : kind == 'f' ? ArgClass::Float : ArgClass::Other;
  }
  else if (py::hasattr(h, "data_ptr") && py::hasattr(h, "get_device") && py::hasattr(h, "dtype")) c = ArgClass::Torch;
  else if (PyObject_CheckBuffer(obj) && py::hasattr(h, "__array_interface__")) c = ArgClass::Buffer;
  else if (py::hasattr(h, "__dlpack__")) c = ArgClass::DLPack;
  cache.emplace(type, c);
  return c;
}

struct TensorArg {
  uint64_t ptr = 0;
  DType dtype = DType::F32;
  int device_type = kDLCPU;  // kDLCPU or kDLCUDA
  int device_id = 0;
  bool readonly = false;     // a NumPy array with writeable=False, a DLPack tensor flagged read-only
  int64_t span = -1;         // elements reachable from ptr (largest offset + 1); -1: not read yet (torch)
};

// Largest element offset reachable from the first element, plus one (0 for an empty tensor).
int64_t span_of(const int64_t* shape, const int64_t* strides, int ndim) {
  int64_t last = 0;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 0) return 0;
    if (strides[d] > 0) last += (shape[d] - 1) * strides[d];
  }
  return last + 1;
}

// PyTorch tensors are read through their Python API; the span is only read when a launch needs
// it, through the C API, since it runs on every launch that checks offsets.
int64_t torch_span(PyObject* t) {
  static PyObject* shape_name = PyUnicode_InternFromString("shape");
  static PyObject* stride_name = PyUnicode_InternFromString("stride");
  py::object shape = py::reinterpret_steal<py::object>(PyObject_GetAttr(t, shape_name));
  if (!shape) throw py::error_already_set();
  py::object strides = py::reinterpret_steal<py::object>(PyObject_CallMethodNoArgs(t, stride_name));
  if (!strides) throw py::error_already_set();
  if (!PyTuple_Check(shape.ptr()) || !PyTuple_Check(strides.ptr()) || PyTuple_GET_SIZE(shape.ptr()) != PyTuple_GET_SIZE(strides.ptr()))
    throw_type_error("a tensor's shape and stride() must be tuples of one length");
  int ndim = static_cast<int>(PyTuple_GET_SIZE(shape.ptr()));
  std::vector<int64_t> dims(ndim), steps(ndim);
  for (int d = 0; d < ndim; ++d) {
    dims[d] = PyLong_AsLongLong(PyTuple_GET_ITEM(shape.ptr(), d));
    steps[d] = PyLong_AsLongLong(PyTuple_GET_ITEM(strides.ptr(), d));
  }
  if (PyErr_Occurred()) throw py::error_already_set();
  return span_of(dims.data(), steps.data(), ndim);
}

// Whether a type's __dlpack__ takes max_version= (DLPack 1.0, which can flag read-only tensors).
std::unordered_map<PyTypeObject*, bool>& dlpack_versioned_types() {
  static std::unordered_map<PyTypeObject*, bool> m;
  return m;
}

std::string device_str(int type, int id) {
  return type == kDLCUDA ? "cuda:" + std::to_string(id) : type == kDLCPU ? "cpu" : "device type " + std::to_string(type);
}

DType torch_dtype(PyObject* dtype_obj) {
  static std::unordered_map<PyObject*, DType> cache;
  auto it = cache.find(dtype_obj);
  if (it != cache.end()) return it->second;
  std::string name = py::str(dtype_obj);
  if (name.rfind("torch.", 0) == 0) name = name.substr(6);
  if (name == "bool") name = "int1";
  std::optional<DType> t = dtype_from_name(name);
  if (!t) throw_type_error("unsupported tensor dtype " + py::str(dtype_obj).cast<std::string>() + " (tilec supports bool, int8-64, uint8-64, float16, bfloat16, float32, float64)");
  Py_INCREF(dtype_obj);  // dtypes are singletons; keep the key alive
  cache.emplace(dtype_obj, *t);
  return *t;
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

TensorArg read_tensor(PyObject* obj, ArgClass cls) {
  TensorArg t;
  py::handle h(obj);
  switch (cls) {
    case ArgClass::Torch: {
      t.ptr = h.attr("data_ptr")().cast<uint64_t>();
      py::object dtype = h.attr("dtype");
      t.dtype = torch_dtype(dtype.ptr());
      int dev = h.attr("get_device")().cast<int>();
      t.device_type = dev < 0 ? kDLCPU : kDLCUDA;
      t.device_id = dev < 0 ? 0 : dev;
      return t;
    }
    case ArgClass::Buffer: {
      Py_buffer b;
      if (PyObject_GetBuffer(obj, &b, PyBUF_RECORDS_RO) != 0) throw py::error_already_set();
      t.ptr = reinterpret_cast<uint64_t>(b.buf);
      t.readonly = b.readonly != 0;
      std::vector<int64_t> shape(b.ndim), strides(b.ndim);
      for (int d = 0; d < b.ndim; ++d) {
        shape[d] = b.shape[d];
        strides[d] = b.strides[d] / (b.itemsize > 0 ? b.itemsize : 1);
      }
      t.span = span_of(shape.data(), strides.data(), b.ndim);
      try {
        t.dtype = buffer_dtype(b);
      } catch (...) {
        PyBuffer_Release(&b);
        throw;
      }
      PyBuffer_Release(&b);  // the array object itself keeps the memory alive during the launch
      return t;
    }
    case ArgClass::DLPack: {
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
        if (!dlpack_to_view(*managed, &view, &t.readonly, &error)) throw_type_error(error);
      } else {
        auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
        if (!managed) throw py::error_already_set();
        if (!dlpack_to_view(managed->dl_tensor, &view, &error)) throw_type_error(error);
      }
      t.ptr = reinterpret_cast<uint64_t>(view.data);
      t.dtype = view.dtype;
      t.span = span_of(view.shape.data(), view.strides.data(), static_cast<int>(view.shape.size()));
      t.device_type = view.device_type == kDLCUDAHost ? kDLCPU : view.device_type;
      t.device_id = view.device_id;
      if (t.device_type != kDLCPU && t.device_type != kDLCUDA)
        throw_value_error("tensors on " + device_str(view.device_type, view.device_id) + " are not supported (cpu and cuda are)");
      return t;
    }
    case ArgClass::Int: case ArgClass::Float: case ArgClass::Bool: case ArgClass::None: case ArgClass::Other:
      break;
  }
  throw_type_error("not a tensor");
}

struct Param {
  std::string name;
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

int cached_device_arch(int device) {
  static std::mutex mu;
  static std::unordered_map<int, int> archs;
  std::lock_guard<std::mutex> lock(mu);
  auto it = archs.find(device);
  if (it != archs.end()) return it->second;
  std::string error;
  int arch = cuda_device_arch(device, &error);
  if (arch < 0) throw std::runtime_error("CUDA tensors were passed but the GPU cannot be used: " + error);
  archs[device] = arch;
  return arch;
}

// A launch's runtime arguments once bound, in the kernel's argument order.
struct BoundArgs {
  std::vector<Slot> slots;
  std::vector<TensorArg> tensors;   // parallel to slots; meaningful where is_tensor
  std::vector<bool> is_tensor;
  std::vector<PyObject*> objects;   // the argument objects, alive for the call
  int device_type = -1, device_id = 0;
  std::string first_device_arg;

  void add_scalar(const Slot& s) {
    slots.push_back(s);
    tensors.emplace_back();
    is_tensor.push_back(false);
    objects.push_back(nullptr);
  }

  void add_tensor(const std::string& kernel, const std::string& param, PyObject* o, const TensorArg& t) {
    if (device_type < 0) {
      device_type = t.device_type;
      device_id = t.device_id;
      first_device_arg = param;
    } else if (device_type != t.device_type || device_id != t.device_id) {
      throw_value_error(kernel + "(): argument '" + first_device_arg + "' is on " + device_str(device_type, device_id) +
                        " but '" + param + "' is on " + device_str(t.device_type, t.device_id) +
                        "; all tensors of one launch must be on one device");
    }
    Slot s{};
    std::memcpy(s.bytes, &t.ptr, 8);
    slots.push_back(s);
    tensors.push_back(t);
    is_tensor.push_back(true);
    objects.push_back(o);
  }
};

// The grid as three dimensions; a dimension of 0 is an empty grid, which launches nothing (as in Triton).
std::array<int32_t, 3> resolve_grid(const std::string& kernel, py::object grid, const std::function<py::dict()>& meta) {
  py::object g = grid;
  if (PyCallable_Check(grid.ptr())) g = grid(meta());
  std::array<int32_t, 3> out = {1, 1, 1};
  py::tuple t;
  if (PyLong_Check(g.ptr())) t = py::make_tuple(g);
  else if (PyTuple_Check(g.ptr()) || PyList_Check(g.ptr())) t = py::tuple(g);
  else throw_value_error(kernel + "(): the grid must be a tuple of 1 to 3 non-negative ints (or a function returning one), got " + std::string(Py_TYPE(g.ptr())->tp_name));
  if (t.size() < 1 || t.size() > 3) throw_value_error(kernel + "(): the grid must have 1 to 3 dimensions, got " + std::to_string(t.size()));
  for (size_t i = 0; i < t.size(); ++i) {
    PyObject* d = t[i].ptr();
    if (!PyLong_Check(d) || PyBool_Check(d))
      throw_value_error(kernel + "(): grid dimension " + std::to_string(i) + " must be an int, got " + std::string(Py_TYPE(d)->tp_name));
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(d, &overflow);
    if (overflow || v < 0 || v > INT32_MAX)
      throw_value_error(kernel + "(): grid dimension " + std::to_string(i) + " is " + py::str(t[i]).cast<std::string>() +
                        "; it must be between 0 and 2^31-1");
    out[i] = static_cast<int32_t>(v);
  }
  return out;
}

void* resolve_stream(py::handle stream_arg, int device) {
  if (stream_arg && !stream_arg.is_none()) {
    if (PyLong_Check(stream_arg.ptr())) return reinterpret_cast<void*>(stream_arg.cast<uint64_t>());
    if (py::hasattr(stream_arg, "cuda_stream")) return reinterpret_cast<void*>(stream_arg.attr("cuda_stream").cast<uint64_t>());
    throw_type_error("stream= must be a raw CUDA stream handle (int) or an object with .cuda_stream (torch.cuda.Stream)");
  }
  // The caller's current PyTorch stream, as Triton uses; the null stream without torch.
  static py::object get_stream = []() -> py::object {
    try {
      return py::module_::import("torch").attr("_C").attr("_cuda_getCurrentRawStream");
    } catch (const py::error_already_set&) {
      return py::object(py::none());
    }
  }();
  if (get_stream.is_none()) return nullptr;
  return reinterpret_cast<void*>(get_stream(device).cast<uint64_t>());
}

// Checks what the compiled kernel needs of its tensors (writable where it writes, offsets that
// cannot wrap), appends the debug-mode extents, and launches unless the grid is empty.
void launch_bound(CompiledKernel& k, BoundArgs& b, const std::array<int32_t, 3>& g, py::handle stream_arg) {
  size_t n = k.num_user_args;
  if (b.slots.size() != n)
    throw_type_error(k.name + "() was compiled for " + std::to_string(n) + " runtime arguments but " +
                     std::to_string(b.slots.size()) + " were bound");
  for (size_t i = 0; i < n; ++i) {
    if (!b.is_tensor[i]) continue;
    TensorArg& t = b.tensors[i];
    const std::string& name = k.arg_names[i];
    if (t.readonly && k.arg_written[i])
      throw_value_error(k.name + "(): argument '" + name + "' is read-only, but the kernel stores to it or updates it atomically; "
                        "pass a writable array (e.g. a copy: np.array(x))");
    bool need_span = k.debug || !k.arg_offset32[i].empty();
    if (need_span && t.span < 0) t.span = torch_span(b.objects[i]);
    if (!k.arg_offset32[i].empty() && t.span >= (int64_t{1} << 31))
      throw_value_error(k.name + "(): argument '" + name + "' spans " + std::to_string(t.span) +
                        " elements (2^31 or more), but the kernel offsets it by a 32-bit offset at " + k.arg_offset32[i] +
                        ", which would wrap; compute that offset in 64 bits (e.g. pid.to(tl.int64) * BLOCK)");
  }
  for (size_t i = 0; k.debug && i < n; ++i) {
    if (!k.arg_types[i].is_ptr) continue;
    Slot s{};
    int64_t extent = b.is_tensor[i] ? b.tensors[i].span : 0;
    std::memcpy(s.bytes, &extent, 8);
    b.slots.push_back(s);
  }
  if (g[0] == 0 || g[1] == 0 || g[2] == 0) return;
  void* ptrs[512];
  if (b.slots.size() > 512) throw_value_error("too many kernel arguments");
  for (size_t i = 0; i < b.slots.size(); ++i) ptrs[i] = b.slots[i].bytes;
  std::string error;
  if (k.backend == Backend::Cpu) {
    if (b.device_type == kDLCUDA) throw_value_error(k.name + "() was compiled for the CPU but its tensors are on " + device_str(b.device_type, b.device_id));
    py::gil_scoped_release release;
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
    py::dict d;
    for (const auto& [stage, text] : k_->asm_) d[py::str(stage)] = text;
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
    py::handle stream_arg;
    for (auto item : kwargs) {
      std::string key = py::str(item.first);
      if (key != "stream") throw_type_error(k.name + "(): a compiled kernel takes only stream= as a keyword, got '" + key + "'");
      stream_arg = item.second;
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
        if (cls != ArgClass::Torch && cls != ArgClass::Buffer && cls != ArgClass::DLPack)
          throw_type_error(k.name + "(): argument '" + param + "' was compiled as a pointer to " + dtype_name(t.dtype) +
                           "; pass a tensor, got " + std::string(Py_TYPE(v.ptr())->tp_name));
        TensorArg ta = read_tensor(v.ptr(), cls);
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
    std::array<int32_t, 3> g = resolve_grid(k.name, grid, [&] { return meta; });
    launch_bound(k, b, g, stream_arg);
  }

 private:
  std::shared_ptr<CompiledKernel> k_;
};

// One per @tilec.jit function: its source, parameters and compiled specializations.
class JitKernel {
 public:
  JitKernel(std::string path, std::string text, std::string name, std::vector<std::string> names,
            std::vector<bool> constexprs, std::vector<py::object> defaults, std::vector<bool> has_default,
            std::vector<bool> no_specialize, std::vector<std::pair<std::string, std::string>> imported, bool debug)
      : file_(std::make_shared<SourceFile>(std::move(path), std::move(text))), name_(std::move(name)), debug_(debug) {
    for (auto& [p, t] : imported) imported_.push_back(std::make_shared<SourceFile>(std::move(p), std::move(t)));
    for (size_t i = 0; i < names.size(); ++i)
      params_.push_back(Param{names[i], constexprs[i], no_specialize[i], has_default[i] ? defaults[i] : py::object()});
  }

  const std::string& name() const { return name_; }

  // Binds, specializes, compiles if needed and (unless warmup) launches.
  py::object call(py::object grid, py::args args, py::kwargs kwargs, bool warmup) {
    size_t n = params_.size();
    if (args.size() > n)
      throw_type_error(name_ + "() takes " + std::to_string(n) + " arguments but " + std::to_string(args.size()) + " were given");
    std::vector<py::handle> bound(n);
    for (size_t i = 0; i < args.size(); ++i) bound[i] = args[i];
    int num_warps = 4, num_stages = 3;
    py::handle stream_arg;
    for (auto item : kwargs) {
      std::string key = py::str(item.first);
      if (key == "num_warps") { num_warps = item.second.cast<int>(); continue; }
      if (key == "num_stages") { num_stages = item.second.cast<int>(); continue; }
      if (key == "stream") { stream_arg = item.second; continue; }
      if (key == "num_ctas") {
        if (item.second.cast<int>() != 1) throw_value_error(name_ + "(): num_ctas > 1 (thread-block clusters) is not supported by tilec");
        continue;
      }
      if (key == "maxnreg" && !item.second.is_none()) throw_value_error(name_ + "(): maxnreg= (a register limit) is not supported by tilec");
      if (key == "maxnreg") continue;
      if (key == "grid") continue;
      size_t i = index_of(key);
      if (i == n) throw_type_error(name_ + "() got an unexpected keyword argument '" + key + "'");
      if (bound[i]) throw_type_error(name_ + "() got multiple values for argument '" + key + "'");
      bound[i] = item.second;
    }
    if (num_warps <= 0 || num_warps > 32 || (num_warps & (num_warps - 1)))
      throw_value_error("num_warps must be a power of two between 1 and 32, got " + std::to_string(num_warps));
    if (num_stages <= 0 || num_stages > 8) throw_value_error("num_stages must be between 1 and 8");

    std::string key;
    key.reserve(64);
    Signature sig;
    BoundArgs b;
    b.slots.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const Param& p = params_[i];
      py::handle v = bound[i];
      if (!v) {
        if (!p.default_value) throw_type_error(name_ + "() missing required argument '" + p.name + "'");
        v = p.default_value;
      }
      if (p.is_constexpr) {
        ConstValue c = const_value_of(v, p.name, name_);
        key += 'c';
        key += c.str();
        key += ';';
        sig.args.push_back(ArgSpec{p.name, ArgKind::Constexpr, DType::I32, 1, c});
        continue;
      }
      PyObject* o = v.ptr();
      ArgClass cls = classify_type(Py_TYPE(o), o);
      Slot s{};
      switch (cls) {
        case ArgClass::Torch: case ArgClass::Buffer: case ArgClass::DLPack: {
          TensorArg t = read_tensor(o, cls);
          bool aligned = t.ptr % 16 == 0;
          key += 'p';
          key += dtype_name(t.dtype);
          key += aligned ? "a;" : ";";
          sig.args.push_back(ArgSpec{p.name, ArgKind::Pointer, t.dtype, aligned ? 16 : 1, {}});
          b.add_tensor(name_, p.name, o, t);
          break;
        }
        case ArgClass::Int: {
          int overflow = 0;
          long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
          if (x == -1 && PyErr_Occurred()) throw py::error_already_set();
          if (overflow) throw_value_error(name_ + "(): integer argument '" + p.name + "' does not fit in 64 bits");
          if (x == 1 && !p.no_specialize) {
            // Triton specializes 1 as a constant: strides of 1 make contiguous, vectorizable access.
            key += "=1;";
            sig.args.push_back(ArgSpec{p.name, ArgKind::Constexpr, DType::I32, 1, ConstValue::of_int(1)});
            break;
          }
          bool wide = x < INT32_MIN || x > INT32_MAX;
          bool div16 = x % 16 == 0 && !p.no_specialize;
          key += wide ? "i64" : "i32";
          key += div16 ? "d;" : ";";
          sig.args.push_back(ArgSpec{p.name, ArgKind::Scalar, wide ? DType::I64 : DType::I32, div16 ? 16 : 1, {}});
          if (wide) std::memcpy(s.bytes, &x, 8);
          else {
            int32_t y = static_cast<int32_t>(x);
            std::memcpy(s.bytes, &y, 4);
          }
          b.add_scalar(s);
          break;
        }
        case ArgClass::Float: {
          float f = static_cast<float>(PyFloat_AsDouble(o));
          key += "f;";
          sig.args.push_back(ArgSpec{p.name, ArgKind::Scalar, DType::F32, 1, {}});
          std::memcpy(s.bytes, &f, 4);
          b.add_scalar(s);
          break;
        }
        case ArgClass::Bool: {
          bool x = PyObject_IsTrue(o) == 1;
          key += "b;";
          sig.args.push_back(ArgSpec{p.name, ArgKind::Scalar, DType::I1, 1, {}});
          std::memcpy(s.bytes, &x, 1);
          b.add_scalar(s);
          break;
        }
        case ArgClass::None:
          // As in Triton, None specializes the argument to a constexpr None (`if bias_ptr is not None:`).
          key += "n;";
          sig.args.push_back(ArgSpec{p.name, ArgKind::Constexpr, DType::I32, 1, ConstValue{}});
          break;
        case ArgClass::Other:
          throw_type_error(name_ + "(): argument '" + p.name + "' has unsupported type " + std::string(Py_TYPE(o)->tp_name) +
                           "; pass a tensor (anything with __dlpack__), an int, a float or a bool");
      }
    }
    Backend backend = b.device_type == kDLCUDA ? Backend::Cuda : Backend::Cpu;
    int arch = backend == Backend::Cuda ? cached_device_arch(b.device_id) : 0;
    key += backend == Backend::Cuda ? "cuda" + std::to_string(arch) + "w" + std::to_string(num_warps) + "s" + std::to_string(num_stages) : "cpu";
    bool debug = debug_ || debug_from_env();
    if (debug) key += ";debug";

    std::shared_ptr<CompiledKernel> k = lookup_or_compile(key, sig, backend, arch, num_warps, num_stages, debug);
    if (warmup) return py::cast(PyCompiledKernel(k));

    std::array<int32_t, 3> g = resolve_grid(name_, grid, [&] {
      py::dict meta;
      for (size_t i = 0; i < params_.size(); ++i)
        meta[py::str(params_[i].name)] = bound[i] ? py::reinterpret_borrow<py::object>(bound[i]) : params_[i].default_value;
      return meta;
    });
    launch_bound(*k, b, g, stream_arg);
    return py::none();
  }

 private:
  size_t index_of(const std::string& key) const {
    size_t i = 0;
    while (i < params_.size() && params_[i].name != key) ++i;
    return i;
  }

  std::shared_ptr<CompiledKernel> lookup_or_compile(const std::string& key, const Signature& sig, Backend backend,
                                                    int arch, int num_warps, int num_stages, bool debug) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = compiled_.find(key);
      if (it != compiled_.end()) return it->second;
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
    return compiled_.emplace(key, k).first->second;
  }

  std::shared_ptr<SourceFile> file_;
  std::vector<std::shared_ptr<const SourceFile>> imported_;  // files of @jit helpers the kernel imports
  std::string name_;
  bool debug_ = false;
  std::vector<Param> params_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<CompiledKernel>> compiled_;
};

// kernel[grid]: holds the grid until called.
struct Launcher {
  std::shared_ptr<JitKernel> kernel;
  py::object grid;
};

// compiled_kernel[grid]: the same for a CompiledKernel.
struct CompiledLauncher {
  PyCompiledKernel kernel;
  py::object grid;
};

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "tilec native module: compiler and launcher";
  g_compile_error = PyErr_NewExceptionWithDoc("tilec.CompileError",
                                              "A kernel failed to compile; the message has file:line:col, the line and a caret.",
                                              PyExc_Exception, nullptr);
  m.add_object("CompileError", py::handle(g_compile_error));
  m.attr("__version__") = TILEC_VERSION;

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
      .def_property_readonly("name", &JitKernel::name)
      .def("__getitem__", [](std::shared_ptr<JitKernel> k, py::object grid) { return Launcher{std::move(k), std::move(grid)}; })
      .def("warmup", [](JitKernel& k, py::args args, py::kwargs kwargs) {
        py::object grid = kwargs.contains("grid") ? py::object(kwargs["grid"]) : py::object(py::make_tuple(1));
        return k.call(grid, args, kwargs, true);
      })
      .def("run", [](JitKernel& k, py::args args, py::kwargs kwargs) {
        if (!kwargs.contains("grid")) throw py::type_error(k.name() + ".run() needs grid=");
        return k.call(kwargs["grid"], args, kwargs, false);
      });

  py::class_<Launcher>(m, "Launcher")
      .def("__call__", [](Launcher& l, py::args args, py::kwargs kwargs) { return l.kernel->call(l.grid, args, kwargs, false); });
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
  m.def("set_runtime_include_dir", &set_runtime_include_dir);
  m.def("cache_root", &default_cache_root);
  m.def("runtime_include_dir", &runtime_include_dir);
}
