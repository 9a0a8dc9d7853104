// Input: the NVRTC library of the local CUDA toolkit. Output: checks that cubin/PTX compiles,
// error logs, the nvcc reproduction line and arch choice behave; skipped where no toolkit exists.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "jit/nvrtc.h"

namespace tilec {
namespace {

const char* kAddKernel = R"(
extern "C" __global__ void add_one(float* x, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] += 1.0f;
}
)";

// A machine with the toolkit must load NVRTC; elsewhere the NVRTC tests are skipped.
const Nvrtc* nvrtc_or_skip(std::string* why) {
  const Nvrtc* n = Nvrtc::get(why);
  if (n == nullptr && std::filesystem::exists("/usr/local/cuda/lib64/libnvrtc.so"))
    ADD_FAILURE() << "toolkit present but NVRTC failed to load: " << *why;
  return n;
}

#define REQUIRE_NVRTC(var)                              \
  std::string why_;                                     \
  const Nvrtc* var = nvrtc_or_skip(&why_);              \
  if (var == nullptr) GTEST_SKIP() << why_;

TEST(Nvrtc, LoadsAndReportsVersionAndArchs) {
  REQUIRE_NVRTC(n);
  EXPECT_FALSE(n->library_path().empty());
  std::string v = n->version();
  EXPECT_NE(v.find('.'), std::string::npos) << v;
  EXPECT_NE(v, "0.0");
  std::vector<int> archs = n->supported_archs();
  ASSERT_FALSE(archs.empty());
  EXPECT_TRUE(std::is_sorted(archs.begin(), archs.end()));
  EXPECT_NE(std::find(archs.begin(), archs.end(), 90), archs.end());
  // get() is idempotent: the same instance every time.
  std::string e;
  EXPECT_EQ(Nvrtc::get(&e), n);
}

TEST(Nvrtc, CompilesCubinForSm80AndSm90) {
  REQUIRE_NVRTC(n);
  for (int arch : {80, 90}) {
    NvrtcOutput out = n->compile(kAddKernel, "add_one.cu", arch, /*cubin=*/true, {});
    ASSERT_TRUE(out.ok) << "sm_" << arch << ": " << out.log;
    ASSERT_GE(out.cubin.size(), 4u);
    EXPECT_EQ(out.cubin.substr(0, 4), std::string("\x7f" "ELF"));
    EXPECT_TRUE(out.ptx.empty());
    ASSERT_FALSE(out.options.empty());
    EXPECT_EQ(out.options[0], "-arch=sm_" + std::to_string(arch));
  }
}

TEST(Nvrtc, CompilesPtxWithDefaultOptions) {
  REQUIRE_NVRTC(n);
  NvrtcOutput out = n->compile(kAddKernel, "add_one.cu", 90, /*cubin=*/false, {"-DEXTRA=1"});
  ASSERT_TRUE(out.ok) << out.log;
  EXPECT_TRUE(out.cubin.empty());
  EXPECT_NE(out.ptx.find(".entry add_one"), std::string::npos);
  EXPECT_NE(out.ptx.find(".target sm_90"), std::string::npos);
  EXPECT_EQ(out.ptx.find('\0'), std::string::npos);  // loadable as a C string
  std::vector<std::string> expected = {"-arch=compute_90", "--std=c++17", "-default-device", "-lineinfo", "-minimal"};
  if (!n->include_dir().empty()) expected.push_back("-I" + n->include_dir());
  expected.push_back("-DEXTRA=1");
  EXPECT_EQ(out.options, expected);
}

TEST(Nvrtc, DefaultDeviceAllowsUnannotatedHelpers) {
  REQUIRE_NVRTC(n);
  const char* src = R"(
float twice(float v) { return 2.0f * v; }
extern "C" __global__ void k(float* x) { x[threadIdx.x] = twice(x[threadIdx.x]); }
)";
  NvrtcOutput out = n->compile(src, "helpers.cu", 80, true, {});
  EXPECT_TRUE(out.ok) << out.log;
}

TEST(Nvrtc, SyntaxErrorReturnsLog) {
  REQUIRE_NVRTC(n);
  NvrtcOutput out = n->compile("extern \"C\" __global__ void broken(float* x) { x[0] = 1.0f }\n", "broken.cu", 90,
                               true, {});
  EXPECT_FALSE(out.ok);
  EXPECT_TRUE(out.cubin.empty());
  EXPECT_NE(out.log.find("broken.cu"), std::string::npos) << out.log;
  EXPECT_NE(out.log.find("error"), std::string::npos) << out.log;
}

TEST(Nvrtc, BadOptionIsReportedNotThrown) {
  REQUIRE_NVRTC(n);
  NvrtcOutput out = n->compile(kAddKernel, "add_one.cu", 90, true, {"--no-such-option"});
  EXPECT_FALSE(out.ok);
  EXPECT_FALSE(out.log.empty());
}

TEST(Nvrtc, ConcurrentCompilesSucceed) {
  REQUIRE_NVRTC(n);
  bool ok[2] = {false, false};
  std::thread a([&] { ok[0] = n->compile(kAddKernel, "a.cu", 80, true, {}).ok; });
  std::thread b([&] { ok[1] = n->compile(kAddKernel, "b.cu", 90, false, {}).ok; });
  a.join();
  b.join();
  EXPECT_TRUE(ok[0]);
  EXPECT_TRUE(ok[1]);
}

TEST(Nvrtc, NvccEquivalent) {
  std::vector<std::string> opts = {"-arch=sm_90", "--std=c++17", "-default-device", "-lineinfo", "-minimal", "-DNAME=a b"};
  EXPECT_EQ(nvcc_equivalent("/tmp/k.cu", opts, 90),
            "nvcc -cubin -arch=sm_90 --std=c++17 -lineinfo '-DNAME=a b' -o /tmp/k.cubin /tmp/k.cu");
  std::vector<std::string> ptx = {"-arch=compute_80", "--std=c++17"};
  EXPECT_EQ(nvcc_equivalent("dir.v1/kernel", ptx, 80), "nvcc -ptx -arch=compute_80 --std=c++17 -o dir.v1/kernel.ptx dir.v1/kernel");
}

TEST(Nvrtc, ChooseArch) {
  std::vector<int> archs = {75, 80, 86, 89, 90, 100, 120};
  bool ptx = true;
  EXPECT_EQ(choose_arch(90, archs, &ptx), 90);
  EXPECT_FALSE(ptx);
  EXPECT_EQ(choose_arch(87, archs, &ptx), 86);  // Orin: not in the list, JIT sm_86 PTX
  EXPECT_TRUE(ptx);
  EXPECT_EQ(choose_arch(121, archs, &ptx), 120);  // newer than NVRTC knows
  EXPECT_TRUE(ptx);
  EXPECT_EQ(choose_arch(70, archs, &ptx), -1);  // older than every supported arch
  EXPECT_FALSE(ptx);
  EXPECT_EQ(choose_arch(90, {}, &ptx), -1);
  // Order of the list does not matter.
  EXPECT_EQ(choose_arch(95, {120, 90, 80}, &ptx), 90);
  EXPECT_TRUE(ptx);
}

}  // namespace
}  // namespace tilec
