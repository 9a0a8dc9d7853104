// Input: a tile-language kernel (source text or a .py file), its signature, constexprs and a backend.
// Output: a compiled kernel launched on raw pointers; every failure is a returned value with its text.
//
// The installed C++ interface of tilec (find_package(tilec), target tilec::jit). It compiles
// through the same pipeline and the same disk cache ($TILEC_CACHE_DIR) as the Python package
// (CPU entries are shared when both use the same runtime headers, which are in the key). Nothing
// here throws; internals (jit/kernel.h) stay private so that this surface can stay stable.
//
//   tilec::jit::Result<tilec::jit::Kernel> k = tilec::jit::compile_file(
//       "add.py", "add_kernel", "x_ptr:*fp32:16,y_ptr:*fp32:16,out_ptr:*fp32:16,n:i32", {"BLOCK=1024"});
//   if (!k) { std::fputs(k.error().c_str(), stderr); return 1; }
//   tilec::jit::Status s = k->launch({(n + 1023) / 1024}, {x, y, out, n});
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// find_package(tilec) defines this to the installed runtime headers (PREFIX/include/tilec), which
// the CPU backend's generated C++ includes; builds inside the tilec tree use the source tree's.
#ifndef TILEC_RUNTIME_DIR
#define TILEC_RUNTIME_DIR ""
#endif

namespace tilec::jit {

enum class Backend { Cpu, Cuda };

// Success, or an error whose message is the whole diagnostics text (file:line:col, the source
// line and a caret for DSL errors; the compiler's log for toolchain failures).
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status failure(std::string message) { Status s; s.ok_ = false; s.message_ = std::move(message); return s; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const std::string& message() const { return message_; }

 private:
  bool ok_ = true;
  std::string message_;
};

// A value or the error text that replaced it.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Status error) : error_(std::move(error)) {}
  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return error_.message(); }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  Status error_;
};

// One runtime argument, typed so that a launch can check it against the compiled signature:
// a pointer (host memory for the CPU backend, a device pointer for CUDA) or a scalar.
class Arg {
 public:
  enum class Kind { Pointer, I1, I32, I64, U32, U64, F32, F64 };
  Arg(const void* p) : kind_(Kind::Pointer) { v_.p = p; }
  Arg(bool b) : kind_(Kind::I1) { v_.b = b; }
  Arg(int32_t i) : kind_(Kind::I32) { v_.i32 = i; }
  Arg(int64_t i) : kind_(Kind::I64) { v_.i64 = i; }
  Arg(uint32_t i) : kind_(Kind::U32) { v_.u32 = i; }
  Arg(uint64_t i) : kind_(Kind::U64) { v_.u64 = i; }
  Arg(float f) : kind_(Kind::F32) { v_.f32 = f; }
  Arg(double f) : kind_(Kind::F64) { v_.f64 = f; }
  // A CUDA device pointer (CUdeviceptr), which C++ would otherwise take for an integer.
  static Arg device_ptr(unsigned long long dptr) { return Arg(reinterpret_cast<const void*>(static_cast<uintptr_t>(dptr))); }
  Kind kind() const { return kind_; }
  // The value's bytes, as the kernel's ABI passes it.
  const void* data() const { return &v_; }

 private:
  Kind kind_;
  union {
    const void* p;
    bool b;
    int32_t i32;
    int64_t i64;
    uint32_t u32;
    uint64_t u64;
    float f32;
    double f64;
  } v_;
};

struct Options {
  Backend backend = Backend::Cpu;
  int cuda_arch = 0;    // sm_XY as XY; 0: the compute capability of `cuda_device`
  int cuda_device = 0;  // only read when cuda_arch is 0
  int num_warps = 4;    // CUDA: threads per program = 32 * num_warps
  int num_stages = 3;   // CUDA: software-pipeline depth of loops feeding tl.dot
  // Where the CPU backend's generated C++ finds runtime/cpu/*.h; "" keeps the library's default.
  // The first non-empty value seen by the process is used for the whole process.
  std::string runtime_dir = TILEC_RUNTIME_DIR;
};

struct Grid {
  uint32_t x = 1, y = 1, z = 1;
};

// Where a CUDA launch runs: a CUstream (nullptr: the null stream) on a device ordinal. The
// device's primary context is made current for the launch.
struct CudaStream {
  void* stream = nullptr;
  int device = 0;
};

// A compiled kernel; cheap to copy (shared), and safe to launch from several threads at once.
class Kernel {
 public:
  struct Impl;
  explicit Kernel(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  const std::string& name() const;
  Backend backend() const;
  // Runtime arguments in order (constexprs excluded), e.g. {"x", "y", "out", "n"}.
  const std::vector<std::string>& arg_names() const;
  // A stage's text: "ir", "ir-opt", "cpp" (CPU), "cuda" or "ptx" (CUDA); empty when unknown.
  std::string asm_text(const std::string& stage) const;

  // CPU backend: runs the grid on the process's thread pool and returns when it is done.
  // CUDA backend: enqueues the grid on `stream` and returns. Arguments are checked first
  // (count, pointer vs scalar, scalar type, 16-byte alignment / divisibility by 16 where the
  // signature promised it); a failed device assertion on the CPU is an error too.
  Status launch(Grid grid, const std::vector<Arg>& args, CudaStream stream = {}) const;

 private:
  std::shared_ptr<Impl> impl_;
};

// Compiles kernel `kernel` defined in `source` (the text of a Python module; `@tilec.jit`
// helpers in the same text are found) for `signature` ("x:*fp32:16,n:i32", as `tilec dump`
// takes it) and `constexprs` ({"BLOCK=1024"}). `path` names the text in diagnostics.
Result<Kernel> compile(const std::string& source, const std::string& kernel, const std::string& signature,
                       const std::vector<std::string>& constexprs, const Options& options = {},
                       const std::string& path = "<source>");

// As compile(), with the source read from a .py file (an error value when it cannot be read).
Result<Kernel> compile_file(const std::string& path, const std::string& kernel, const std::string& signature,
                            const std::vector<std::string>& constexprs, const Options& options = {});

// The version of tilec, e.g. "0.1.0".
const char* version();

}  // namespace tilec::jit
