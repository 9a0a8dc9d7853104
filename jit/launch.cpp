// Input: a CompiledKernel, a grid and the launch's argument pointers. Output: the kernel run on
// the CPU thread pool, or launched on a CUDA stream (first launch: module load; TMA maps encoded).
#include <algorithm>
#include <cstdio>
#include <mutex>
#include <optional>

#include "jit/cache.h"
#include "jit/kernel.h"
#include "jit/kernel_internal.h"
#include "jit/stage_timer.h"
#include "jit/tensor_maps.h"
#include "runtime/cuda_driver.h"
#include "runtime/thread_pool.h"

namespace tilec {

namespace {

struct CpuLaunch {
  CompiledKernel::CpuEntry entry;
  void* const* args;
  const int32_t* grid;
};

void run_range(void* ctx, int64_t begin, int64_t end) {
  auto* l = static_cast<CpuLaunch*>(ctx);
  l->entry(l->args, l->grid, begin, end);
}

}  // namespace

std::string launch_cpu(const CompiledKernel& kernel, const std::array<int32_t, 3>& grid, void* const* args) {
  int before = kernel.cpu_assert_failed();
  CpuLaunch l{kernel.cpu_entry, args, grid.data()};
  int64_t total = int64_t{grid[0]} * grid[1] * grid[2];
  ThreadPool::instance().parallel_for(total, run_range, &l);
  if (kernel.cpu_assert_failed() == before) return {};
  char first[1024];
  kernel.cpu_assert_message(first, sizeof first);
  return "device-side assertion failed in kernel '" + kernel.name + "': " + first;
}

namespace {

// Debug mode: waits for the kernel and turns the first failed check it recorded in the module's
// tc_failure (runtime/cuda/tilec_cuda.h) into the launch's error, worded as the CPU backend's,
// and clears the record. Runs in the launch's context.
std::string take_cuda_failure(const CudaDriver& d, const CompiledKernel& kernel, CUfunction fn, CUstream stream) {
  struct Record {  // TcFailure
    unsigned flag;
    int check;
    int pid[3];
    int pad;
    long long offset, extent, index;
  } rec{};
  CUmodule module = nullptr;
  CUdeviceptr at = 0, text_at = 0;
  size_t bytes = 0, text_bytes = 0;
  if (d.cuFuncGetModule(&module, fn) != CUDA_SUCCESS || d.cuModuleGetGlobal(&at, &bytes, module, "tc_failure") != CUDA_SUCCESS ||
      bytes != sizeof rec)
    return {};  // a debug kernel without checks
  if (CUresult r = d.cuStreamSynchronize(stream); r != CUDA_SUCCESS) return "kernel " + kernel.name + ": " + d.error_text(r);
  if (CUresult r = d.cuMemcpyDtoH(&rec, at, sizeof rec); r != CUDA_SUCCESS) return "reading the debug record: " + d.error_text(r);
  if (!rec.flag) return {};
  d.cuMemsetD8(at, 0, sizeof rec);
  std::string texts;
  if (d.cuModuleGetGlobal(&text_at, &text_bytes, module, "tc_failure_text") == CUDA_SUCCESS) {
    texts.resize(text_bytes);
    if (d.cuMemcpyDtoH(texts.data(), text_at, text_bytes) != CUDA_SUCCESS) texts.clear();
  }
  std::string text;  // entry `check`: 'B' + message, or 'A' + where + '\x1f' + message (emit_assert)
  size_t begin = 0;
  for (int i = 0; begin < texts.size(); ++i) {
    size_t end = texts.find('\0', begin);
    if (end == std::string::npos) end = texts.size();
    if (i == rec.check) text = texts.substr(begin, end - begin);
    begin = end + 1;
  }
  char out[1024];
  std::string program = "(" + std::to_string(rec.pid[0]) + ", " + std::to_string(rec.pid[1]) + ", " + std::to_string(rec.pid[2]) + ")";
  if (!text.empty() && text[0] == 'B') {
    std::snprintf(out, sizeof out, "%s: element offset %lld is outside the buffer of %lld elements (program %s)", text.c_str() + 1,
                  rec.offset, rec.extent, program.c_str());
  } else {
    size_t sep = text.find('\x1f');
    std::string where = sep == std::string::npos ? kernel.name : text.substr(1, sep - 1);
    std::string msg = sep == std::string::npos ? text : text.substr(sep + 1);
    std::snprintf(out, sizeof out, "%s: device assertion failed in program %s at index %lld: %s", where.c_str(), program.c_str(),
                  rec.index, msg.c_str());
  }
  return "device-side assertion failed in kernel '" + kernel.name + "': " + out;
}

// Launches with the kernel's whole parameter list (the arguments, then any tensor maps).
std::string launch_cuda_params(const CudaDriver* driver, CompiledKernel& kernel, int device, const std::array<int32_t, 3>& grid,
                               void* stream, void** args) {
  std::string error;
  if (device < 0 || device >= CompiledKernel::kMaxDevices) return "CUDA device ordinal " + std::to_string(device) + " out of range";
  Dim3 g{static_cast<unsigned>(grid[0]), static_cast<unsigned>(grid[1]), static_cast<unsigned>(grid[2])};
  Dim3 block{static_cast<unsigned>(kernel.threads), 1, 1};
  // Each device's primary context once a kernel was loaded there (the module cache holds a retain
  // on it for the process). When it is already current, as PyTorch leaves it, the launch needs
  // no context switch: one cuCtxGetCurrent, then cuLaunchKernel.
  static std::array<std::atomic<CUcontext>, CompiledKernel::kMaxDevices> primary{};
  auto fn = static_cast<CUfunction>(kernel.functions[device].load(std::memory_order_acquire));
  CUcontext known = primary[device].load(std::memory_order_acquire);
  if (fn && known) {
    CUcontext current = nullptr;
    if (driver->cuCtxGetCurrent(&current) == CUDA_SUCCESS && current == known) {
      LaunchResult r = launch(*driver, fn, kernel.name, g, block, static_cast<unsigned>(kernel.shared_bytes),
                              static_cast<CUstream>(stream), args);
      if (r.ok && kernel.debug) return take_cuda_failure(*driver, kernel, fn, static_cast<CUstream>(stream));
      return r.ok ? std::string() : r.error;
    }
  }
  // A kernel's first launch on a device, with TILEC_LOG=compile: each driver step's time, so that
  // one run shows where a warm start's GPU share goes (the front end's share is compile_kernel's line).
  std::optional<StageTimer> timer;
  if (!fn && log_compile()) timer.emplace(true);
  ScopedContext ctx(*driver, device);
  if (!ctx.ok()) return ctx.error();
  if (timer) timer->mark("context");
  if (!fn) {
    static ModuleCache* modules = new ModuleCache(*driver);  // lives as long as the process, as CUDA contexts do
    // First launch on a device only: one thread at a time, since a rejected image is replaced.
    static std::mutex first_launch;
    std::lock_guard<std::mutex> lock(first_launch);
    std::function<void(const char*)> step;
    if (timer) step = [&timer](const char* name) { timer->mark(name); };
    bool rejected = false;
    fn = modules->get_function(device, kernel.cache_key, kernel.image, kernel.entry, kernel.shared_bytes, &error, &rejected,
                               step);
    if (!fn && rejected && kernel.image_from_cache) {
      std::string path = KernelCache(default_cache_root()).artifact_path(kernel.cache_key, kernel.image_is_ptx ? "kernel.ptx" : "kernel.cubin");
      warn("cannot load the cached kernel " + path + " (" + error + "): removed, recompiling");
      std::string rebuild_error;
      {
        std::lock_guard<std::mutex> asm_lock(kernel.asm_mu);  // kernel_asm reads a PTX image
        if (!recompile_cuda_image(kernel, &rebuild_error)) return "cannot recompile kernel " + kernel.name + ": " + rebuild_error;
      }
      if (timer) timer->mark("recompile");
      fn = modules->get_function(device, kernel.cache_key, kernel.image, kernel.entry, kernel.shared_bytes, &error, nullptr, step);
    }
    if (!fn) return error;
    kernel.functions[device].store(fn, std::memory_order_release);
  }
  primary[device].store(ctx.context(), std::memory_order_release);
  LaunchResult r = launch(*driver, fn, kernel.name, g, block, static_cast<unsigned>(kernel.shared_bytes),
                          static_cast<CUstream>(stream), args);
  if (timer) {
    // cuLaunchKernel returning, not the kernel finishing: the launch is asynchronous.
    timer->mark("launch");
    timer->finish(kernel.name, ("cuda:" + std::to_string(device)).c_str(), "first launch on the device");
  }
  if (r.ok && kernel.debug) return take_cuda_failure(*driver, kernel, fn, static_cast<CUstream>(stream));
  return r.ok ? std::string() : r.error;
}

// A TMA kernel's launch: its tensor maps, encoded on the stack (the driver copies the
// parameters at the launch), follow the arguments.
std::string launch_cuda_with_maps(const CudaDriver* driver, CompiledKernel& kernel, int device, const std::array<int32_t, 3>& grid,
                                  void* stream, void** args) {
  constexpr size_t kMaxMaps = 8, kMaxArgs = 256;
  size_t n = kernel.arg_types.size();
  if (kernel.tensor_maps.size() > kMaxMaps || n > kMaxArgs) return "kernel " + kernel.name + " has too many tensor maps or arguments";
  EncodedTensorMap maps[kMaxMaps];
  std::string error = encode_tensor_maps(*driver, kernel, args, maps);
  if (!error.empty()) return error;
  void* with_maps[kMaxArgs + kMaxMaps];
  std::copy(args, args + n, with_maps);
  for (size_t i = 0; i < kernel.tensor_maps.size(); ++i) with_maps[n + i] = maps[i].bits;
  return launch_cuda_params(driver, kernel, device, grid, stream, with_maps);
}

}  // namespace

std::string launch_cuda(CompiledKernel& kernel, int device, const std::array<int32_t, 3>& grid, void* stream, void** args) {
  std::string error;
  const CudaDriver* driver = CudaDriver::get(&error);
  if (!driver) return error;
  if (!kernel.tensor_maps.empty()) return launch_cuda_with_maps(driver, kernel, device, grid, stream, args);
  return launch_cuda_params(driver, kernel, device, grid, stream, args);
}

double time_raw_cuda_launches(CompiledKernel& kernel, int device, const std::array<int32_t, 3>& grid, void* stream,
                              void** args, int n, std::string* error) {
  if (!kernel.tensor_maps.empty()) {
    *error = "kernel " + kernel.name + " takes TMA tensor maps, which the raw launch loop does not pass";
    return -1;
  }
  *error = launch_cuda(kernel, device, grid, stream, args);
  if (!error->empty()) return -1;
  const CudaDriver* driver = CudaDriver::get(error);
  ScopedContext ctx(*driver, device);
  if (!ctx.ok()) {
    *error = ctx.error();
    return -1;
  }
  auto fn = static_cast<CUfunction>(kernel.functions[device].load(std::memory_order_acquire));
  if (driver->cuCtxSynchronize() != CUDA_SUCCESS) {
    *error = "cuCtxSynchronize failed before timing";
    return -1;
  }
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    CUresult r = driver->cuLaunchKernel(fn, grid[0], grid[1], grid[2], kernel.threads, 1, 1, kernel.shared_bytes,
                                        static_cast<CUstream>(stream), args, nullptr);
    if (r != CUDA_SUCCESS) {
      *error = "cuLaunchKernel: " + driver->error_text(r);
      return -1;
    }
  }
  driver->cuCtxSynchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / n;
}

int cuda_device_arch(int device, std::string* error) {
  // Called once per device before its first compile or launch: with TILEC_LOG=compile its line
  // shows the driver's start (libcuda.so.1 and cuInit, once per process; cheap when PyTorch did it).
  StageTimer timer(log_compile());
  const CudaDriver* driver = CudaDriver::get(error);
  if (!driver) return -1;
  timer.mark("driver");
  int arch = driver->compute_capability(device, error);
  timer.mark("arch");
  timer.finish("", ("cuda:" + std::to_string(device)).c_str(), "device query");
  return arch;
}

}  // namespace tilec
