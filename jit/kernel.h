// Input: a KernelSource and a backend with its options. Output: a CompiledKernel (loaded .so or
// cubin) from the disk cache or a fresh compile, and launches of it; errors are returned, never thrown.
#pragma once
#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jit/host_compiler.h"
#include "jit/stages.h"

namespace tilec {

enum class Backend { Cpu, Cuda };
const char* backend_name(Backend b);

struct KernelOptions {
  Backend backend = Backend::Cpu;
  CudaOptions cuda;  // cuda.arch is the device's sm_XY; PTX is used when NVRTC predates it
};

// Where generated C++ finds runtime/cpu/*.h; the Python package sets its installed copy.
void set_runtime_include_dir(const std::string& dir);
const std::string& runtime_include_dir();

class CompiledKernel {
 public:
  Backend backend = Backend::Cpu;
  std::string name;
  std::vector<Type> arg_types;                 // runtime arguments, in order
  std::map<std::string, std::string> asm_;     // "ir", "ir-opt", "cpp" or "cuda" (+ "ptx")
  nlohmann::json metadata;
  std::string cache_key;
  std::string cache_dir;                       // the entry's folder, artifacts side by side

  // CPU
  using CpuEntry = void (*)(void* const* args, const int32_t* grid, int64_t begin, int64_t end);
  std::unique_ptr<SharedLibrary> library;
  CpuEntry cpu_entry = nullptr;
  int (*cpu_assert_failed)() = nullptr;        // nonzero once a device_assert failed

  // CUDA
  std::string image;                           // cubin, or PTX text for a newer GPU than NVRTC knows
  std::string entry;
  int threads = 0;
  int shared_bytes = 0;
  static constexpr int kMaxDevices = 64;
  std::array<std::atomic<void*>, kMaxDevices> functions{};  // CUfunction per device, loaded on first launch
};

// Runs the front end and the backend's code generator and compiler, going through the disk cache
// (TILEC_CACHE_DIR, TILEC_ALWAYS_COMPILE). Errors (DSL, host compiler, NVRTC) land in `diags`.
std::shared_ptr<CompiledKernel> compile_kernel(const KernelSource& src, const KernelOptions& options,
                                               Diagnostics& diags);

// args[i] points to runtime argument i's value. Returns an empty string or the error.
std::string launch_cpu(const CompiledKernel& kernel, const std::array<int32_t, 3>& grid, void* const* args);
std::string launch_cuda(CompiledKernel& kernel, int device, const std::array<int32_t, 3>& grid, void* stream,
                        void** args);

// sm_XY of a CUDA device as XY, or -1 with *error (no driver, bad ordinal).
int cuda_device_arch(int device, std::string* error);

}  // namespace tilec
