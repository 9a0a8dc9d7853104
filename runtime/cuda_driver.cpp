// Input: libcuda.so.1 (dlopen) and cubin/PTX images. Output: CudaDriver, ScopedContext,
// ModuleCache and launch(); driver errors come back as "CUDA_ERROR_X: text" strings, never thrown.
#include "runtime/cuda_driver.h"

#include <dlfcn.h>

#include <algorithm>
#include <memory>

namespace tilec {

namespace {

// The library handle is never closed: modules and contexts outlive any scope we could close it in.
std::once_flag g_once;
const CudaDriver* g_driver = nullptr;
std::string g_error;

template <typename F>
bool resolve(void* lib, const char* name, F* out, std::string* missing) {
  *out = reinterpret_cast<F>(dlsym(lib, name));
  if (*out == nullptr) *missing = name;
  return *out != nullptr;
}

}  // namespace

const CudaDriver* CudaDriver::get(std::string* error) {
  std::call_once(g_once, [] {
    const std::string prefix = "no CUDA driver found (libcuda.so.1): ";
    void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* e = dlerror();
      g_error = prefix + (e ? e : "dlopen failed");
      return;
    }
    std::unique_ptr<CudaDriver> d(new CudaDriver());
    std::string m;
    // Versioned names: cuda.h maps these API names to their _v2 ABI symbols.
    bool ok = resolve(lib, "cuInit", &d->cuInit, &m) && resolve(lib, "cuDriverGetVersion", &d->cuDriverGetVersion, &m) &&
              resolve(lib, "cuDeviceGetCount", &d->cuDeviceGetCount, &m) &&
              resolve(lib, "cuDeviceGet", &d->cuDeviceGet, &m) &&
              resolve(lib, "cuDeviceGetAttribute", &d->cuDeviceGetAttribute, &m) &&
              resolve(lib, "cuDeviceGetName", &d->cuDeviceGetName, &m) &&
              resolve(lib, "cuDevicePrimaryCtxRetain", &d->cuDevicePrimaryCtxRetain, &m) &&
              resolve(lib, "cuDevicePrimaryCtxRelease_v2", &d->cuDevicePrimaryCtxRelease, &m) &&
              resolve(lib, "cuCtxGetCurrent", &d->cuCtxGetCurrent, &m) &&
              resolve(lib, "cuCtxSetCurrent", &d->cuCtxSetCurrent, &m) &&
              resolve(lib, "cuCtxGetDevice", &d->cuCtxGetDevice, &m) &&
              resolve(lib, "cuCtxSynchronize", &d->cuCtxSynchronize, &m) &&
              resolve(lib, "cuModuleLoadData", &d->cuModuleLoadData, &m) &&
              resolve(lib, "cuModuleUnload", &d->cuModuleUnload, &m) &&
              resolve(lib, "cuModuleGetFunction", &d->cuModuleGetFunction, &m) &&
              resolve(lib, "cuFuncSetAttribute", &d->cuFuncSetAttribute, &m) &&
              resolve(lib, "cuFuncGetAttribute", &d->cuFuncGetAttribute, &m) &&
              resolve(lib, "cuLaunchKernel", &d->cuLaunchKernel, &m) &&
              resolve(lib, "cuGetErrorName", &d->cuGetErrorName, &m) &&
              resolve(lib, "cuGetErrorString", &d->cuGetErrorString, &m) &&
              resolve(lib, "cuMemAlloc_v2", &d->cuMemAlloc, &m) && resolve(lib, "cuMemFree_v2", &d->cuMemFree, &m) &&
              resolve(lib, "cuMemcpyHtoD_v2", &d->cuMemcpyHtoD, &m) &&
              resolve(lib, "cuMemcpyDtoH_v2", &d->cuMemcpyDtoH, &m) &&
              resolve(lib, "cuMemsetD8_v2", &d->cuMemsetD8, &m) &&
              resolve(lib, "cuStreamSynchronize", &d->cuStreamSynchronize, &m) &&
              resolve(lib, "cuPointerGetAttribute", &d->cuPointerGetAttribute, &m) &&
              resolve(lib, "cuFuncGetModule", &d->cuFuncGetModule, &m) &&
              resolve(lib, "cuModuleGetGlobal_v2", &d->cuModuleGetGlobal, &m);
    if (!ok) {
      g_error = prefix + "missing symbol " + m + " (driver too old?)";
      return;
    }
    d->cuTensorMapEncodeTiled = reinterpret_cast<decltype(d->cuTensorMapEncodeTiled)>(dlsym(lib, "cuTensorMapEncodeTiled"));
    if (CUresult r = d->cuInit(0); r != CUDA_SUCCESS) {
      g_error = prefix + "cuInit(0) failed: " + d->error_text(r);
      return;
    }
    d->cuDriverGetVersion(&d->driver_version_);
    g_driver = d.release();
  });
  if (g_driver == nullptr && error != nullptr) *error = g_error;
  return g_driver;
}

std::string CudaDriver::error_text(CUresult result) const {
  const char* name = nullptr;
  const char* text = nullptr;
  // Both calls leave the pointer null for codes this driver does not know.
  cuGetErrorName(result, &name);
  cuGetErrorString(result, &text);
  std::string s = name ? name : "CUDA_ERROR_UNKNOWN_CODE_" + std::to_string(result);
  return s + ": " + (text ? text : "unrecognised CUresult " + std::to_string(result));
}

int CudaDriver::compute_capability(int device, std::string* error) const {
  CUdevice dev = 0;
  int major = 0, minor = 0;
  CUresult r = cuDeviceGet(&dev, device);
  if (r == CUDA_SUCCESS) r = cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
  if (r == CUDA_SUCCESS) r = cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
  if (r != CUDA_SUCCESS) {
    if (error != nullptr) *error = "compute capability of cuda:" + std::to_string(device) + ": " + error_text(r);
    return -1;
  }
  return major * 10 + minor;
}

ScopedContext::ScopedContext(const CudaDriver& driver, int device) : driver_(driver) {
  CUresult r = driver_.cuDeviceGet(&device_, device);
  if (r == CUDA_SUCCESS) r = driver_.cuCtxGetCurrent(&previous_);
  if (r == CUDA_SUCCESS) {
    r = driver_.cuDevicePrimaryCtxRetain(&ctx_, device_);
    retained_ = r == CUDA_SUCCESS;
  }
  if (r == CUDA_SUCCESS && ctx_ != previous_) {
    r = driver_.cuCtxSetCurrent(ctx_);
    switched_ = r == CUDA_SUCCESS;
  }
  // The message is built only on failure: launches construct a ScopedContext when they switch.
  if (r != CUDA_SUCCESS) error_ = "making cuda:" + std::to_string(device) + " current: " + driver_.error_text(r);
}

ScopedContext::~ScopedContext() {
  // Errors here are ignored: a destructor cannot report them, and the driver may be shutting down.
  if (switched_) driver_.cuCtxSetCurrent(previous_);
  if (retained_) driver_.cuDevicePrimaryCtxRelease(device_);
}

ModuleCache::~ModuleCache() { clear(); }

size_t ModuleCache::module_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return modules_.size();
}

void ModuleCache::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, m] : modules_) {
    ScopedContext scope(driver_, std::get<0>(key));
    if (scope.ok()) driver_.cuModuleUnload(m.module);
  }
  modules_.clear();
  for (int device : retained_devices_) {
    CUdevice dev = 0;
    if (driver_.cuDeviceGet(&dev, device) == CUDA_SUCCESS) driver_.cuDevicePrimaryCtxRelease(dev);
  }
  retained_devices_.clear();
}

CUfunction ModuleCache::get_function(int device, const std::string& key, const std::string& image,
                                     const std::string& kernel_name, size_t dynamic_shared_bytes, std::string* error,
                                     bool* image_rejected, const std::function<void(const char* step)>& step) {
  if (image_rejected != nullptr) *image_rejected = false;
  auto fail = [&](const std::string& what, CUresult r) -> CUfunction {
    if (error != nullptr)
      *error = "kernel " + kernel_name + " on cuda:" + std::to_string(device) + ": " + what + ": " + driver_.error_text(r);
    return nullptr;
  };
  std::lock_guard<std::mutex> lock(mu_);
  auto it = modules_.find({device, key});
  // The device's context is made current only for driver calls that need it, not on cache hits.
  std::unique_ptr<ScopedContext> scope;
  auto enter = [&]() -> bool {
    if (!scope) scope = std::make_unique<ScopedContext>(driver_, device);
    if (!scope->ok() && error != nullptr) *error = "kernel " + kernel_name + ": " + scope->error();
    return scope->ok();
  };
  if (it == modules_.end()) {
    if (!enter()) return nullptr;
    // A lasting retain keeps the primary context (and so the module) alive after `scope` ends.
    if (std::find(retained_devices_.begin(), retained_devices_.end(), device) == retained_devices_.end()) {
      CUcontext ctx = nullptr;
      CUdevice dev = 0;
      CUresult r = driver_.cuDeviceGet(&dev, device);
      if (r == CUDA_SUCCESS) r = driver_.cuDevicePrimaryCtxRetain(&ctx, dev);
      if (r != CUDA_SUCCESS) return fail("cuDevicePrimaryCtxRetain", r);
      retained_devices_.push_back(device);
    }
    // PTX must be NUL-terminated for cuModuleLoadData; std::string's buffer always is.
    Module m;
    if (CUresult r = driver_.cuModuleLoadData(&m.module, image.c_str()); r != CUDA_SUCCESS) {
      if (image_rejected != nullptr) *image_rejected = true;
      return fail("cuModuleLoadData", r);
    }
    it = modules_.emplace(std::make_tuple(device, key), std::move(m)).first;
    if (step) step("module-load");
  }
  Module& m = it->second;
  auto k = m.kernels.find(kernel_name);
  if (k == m.kernels.end()) {
    if (!enter()) return nullptr;
    Kernel kernel;
    if (CUresult r = driver_.cuModuleGetFunction(&kernel.function, m.module, kernel_name.c_str()); r != CUDA_SUCCESS)
      return fail("cuModuleGetFunction", r);
    k = m.kernels.emplace(kernel_name, kernel).first;
    if (step) step("function");
  }
  Kernel& kernel = k->second;
  if (dynamic_shared_bytes > kernel.shared_opt_in) {
    if (!enter()) return nullptr;
    CUresult r = driver_.cuFuncSetAttribute(kernel.function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                            static_cast<int>(dynamic_shared_bytes));
    if (r != CUDA_SUCCESS) {
      // Name the device limit: the usual cause is asking for more than the opt-in maximum.
      int limit = -1, static_bytes = -1;
      CUdevice dev = 0;
      if (driver_.cuDeviceGet(&dev, device) == CUDA_SUCCESS)
        driver_.cuDeviceGetAttribute(&limit, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, dev);
      driver_.cuFuncGetAttribute(&static_bytes, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, kernel.function);
      return fail("cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES, " + std::to_string(dynamic_shared_bytes) +
                      ") with " + std::to_string(static_bytes) + " static bytes; the device allows " +
                      std::to_string(limit) + " bytes per block",
                  r);
    }
    kernel.shared_opt_in = dynamic_shared_bytes;
    if (step) step("shared-opt-in");
  }
  return kernel.function;
}

LaunchResult launch(const CudaDriver& driver, CUfunction function, const std::string& kernel_name, Dim3 grid,
                    Dim3 block, unsigned shared_bytes, CUstream stream, void** args) {
  LaunchResult result;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return result;
  CUresult r = driver.cuLaunchKernel(function, grid.x, grid.y, grid.z, block.x, block.y, block.z, shared_bytes, stream,
                                     args, nullptr);
  if (r != CUDA_SUCCESS) {
    result.ok = false;
    result.error = "launching kernel " + kernel_name + " (grid " + std::to_string(grid.x) + "x" +
                   std::to_string(grid.y) + "x" + std::to_string(grid.z) + ", block " + std::to_string(block.x) + "x" +
                   std::to_string(block.y) + "x" + std::to_string(block.z) + ", " + std::to_string(shared_bytes) +
                   " shared bytes): " + driver.error_text(r);
  }
  return result;
}

}  // namespace tilec
