// Input: libcuda.so.1 found at run time (dlopen; no CUDA headers). Output: CudaDriver entry points,
// ScopedContext, a per-device ModuleCache and launch(); every failure is a string naming the CUresult.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace tilec {

// Driver API types, ABI-identical to cuda.h (C enums are int-sized, handles are opaque pointers).
// Do not include cuda.h in the same translation unit: it #defines cuMemAlloc and friends to their
// _v2 names, which would rename the members below.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;
using CUstream = struct CUstream_st*;

// The enum values used by tilec, copied from cuda.h (CUDA 12/13 share them).
inline constexpr CUresult CUDA_SUCCESS = 0;
inline constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8;
inline constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
inline constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
inline constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
inline constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
inline constexpr int CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0;
inline constexpr int CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1;
inline constexpr int CU_FUNC_ATTRIBUTE_NUM_REGS = 4;
inline constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
inline constexpr int CU_POINTER_ATTRIBUTE_CONTEXT = 1;
inline constexpr int CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2;
inline constexpr int CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9;
inline constexpr int CU_MEMORYTYPE_HOST = 1;
inline constexpr int CU_MEMORYTYPE_DEVICE = 2;
inline constexpr int CU_TENSOR_MAP_DATA_TYPE_UINT8 = 0;
inline constexpr int CU_TENSOR_MAP_DATA_TYPE_UINT16 = 1;
inline constexpr int CU_TENSOR_MAP_DATA_TYPE_UINT32 = 2;
inline constexpr int CU_TENSOR_MAP_DATA_TYPE_INT32 = 3;
inline constexpr int CU_TENSOR_MAP_DATA_TYPE_UINT64 = 4;
inline constexpr int CU_TENSOR_MAP_DATA_TYPE_INT64 = 5;
inline constexpr int CU_TENSOR_MAP_DATA_TYPE_FLOAT16 = 6;
inline constexpr int CU_TENSOR_MAP_DATA_TYPE_FLOAT32 = 7;
inline constexpr int CU_TENSOR_MAP_DATA_TYPE_FLOAT64 = 8;
inline constexpr int CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 = 9;
inline constexpr int CU_TENSOR_MAP_SWIZZLE_NONE = 0;
inline constexpr int CU_TENSOR_MAP_SWIZZLE_128B = 3;
inline constexpr int CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE = 0;
inline constexpr int CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA = 1;
inline constexpr int CU_TENSOR_MAP_L2_PROMOTION_L2_128B = 2;

// Dynamic shared memory above this needs an explicit opt-in per function.
inline constexpr size_t kDefaultDynamicSharedLimit = 48 * 1024;

// libcuda.so.1, loaded and cuInit(0)-ed once per process. Members are the driver entry points,
// resolved by their current ABI names (the _v2 symbols where cuda.h maps the name to one).
class CudaDriver {
 public:
  // Returns nullptr with *error = "no CUDA driver found (libcuda.so.1): <why>" when the library,
  // a symbol, or cuInit fails. Thread-safe; the outcome of the first call is kept.
  static const CudaDriver* get(std::string* error);

  // "CUDA_ERROR_OUT_OF_MEMORY: out of memory"
  std::string error_text(CUresult result) const;
  // 10 * major + minor of `device`, e.g. 90; -1 with *error set on failure.
  int compute_capability(int device, std::string* error) const;
  int driver_version() const { return driver_version_; }  // e.g. 13000

  CUresult (*cuInit)(unsigned int flags) = nullptr;
  CUresult (*cuDriverGetVersion)(int* version) = nullptr;
  CUresult (*cuDeviceGetCount)(int* count) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice* device, int ordinal) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int* value, int attribute, CUdevice device) = nullptr;
  CUresult (*cuDeviceGetName)(char* name, int len, CUdevice device) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext* ctx, CUdevice device) = nullptr;
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device) = nullptr;  // cuDevicePrimaryCtxRelease_v2
  CUresult (*cuCtxGetCurrent)(CUcontext* ctx) = nullptr;
  CUresult (*cuCtxSetCurrent)(CUcontext ctx) = nullptr;
  CUresult (*cuCtxGetDevice)(CUdevice* device) = nullptr;
  CUresult (*cuCtxSynchronize)() = nullptr;
  CUresult (*cuModuleLoadData)(CUmodule* module, const void* image) = nullptr;
  CUresult (*cuModuleUnload)(CUmodule module) = nullptr;
  CUresult (*cuModuleGetFunction)(CUfunction* function, CUmodule module, const char* name) = nullptr;
  CUresult (*cuFuncSetAttribute)(CUfunction function, int attribute, int value) = nullptr;
  CUresult (*cuFuncGetAttribute)(int* value, int attribute, CUfunction function) = nullptr;
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned grid_x, unsigned grid_y, unsigned grid_z,
                             unsigned block_x, unsigned block_y, unsigned block_z, unsigned shared_bytes,
                             CUstream stream, void** params, void** extra) = nullptr;
  CUresult (*cuGetErrorName)(CUresult result, const char** name) = nullptr;
  CUresult (*cuGetErrorString)(CUresult result, const char** text) = nullptr;
  CUresult (*cuMemAlloc)(CUdeviceptr* ptr, size_t bytes) = nullptr;                     // _v2
  CUresult (*cuMemFree)(CUdeviceptr ptr) = nullptr;                                     // _v2
  CUresult (*cuMemcpyHtoD)(CUdeviceptr dst, const void* src, size_t bytes) = nullptr;  // _v2
  CUresult (*cuMemcpyDtoH)(void* dst, CUdeviceptr src, size_t bytes) = nullptr;        // _v2
  CUresult (*cuMemsetD8)(CUdeviceptr dst, unsigned char value, size_t count) = nullptr;  // _v2
  CUresult (*cuStreamSynchronize)(CUstream stream) = nullptr;
  CUresult (*cuPointerGetAttribute)(void* data, int attribute, CUdeviceptr ptr) = nullptr;
  CUresult (*cuFuncGetModule)(CUmodule* module, CUfunction function) = nullptr;
  CUresult (*cuModuleGetGlobal)(CUdeviceptr* ptr, size_t* bytes, CUmodule module, const char* name) = nullptr;  // _v2
  // Optional (CUDA 12+ drivers): null when the driver lacks it; TMA kernels then cannot launch.
  CUresult (*cuTensorMapEncodeTiled)(void* map, int dtype, unsigned rank, void* address, const unsigned long long* dims,
                                     const unsigned long long* strides, const unsigned* box, const unsigned* element_strides,
                                     int interleave, int swizzle, int l2_promotion, int oob_fill) = nullptr;

 private:
  CudaDriver() = default;
  int driver_version_ = 0;
};

// Makes `device`'s primary context current for this scope and restores the caller's current
// context (possibly none) on destruction, so work on cuda:1 leaves a cuda:0 caller undisturbed.
// Holds a retain on the primary context for its lifetime.
class ScopedContext {
 public:
  ScopedContext(const CudaDriver& driver, int device);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  CUcontext context() const { return ctx_; }

 private:
  const CudaDriver& driver_;
  CUdevice device_ = 0;
  CUcontext ctx_ = nullptr;
  CUcontext previous_ = nullptr;
  bool retained_ = false;
  bool switched_ = false;
  std::string error_;
};

// Loaded modules, one per (device ordinal, cubin key) in that device's primary context, plus
// their kernels by name. Thread-safe. Keeps a retain on each device's primary context it used, so
// its modules stay valid while the cache lives; clear()/the destructor unload them.
class ModuleCache {
 public:
  explicit ModuleCache(const CudaDriver& driver) : driver_(driver) {}
  ~ModuleCache();
  ModuleCache(const ModuleCache&) = delete;
  ModuleCache& operator=(const ModuleCache&) = delete;

  // The CUfunction `kernel_name` of `image` (a cubin or NUL-free PTX text) on `device`, loading
  // the image on first use of `key` (equal keys must mean equal images). When
  // `dynamic_shared_bytes` exceeds 48 KiB the function is opted in to that much. Returns nullptr
  // with *error naming the kernel and the CUresult on failure; *image_rejected (when non-null) is
  // set when cuModuleLoadData failed (a bad image, or too little device memory to load it).
  // `step`, when given, is called after each driver call made ("module-load", "function",
  // "shared-opt-in"), so that the caller can time them (TILEC_LOG=compile).
  CUfunction get_function(int device, const std::string& key, const std::string& image, const std::string& kernel_name,
                          size_t dynamic_shared_bytes, std::string* error, bool* image_rejected = nullptr,
                          const std::function<void(const char* step)>& step = nullptr);

  size_t module_count() const;
  // Unloads every module and releases the contexts; CUfunctions handed out become invalid.
  void clear();

 private:
  struct Kernel {
    CUfunction function = nullptr;
    size_t shared_opt_in = kDefaultDynamicSharedLimit;  // dynamic shared bytes allowed so far
  };
  struct Module {
    CUmodule module = nullptr;
    std::map<std::string, Kernel> kernels;
  };
  const CudaDriver& driver_;
  mutable std::mutex mu_;
  std::map<std::tuple<int, std::string>, Module> modules_;
  std::vector<int> retained_devices_;  // primary contexts this cache holds a retain on
};

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

struct LaunchResult {
  bool ok = true;
  std::string error;  // "launching kernel NAME: CUDA_ERROR_...: ..." when !ok
};

// Launches `function` on `stream` with `args` (one pointer per kernel parameter). The function's
// context must be current (use ScopedContext). A grid with a zero dimension is an empty launch
// and succeeds without calling the driver, as in Triton.
LaunchResult launch(const CudaDriver& driver, CUfunction function, const std::string& kernel_name, Dim3 grid,
                    Dim3 block, unsigned shared_bytes, CUstream stream, void** args);

}  // namespace tilec
