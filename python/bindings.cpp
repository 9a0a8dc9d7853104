// Input: Python calls from the tilec package. Output: the native module tilec._C: compilation, and the
// launch path (kernel[grid](*args)): arguments read by python/arguments.cpp, specialized, compiled once per key, launched.
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

#include "jit/cache.h"
#include "jit/cache_admin.h"
#include "jit/host_compiler.h"
#include "jit/nvrtc.h"
#include "jit/kernel.h"
#include "python/arguments.h"
#include "python/descriptor_args.h"

namespace py = pybind11;
using namespace tilec;
using namespace tilec::pyargs;

namespace {

PyObject* g_compile_error = nullptr;

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
  // PyLong_AsVoidPtr reads a non-default stream's handle without CPython's byte-array route.
  void* stream = PyLong_AsVoidPtr(r);
  if (!stream && PyErr_Occurred()) throw py::error_already_set();
  return stream;
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
      if (is_tensor_descriptor(v.ptr()))
        throw_type_error(k.name + "(): argument '" + param + "' is a TensorDescriptor, which a compiled kernel's own launch "
                         "does not take; launch through the @tilec.jit function instead");
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
  int rank;         // a Descriptor's block shape and padding, set only for one
  int64_t block[kMaxDescriptorRank];
  bool nan_padding;
};

ArgRec arg_rec(ArgKind kind, DType dtype, int divisibility, bool const_one) {
  ArgRec r;
  r.kind = kind;
  r.dtype = dtype;
  r.divisibility = divisibility;
  r.const_one = const_one;
  r.rank = 0;
  r.nan_padding = false;
  return r;
}

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
    key.put_i64(opt.num_warps);  // on the CPU too: kernels can read it (tl.extra.cuda.num_warps())
    if (backend == Backend::Cuda) {
      key.put_i64(arch);
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
        *rec = arg_rec(ArgKind::Pointer, t.dtype, aligned ? 16 : 1, false);
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
          *rec = arg_rec(ArgKind::Constexpr, DType::I32, 1, true);
          return;
        }
        bool wide = x < INT32_MIN || x > INT32_MAX;
        bool div16 = x % 16 == 0 && !p.no_specialize;
        key.put_u8('i');
        key.put_u8(wide);
        key.put_u8(div16);
        *rec = arg_rec(ArgKind::Scalar, wide ? DType::I64 : DType::I32, div16 ? 16 : 1, false);
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
        *rec = arg_rec(ArgKind::Scalar, DType::F32, 1, false);
        std::memcpy(s.bytes, &f, 4);
        b.add_scalar(s);
        return;
      }
      case ArgClass::Bool: {
        int truth = PyObject_IsTrue(o);
        if (truth < 0) throw py::error_already_set();
        bool x = truth == 1;
        key.put_u8('b');
        *rec = arg_rec(ArgKind::Scalar, DType::I1, 1, false);
        std::memcpy(s.bytes, &x, 1);
        b.add_scalar(s);
        return;
      }
      case ArgClass::None:
        // As in Triton, None specializes the argument to a constexpr None (`if bias_ptr is not None:`).
        key.put_u8('n');
        *rec = arg_rec(ArgKind::Constexpr, DType::I32, 1, false);
        return;
      case ArgClass::Other:
        break;
    }
    if (is_tensor_descriptor(o)) {
      DescriptorArg d;
      read_descriptor(name_, p.name, o, &d);
      put_descriptor_key(key, d);
      *rec = arg_rec(ArgKind::Descriptor, d.base.dtype, d.shape_div16 ? 16 : 1, false);
      rec->rank = d.rank;
      std::copy(d.block, d.block + d.rank, rec->block);
      rec->nan_padding = d.nan_padding;
      bind_descriptor(name_, p.name, d, b);
      return;
    }
    throw_type_error(name_ + "(): argument '" + p.name + "' has unsupported type " + std::string(Py_TYPE(o)->tp_name) +
                     "; pass a tensor (anything with __dlpack__), an int, a float or a bool");
  }

  struct Spec {
    uint64_t hash;
    std::string key;
    std::shared_ptr<CompiledKernel> kernel;
    bool matches(const KeyBuilder& k, uint64_t h) const {
      return hash == h && key.size() == k.size() && std::memcmp(key.data(), k.data(), k.size()) == 0;
    }
  };

  // Specializations are never removed, so the raw pointer stays valid while this JitKernel lives
  // (every launcher holds a reference to it). The last one found is checked first, without the
  // lock: a loop launching one specialization takes no mutex.
  CompiledKernel* find(const KeyBuilder& key) {
    const Spec* s = find_spec(key);
    return s ? s->kernel.get() : nullptr;
  }

  std::shared_ptr<CompiledKernel> find_shared(const KeyBuilder& key) {
    const Spec* s = find_spec(key);
    if (!s) throw std::logic_error("specialization vanished");
    return s->kernel;
  }

  const Spec* find_spec(const KeyBuilder& key) {
    uint64_t h = key.hash();
    const Spec* last = last_found_.load(std::memory_order_acquire);
    if (last && last->matches(key, h)) return last;
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& s : specs_)
      if (s->matches(key, h)) {
        last_found_.store(s.get(), std::memory_order_release);
        return s.get();
      }
    return nullptr;
  }

  // A miss: the signature the key describes, compiled (the GIL released meanwhile) and recorded.
  std::shared_ptr<CompiledKernel> compile(const KeyBuilder& key, PyObject* const* values, const ArgRec* recs, Backend backend,
                                          int arch, int num_warps, int num_stages, bool debug) {
    Signature sig;
    for (size_t i = 0; i < params_.size(); ++i) {
      const Param& p = params_[i];
      if (p.is_constexpr) {
        sig.args.push_back(ArgSpec{p.name, ArgKind::Constexpr, DType::I32, 1, const_value_of(values[i], p.name, name_), {}, false});
        continue;
      }
      const ArgRec& r = recs[i];
      ConstValue c = r.const_one ? ConstValue::of_int(1) : ConstValue{};
      sig.args.push_back(ArgSpec{p.name, r.kind, r.dtype, r.divisibility, r.kind == ArgKind::Constexpr ? c : ConstValue{},
                                 std::vector<int64_t>(r.block, r.block + r.rank), r.nan_padding});
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
    for (const auto& s : specs_)
      if (s->matches(key, h)) return s->kernel;
    specs_.push_back(std::make_unique<Spec>(Spec{h, std::string(key.data(), key.size()), k}));
    return k;
  }

  std::shared_ptr<SourceFile> file_;
  std::vector<std::shared_ptr<const SourceFile>> imported_;  // files of @jit helpers the kernel imports
  std::string name_;
  bool debug_ = false;
  std::vector<Param> params_;
  std::mutex mu_;  // guards specs_; never held while compiling or launching
  std::vector<std::unique_ptr<Spec>> specs_;  // each Spec stays where it is: last_found_ points to one
  std::atomic<const Spec*> last_found_{nullptr};
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
  // The last launcher kernel[grid] made, handed out again for the same grid object (launchers are
  // immutable): `kernel[(1,)](...)` in a loop, whose grid is one constant tuple, allocates nothing.
  PyObject* last_launcher;
  PyObject* last_grid;  // borrowed: last_launcher holds it
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
    auto* ko = reinterpret_cast<KernelObject*>(self);
    if (ko->last_launcher && ko->last_grid == grid) {
      Py_INCREF(ko->last_launcher);
      return ko->last_launcher;
    }
    auto* l = PyObject_GC_New(LauncherObject, &g_launcher_type);
    if (!l) return nullptr;
    l->vectorcall = launcher_vectorcall;
    Py_INCREF(self);
    l->owner = self;
    l->kernel = k;
    Py_INCREF(grid);
    l->grid = grid;
    PyObject_GC_Track(l);
    PyObject* launcher = reinterpret_cast<PyObject*>(l);
    Py_INCREF(launcher);
    Py_XSETREF(ko->last_launcher, launcher);
    ko->last_grid = grid;
    return launcher;
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
    k->last_grid = nullptr;  // the cached launcher launches the JitKernel attached before
    Py_CLEAR(k->last_launcher);
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
  Py_VISIT(reinterpret_cast<KernelObject*>(self)->last_launcher);
  return 0;
}

int kernel_clear(PyObject* self) {
  auto* k = reinterpret_cast<KernelObject*>(self);
  k->kernel = nullptr;
  k->last_grid = nullptr;
  Py_CLEAR(k->last_launcher);
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
  m.def("installed_pch_info", [] {
    InstalledPchInfo info = installed_runtime_pch();
    py::dict d;
    switch (info.state) {
      case InstalledPch::Matches: d["state"] = "matches"; break;
      case InstalledPch::OtherToolchain: d["state"] = "other-toolchain"; break;
      case InstalledPch::Missing: d["state"] = "missing"; break;
    }
    d["path"] = info.path;
    return d;
  });
  m.def("set_runtime_include_dir", &set_runtime_include_dir);
  // sm_XY of CUDA device `device` as XY, or -1 without a driver or device (tilec.runtime.driver).
  m.def("cuda_device_arch", [](int device) {
    std::string error;
    return cuda_device_arch(device, &error);
  });
  m.def("cache_root", &default_cache_root);
  m.def("runtime_include_dir", &runtime_include_dir);
}
