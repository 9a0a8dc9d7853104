// Input: the Python objects of one launch (NumPy, torch, buffer-protocol and DLPack tensors, numbers,
// constexprs, the grid), with the GIL held. Output: pointers, dtypes, devices, packed slots, key bytes.
#pragma once
#include <pybind11/pybind11.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>

#include "jit/kernel.h"
#include "runtime/dlpack.h"

namespace tilec::pyargs {

namespace py = pybind11;

[[noreturn]] inline void throw_type_error(const std::string& msg) { throw py::type_error(msg); }
[[noreturn]] inline void throw_value_error(const std::string& msg) { throw py::value_error(msg); }

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
extern Names g_names;
void init_names();

// How a Python type's objects are read as kernel arguments; decided once per type.
enum class ArgClass { NumPy, Torch, Buffer, DLPack, Int, Float, Bool, None, Other };

// Called with the GIL held, as every function of the launch path is, which guards the caches.
ArgClass classify_type(PyTypeObject* type, PyObject* obj);

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

// Reads a tensor argument's pointer, dtype, device and write flag: the per-launch work of a
// tensor. Its span (for the 2^31 check and debug extents) is read later, only when needed.
void read_tensor(PyObject* obj, ArgClass cls, TensorArg* t);
// Elements reachable from the tensor's pointer (largest offset + 1), read once per launch.
int64_t tensor_span(PyObject* obj, TensorArg& t);
// An upper bound of the span that is cheaper to read than the span: for a torch tensor, the
// elements of its storage (one call instead of shape and stride()); for the others, the span.
int64_t tensor_span_bound(PyObject* obj, TensorArg& t);

inline bool is_tensor_class(ArgClass c) {
  return c == ArgClass::NumPy || c == ArgClass::Torch || c == ArgClass::Buffer || c == ArgClass::DLPack;
}

// "cuda:1", "cpu"
std::string device_str(int type, int id);

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

// A constexpr argument's value as the compiler takes it; a TypeError names what is accepted.
ConstValue const_value_of(py::handle v, const std::string& name, const std::string& kernel);

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

// Appends a constexpr's value to the key, distinguishing exactly what const_value_of does.
void put_const(KeyBuilder& key, PyObject* o, const Param& p, const std::string& kernel);

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

// The grid as three dimensions; a dimension of 0 is an empty grid, which launches nothing (as in
// Triton). A grid function is called with the launch's meta-parameters (built only then).
std::array<int32_t, 3> resolve_grid(const std::string& kernel, PyObject* grid, const std::function<py::dict()>& meta);

// Packs a Python number as a scalar of `t`, range-checked.
Slot scalar_slot(py::handle v, DType t, int divisibility, const std::string& kernel, const std::string& param);

}  // namespace tilec::pyargs
