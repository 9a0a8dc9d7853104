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
  bool debug = false;  // bounds checks (passes/insert_bounds_checks.cpp); part of the cache key
};

// True when TILEC_DEBUG=1.
bool debug_from_env();

// Where generated C++ finds runtime/cpu/*.h; the Python package sets its installed copy.
void set_runtime_include_dir(const std::string& dir);
const std::string& runtime_include_dir();

// The runtime headers' PCH for this process's host compiler (host_compiler(runtime_include_dir())
// with its flags and ISA), as an installation ships it: INTO/<key>/tilec_pch.h and its .gch.
// Other key folders in INTO are removed (a build tree keeps one). Returns the header's path, or ""
// with *error set; an existing .gch for the key is kept.
std::string precompile_runtime_headers(const std::string& into, std::string* error);

// Whether an installed runtime PCH serves this process's host compiler, for `tilec doctor`.
enum class InstalledPch { Matches, OtherToolchain, Missing };
struct InstalledPchInfo {
  InstalledPch state = InstalledPch::Missing;
  std::string path;                  // Matches: the header used; otherwise the folders looked in
};
InstalledPchInfo installed_runtime_pch();

class CompiledKernel {
 public:
  Backend backend = Backend::Cpu;
  std::string name;
  bool debug = false;
  std::vector<std::string> params;             // every parameter of the def, constexprs included
  std::vector<std::pair<std::string, std::string>> constexprs;  // name, printed value
  // Runtime arguments, in order; in debug mode followed by one i64 extent per pointer argument.
  std::vector<Type> arg_types;
  std::vector<std::string> arg_names;
  std::vector<int> arg_divisibility;           // 16: aligned pointer / integer divisible by 16
  size_t num_user_args = 0;                    // arguments the caller passes; the rest are extents
  std::vector<bool> arg_written;               // pointer arguments stored to or atomically updated
  std::vector<std::string> arg_offset32;       // "file:line:col" of a 32-bit offset from the argument, or ""
  std::map<std::string, std::string> asm_;     // "ir", "ir-opt", "cpp" or "cuda" (+ "ptx"); read through kernel_asm()
  std::mutex asm_mu;                           // guards asm_ after compile_kernel returns
  nlohmann::json metadata;
  std::string cache_key;
  std::string cache_dir;                       // the entry's folder, artifacts side by side
  // What it was compiled from, so that a kernel loaded by a warm start (without running the front
  // end) can produce its stage texts when asked (kernel_asm).
  std::shared_ptr<const KernelSource> source;
  KernelOptions options;

  // CPU
  using CpuEntry = void (*)(void* const* args, const int32_t* grid, int64_t begin, int64_t end);
  std::unique_ptr<SharedLibrary> library;
  CpuEntry cpu_entry = nullptr;
  int (*cpu_assert_failed)() = nullptr;        // count of failed device assertions (and bounds checks)
  int (*cpu_assert_message)(char* buf, int size) = nullptr;  // takes the first failure's text

  // CUDA
  std::string image;                           // cubin, or PTX text for a newer GPU than NVRTC knows
  int image_arch = 0;                          // the sm_XY (or compute_XY when image_is_ptx) it was built for
  std::string arch_suffix;                     // "a" for arch-specific features (sm_90a)
  bool image_is_ptx = false;
  // Read from the disk cache: a driver that rejects it gets it compiled again, once (launch_cuda).
  bool image_from_cache = false;
  std::string entry;
  int threads = 0;
  int shared_bytes = 0;
  std::vector<TensorMapParam> tensor_maps;     // encoded from the arguments at each launch, passed after them
  static constexpr int kMaxDevices = 64;
  std::array<std::atomic<void*>, kMaxDevices> functions{};  // CUfunction per device, loaded on first launch
};

// Runs the front end and the backend's code generator and compiler, going through the disk cache
// (TILEC_CACHE_DIR, TILEC_ALWAYS_COMPILE). Errors (DSL, host compiler, NVRTC) land in `diags`.
// Warm start: a kernel compiled before (same source text, helpers' files, specialization, tilec
// version, target and toolchain) is found through the cache's index by a key computed before
// parsing, and loaded without running the front end. TILEC_LOG=compile prints each stage's time.
std::shared_ptr<CompiledKernel> compile_kernel(const KernelSource& src, const KernelOptions& options,
                                               Diagnostics& diags);

// The kernel's stage texts ("ir", "ir-opt", "cpp" or "cuda", "ptx"). A kernel from a warm start
// runs the front end (and NVRTC for "ptx") here, on first use. Thread-safe.
std::map<std::string, std::string> kernel_asm(CompiledKernel& kernel);

// args[i] points to runtime argument i's value (extents included). Returns an empty string or the
// error; a failed assertion or bounds check is an error with the first failure's text.
std::string launch_cpu(const CompiledKernel& kernel, const std::array<int32_t, 3>& grid, void* const* args);
std::string launch_cuda(CompiledKernel& kernel, int device, const std::array<int32_t, 3>& grid, void* stream,
                        void** args);

// The floor of a launch, for bench/gpu_bench.py: launches the kernel once (loading it), then times
// n back-to-back cuLaunchKernel calls with `args` and no other work, then a synchronize; returns
// host seconds per launch, or -1 with *error.
double time_raw_cuda_launches(CompiledKernel& kernel, int device, const std::array<int32_t, 3>& grid, void* stream,
                              void** args, int n, std::string* error);

// sm_XY of a CUDA device as XY, or -1 with *error (no driver, bad ordinal).
int cuda_device_arch(int device, std::string* error);

}  // namespace tilec
