// Input: libcuda.so.1 and a GPU when present. Output: checks the driver loader fails cleanly
// without them, and with them that compile + ModuleCache + launch run a vector add correctly.
#include <gtest/gtest.h>

#include <vector>

#include "jit/nvrtc.h"
#include "runtime/cuda_driver.h"

namespace tilec {
namespace {

const char* kVecAdd = R"(
extern "C" __global__ void vadd(const float* a, const float* b, float* c, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}
extern "C" __global__ void smem_roundtrip(float* out, int n) {
  extern __shared__ float buf[];
  for (int i = threadIdx.x; i < n; i += blockDim.x) buf[i] = (float)i;
  __syncthreads();
  for (int i = threadIdx.x; i < n; i += blockDim.x) out[i] = buf[n - 1 - i];
}
)";

TEST(CudaDriver, GetNeverCrashesAndExplainsFailure) {
  std::string error;
  const CudaDriver* d = CudaDriver::get(&error);
  if (d == nullptr) {
    EXPECT_NE(error.find("no CUDA driver found (libcuda.so.1): "), std::string::npos) << error;
  } else {
    EXPECT_GT(d->driver_version(), 0);
    EXPECT_NE(d->error_text(2).find("CUDA_ERROR_OUT_OF_MEMORY: "), std::string::npos);
  }
  // The first outcome is kept.
  std::string again;
  EXPECT_EQ(CudaDriver::get(&again), d);
  EXPECT_EQ(again, d == nullptr ? error : std::string());
}

// Fixture for tests that need a GPU: driver, a device, NVRTC, and the kernels compiled for it.
class CudaGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    driver_ = CudaDriver::get(&error);
    if (driver_ == nullptr) GTEST_SKIP() << error;
    int count = 0;
    if (driver_->cuDeviceGetCount(&count) != CUDA_SUCCESS || count == 0) GTEST_SKIP() << "no CUDA device";
    const Nvrtc* nvrtc = Nvrtc::get(&error);
    ASSERT_NE(nvrtc, nullptr) << error;
    int cc = driver_->compute_capability(0, &error);
    ASSERT_GT(cc, 0) << error;
    bool use_ptx = false;
    int arch = choose_arch(cc, nvrtc->supported_archs(), &use_ptx);
    ASSERT_GT(arch, 0) << "NVRTC cannot target sm_" << cc;
    NvrtcOutput out = nvrtc->compile(kVecAdd, "vadd.cu", arch, !use_ptx, {});
    ASSERT_TRUE(out.ok) << out.log;
    image_ = use_ptx ? out.ptx : out.cubin;
  }

  const CudaDriver* driver_ = nullptr;
  std::string image_;
};

// Device buffer freed at scope exit; the caller keeps the right context current.
struct DeviceBuffer {
  const CudaDriver& d;
  CUdeviceptr ptr = 0;
  DeviceBuffer(const CudaDriver& driver, size_t bytes) : d(driver) { d.cuMemAlloc(&ptr, bytes); }
  ~DeviceBuffer() {
    if (ptr != 0) d.cuMemFree(ptr);
  }
};

TEST_F(CudaGpu, ScopedContextRestoresPrevious) {
  CUcontext before = nullptr;
  ASSERT_EQ(driver_->cuCtxGetCurrent(&before), CUDA_SUCCESS);
  {
    ScopedContext scope(*driver_, 0);
    ASSERT_TRUE(scope.ok()) << scope.error();
    CUcontext now = nullptr;
    driver_->cuCtxGetCurrent(&now);
    EXPECT_EQ(now, scope.context());
  }
  CUcontext after = nullptr;
  driver_->cuCtxGetCurrent(&after);
  EXPECT_EQ(after, before);
  ScopedContext bad(*driver_, 9999);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("cuda:9999"), std::string::npos) << bad.error();
}

TEST_F(CudaGpu, VectorAddThroughModuleCache) {
  ModuleCache cache(*driver_);
  std::string error;
  CUfunction f = cache.get_function(0, "vadd-test", image_, "vadd", 0, &error);
  ASSERT_NE(f, nullptr) << error;
  EXPECT_EQ(cache.get_function(0, "vadd-test", image_, "vadd", 0, &error), f);
  EXPECT_EQ(cache.module_count(), 1u);

  ScopedContext scope(*driver_, 0);
  ASSERT_TRUE(scope.ok()) << scope.error();
  const int n = 1000;
  std::vector<float> a(n), b(n), c(n, -1.0f);
  for (int i = 0; i < n; ++i) {
    a[i] = static_cast<float>(i);
    b[i] = 0.5f * static_cast<float>(i);
  }
  const size_t bytes = n * sizeof(float);
  DeviceBuffer da(*driver_, bytes), db(*driver_, bytes), dc(*driver_, bytes);
  ASSERT_TRUE(da.ptr && db.ptr && dc.ptr);
  ASSERT_EQ(driver_->cuMemcpyHtoD(da.ptr, a.data(), bytes), CUDA_SUCCESS);
  ASSERT_EQ(driver_->cuMemcpyHtoD(db.ptr, b.data(), bytes), CUDA_SUCCESS);
  ASSERT_EQ(driver_->cuMemsetD8(dc.ptr, 0, bytes), CUDA_SUCCESS);
  int nn = n;
  void* args[] = {&da.ptr, &db.ptr, &dc.ptr, &nn};
  LaunchResult r = launch(*driver_, f, "vadd", Dim3{(n + 127) / 128, 1, 1}, Dim3{128, 1, 1}, 0, nullptr, args);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(driver_->cuStreamSynchronize(nullptr), CUDA_SUCCESS);
  ASSERT_EQ(driver_->cuMemcpyDtoH(c.data(), dc.ptr, bytes), CUDA_SUCCESS);
  for (int i = 0; i < n; ++i) ASSERT_EQ(c[i], 1.5f * static_cast<float>(i)) << "at " << i;

  int ordinal = -1;
  ASSERT_EQ(driver_->cuPointerGetAttribute(&ordinal, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, dc.ptr), CUDA_SUCCESS);
  EXPECT_EQ(ordinal, 0);

  // An empty grid is a no-op; a block too large fails with the kernel named.
  EXPECT_TRUE(launch(*driver_, f, "vadd", Dim3{0, 1, 1}, Dim3{128, 1, 1}, 0, nullptr, args).ok);
  LaunchResult bad = launch(*driver_, f, "vadd", Dim3{1, 1, 1}, Dim3{4096, 1, 1}, 0, nullptr, args);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.error.find("vadd"), std::string::npos) << bad.error;
  EXPECT_NE(bad.error.find("CUDA_ERROR_"), std::string::npos) << bad.error;
}

TEST_F(CudaGpu, MissingKernelNamesItAndTheError) {
  ModuleCache cache(*driver_);
  std::string error;
  EXPECT_EQ(cache.get_function(0, "vadd-test", image_, "no_such_kernel", 0, &error), nullptr);
  EXPECT_NE(error.find("no_such_kernel"), std::string::npos) << error;
  EXPECT_NE(error.find("CUDA_ERROR_NOT_FOUND"), std::string::npos) << error;
  EXPECT_EQ(cache.get_function(0, "garbage", std::string("not a cubin"), "vadd", 0, &error), nullptr);
  EXPECT_NE(error.find("cuModuleLoadData"), std::string::npos) << error;
}

TEST_F(CudaGpu, LargeDynamicSharedMemoryOptsIn) {
  std::string error;
  CUdevice dev = 0;
  int optin = 0;
  driver_->cuDeviceGet(&dev, 0);
  driver_->cuDeviceGetAttribute(&optin, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, dev);
  const int n = 24 * 1024;  // 96 KiB of floats: above the 48 KiB default
  const size_t smem = n * sizeof(float);
  if (optin < static_cast<int>(smem)) GTEST_SKIP() << "device opt-in limit " << optin;
  ModuleCache cache(*driver_);
  CUfunction f = cache.get_function(0, "vadd-test", image_, "smem_roundtrip", smem, &error);
  ASSERT_NE(f, nullptr) << error;
  ScopedContext scope(*driver_, 0);
  DeviceBuffer out(*driver_, smem);
  int nn = n;
  void* args[] = {&out.ptr, &nn};
  LaunchResult r = launch(*driver_, f, "smem_roundtrip", Dim3{1, 1, 1}, Dim3{256, 1, 1}, smem, nullptr, args);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(driver_->cuCtxSynchronize(), CUDA_SUCCESS);
  std::vector<float> host(n);
  ASSERT_EQ(driver_->cuMemcpyDtoH(host.data(), out.ptr, smem), CUDA_SUCCESS);
  EXPECT_EQ(host[0], static_cast<float>(n - 1));
  EXPECT_EQ(host[n - 1], 0.0f);
  // Beyond the device limit: the error names the kernel and the limit.
  EXPECT_EQ(cache.get_function(0, "vadd-test", image_, "smem_roundtrip", optin + 4096, &error), nullptr);
  EXPECT_NE(error.find("smem_roundtrip"), std::string::npos) << error;
  EXPECT_NE(error.find(std::to_string(optin)), std::string::npos) << error;
}

}  // namespace
}  // namespace tilec
