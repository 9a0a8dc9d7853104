// Input: kernels compiled and launched through the installed header include/tilec/tilec.h.
// Output: pass/fail of its error values (DSL, signature, file, argument and launch errors) and runs
// on the CPU and (skipped without one) on GPU 0.
#include "tilec/tilec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "jit/kernel.h"
#include "runtime/cuda_driver.h"

namespace {

namespace tj = tilec::jit;

const char* kAdd = R"(
import tilec
import tilec.language as tl

@tilec.jit
def add(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)

@tilec.jit
def positive(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    v = tl.load(x_ptr + offs, mask=offs < n, other=1.0)
    tl.device_assert(v > 0, "v must be positive")

@tilec.jit
def bad(x_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, 1000)
)";

const char* kAddSig = "x_ptr:*fp32:16,y_ptr:*fp32:16,out_ptr:*fp32:16,n:i32";

tj::Kernel compile_add() {
  tj::Result<tj::Kernel> k = tj::compile(kAdd, "add", kAddSig, {"BLOCK=64"}, {}, "api_test.py");
  EXPECT_TRUE(k.ok()) << k.error();
  return k.value();
}

TEST(PublicApi, CompilesAndLaunchesOnTheCpu) {
  tj::Kernel k = compile_add();
  EXPECT_EQ(k.name(), "add");
  EXPECT_EQ(k.backend(), tj::Backend::Cpu);
  EXPECT_EQ(k.arg_names(), (std::vector<std::string>{"x_ptr", "y_ptr", "out_ptr", "n"}));
  EXPECT_NE(k.asm_text("cpp").find("tilec_entry"), std::string::npos);
  std::vector<float> x(200), y(200), out(200, -1.f);
  for (int i = 0; i < 200; ++i) x[i] = float(i), y[i] = 0.5f;
  int32_t n = 150;
  tj::Status s = k.launch({3}, {x.data(), y.data(), out.data(), n});
  ASSERT_TRUE(s.ok()) << s.message();
  for (int i = 0; i < 200; ++i) EXPECT_EQ(out[i], i < 150 ? float(i) + 0.5f : -1.f) << i;
}

TEST(PublicApi, DslErrorCarriesTheDiagnostic) {
  tj::Result<tj::Kernel> k = tj::compile(kAdd, "bad", "x_ptr:*fp32", {"BLOCK=4"}, {}, "api_test.py");
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().find("api_test.py:"), std::string::npos) << k.error();
  EXPECT_NE(k.error().find("powers of two"), std::string::npos) << k.error();
  EXPECT_NE(k.error().find("^"), std::string::npos) << k.error();
}

TEST(PublicApi, UnknownKernelAndBadSignatureAreErrors) {
  tj::Result<tj::Kernel> missing = tj::compile(kAdd, "nope", kAddSig, {"BLOCK=64"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("nope"), std::string::npos) << missing.error();
  tj::Result<tj::Kernel> sig = tj::compile(kAdd, "add", "x_ptr:*fp33", {"BLOCK=64"});
  ASSERT_FALSE(sig.ok());
  EXPECT_NE(sig.error().find("bad signature"), std::string::npos) << sig.error();
  tj::Options o;
  o.num_warps = 3;
  tj::Result<tj::Kernel> warps = tj::compile(kAdd, "add", kAddSig, {"BLOCK=64"}, o);
  ASSERT_FALSE(warps.ok());
  EXPECT_NE(warps.error().find("num_warps"), std::string::npos) << warps.error();
}

TEST(PublicApi, UnreadableFileIsAnError) {
  tj::Result<tj::Kernel> k = tj::compile_file("/nonexistent/k.py", "add", kAddSig, {"BLOCK=64"});
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().find("cannot read '/nonexistent/k.py'"), std::string::npos) << k.error();
}

TEST(PublicApi, WrongArgumentsAreErrorsBeforeAnythingRuns) {
  tj::Kernel k = compile_add();
  alignas(16) float buf[64] = {};
  int32_t n = 16;
  auto message = [&](std::vector<tj::Arg> args, tj::CudaStream stream = {}) {
    tj::Status s = k.launch({1}, args, stream);
    EXPECT_FALSE(s.ok());
    return s.message();
  };
  EXPECT_NE(message({buf, buf, buf}).find("takes 4 runtime arguments, got 3"), std::string::npos);
  EXPECT_NE(message({buf, buf, buf, int64_t{16}}).find("argument 3 ('n') of kernel 'add' is i32 (int32_t), got int64_t"),
            std::string::npos);
  EXPECT_NE(message({buf, n, buf, n}).find("('y_ptr') of kernel 'add' is a pointer to fp32, got int32_t"), std::string::npos);
  EXPECT_NE(message({buf + 1, buf, buf, n}).find("16-byte aligned"), std::string::npos);
  int dummy_stream = 0;
  EXPECT_NE(message({buf, buf, buf, n}, {&dummy_stream, 0}).find("takes no CUDA stream"), std::string::npos);
}

TEST(PublicApi, DivisibilityPromiseIsChecked) {
  tj::Result<tj::Kernel> k = tj::compile(kAdd, "add", "x_ptr:*fp32,y_ptr:*fp32,out_ptr:*fp32,n:i32:16", {"BLOCK=64"});
  ASSERT_TRUE(k.ok()) << k.error();
  float buf[64] = {};
  tj::Status s = k->launch({1}, {buf, buf, buf, int32_t{15}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("divisible by 16"), std::string::npos) << s.message();
  EXPECT_TRUE(k->launch({1}, {buf, buf, buf, int32_t{16}}).ok());
  EXPECT_TRUE(k->launch({0}, {buf, buf, buf, int32_t{16}}).ok());  // an empty grid runs nothing
}

TEST(PublicApi, FailedDeviceAssertionIsAnError) {
  tj::Result<tj::Kernel> k = tj::compile(kAdd, "positive", "x_ptr:*fp32,n:i32", {"BLOCK=16"}, {}, "api_test.py");
  ASSERT_TRUE(k.ok()) << k.error();
  std::vector<float> ok(16, 1.f), bad(16, 1.f);
  EXPECT_TRUE(k->launch({1}, {ok.data(), int32_t{16}}).ok());
  bad[3] = -1.f;
  tj::Status s = k->launch({1}, {bad.data(), int32_t{16}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("v must be positive"), std::string::npos) << s.message();
}

TEST(PublicApi, CudaWithoutAGpuIsAnError) {
  std::string error;
  if (tilec::cuda_device_arch(0, &error) > 0) GTEST_SKIP() << "a GPU is present; the error paths need a machine without one";
  tj::Options o;
  o.backend = tj::Backend::Cuda;
  tj::Result<tj::Kernel> k = tj::compile(kAdd, "add", kAddSig, {"BLOCK=64"}, o);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().find("cannot find the GPU"), std::string::npos) << k.error();
  // With an explicit arch NVRTC compiles without a GPU; the launch then reports the missing driver.
  o.cuda_arch = 90;
  tj::Result<tj::Kernel> k90 = tj::compile(kAdd, "add", kAddSig, {"BLOCK=64"}, o);
  if (!k90.ok() && k90.error().find("NVRTC") != std::string::npos) GTEST_SKIP() << k90.error();
  ASSERT_TRUE(k90.ok()) << k90.error();
  EXPECT_FALSE(k90->asm_text("cuda").empty());
  alignas(16) float buf[64] = {};
  tj::Status s = k90->launch({1}, {buf, buf, buf, int32_t{16}});
  EXPECT_FALSE(s.ok());
}

TEST(PublicApi, CudaLaunchOnTheGpu) {
  std::string error;
  const tilec::CudaDriver* driver = tilec::CudaDriver::get(&error);
  if (!driver || tilec::cuda_device_arch(0, &error) < 0) GTEST_SKIP() << "no GPU: " << error;
  tj::Options o;
  o.backend = tj::Backend::Cuda;
  tj::Result<tj::Kernel> k = tj::compile(kAdd, "add", kAddSig, {"BLOCK=64"}, o);
  ASSERT_TRUE(k.ok()) << k.error();
  tilec::ScopedContext scope(*driver, 0);
  ASSERT_TRUE(scope.ok()) << scope.error();
  const int32_t n = 1000;
  const size_t bytes = n * sizeof(float);
  std::vector<float> a(n), b(n, 0.25f), c(n, -1.f);
  for (int i = 0; i < n; ++i) a[i] = float(i);
  tilec::CUdeviceptr d[3] = {};
  for (tilec::CUdeviceptr& p : d) ASSERT_EQ(driver->cuMemAlloc(&p, bytes), tilec::CUDA_SUCCESS);
  ASSERT_EQ(driver->cuMemcpyHtoD(d[0], a.data(), bytes), tilec::CUDA_SUCCESS);
  ASSERT_EQ(driver->cuMemcpyHtoD(d[1], b.data(), bytes), tilec::CUDA_SUCCESS);
  tj::Status s = k->launch({(n + 63) / 64}, {tj::Arg::device_ptr(d[0]), tj::Arg::device_ptr(d[1]), tj::Arg::device_ptr(d[2]), n});
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(driver->cuStreamSynchronize(nullptr), tilec::CUDA_SUCCESS);
  ASSERT_EQ(driver->cuMemcpyDtoH(c.data(), d[2], bytes), tilec::CUDA_SUCCESS);
  for (int i = 0; i < n; ++i) ASSERT_EQ(c[i], float(i) + 0.25f) << i;
  // The argument checks hold on this backend too: a device pointer 4 bytes off breaks ':16'.
  tj::Status misaligned = k->launch({1}, {tj::Arg::device_ptr(d[0] + 4), tj::Arg::device_ptr(d[1]), tj::Arg::device_ptr(d[2]), n});
  EXPECT_FALSE(misaligned.ok());
  for (tilec::CUdeviceptr p : d) driver->cuMemFree(p);
}

}  // namespace
