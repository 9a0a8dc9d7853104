// Input: tiny C++ sources written to a temp folder. Output: pass/fail of building them with the
// host compiler, loading the .so and calling into it, and of the failure paths (bad code, no compiler).
#include "jit/host_compiler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tilec {
namespace {

namespace fs = std::filesystem;

class HostCompilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tilec-hc-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "include");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

// Restores $CXX on scope exit so tests do not leak a compiler choice.
class ScopedCxx {
 public:
  explicit ScopedCxx(const char* value) {
    if (const char* old = std::getenv("CXX")) saved_ = old, had_ = true;
    ::setenv("CXX", value, 1);
  }
  ~ScopedCxx() {
    if (had_)
      ::setenv("CXX", saved_.c_str(), 1);
    else
      ::unsetenv("CXX");
  }

 private:
  std::string saved_;
  bool had_ = false;
};

TEST_F(HostCompilerTest, BuildLoadAndCall) {
  write("include/scale.h", "#define TILEC_TEST_SCALE 3\n");
  std::string src = write("add.cpp",
                          "#include \"scale.h\"\n"
                          "extern \"C\" int tilec_test_add(int a, int b) {\n"
                          "  return TILEC_TEST_SCALE * (a + b);\n"
                          "}\n");
  const HostCompiler& hc = host_compiler((dir_ / "include").string());
  EXPECT_FALSE(hc.version.empty());
  EXPECT_EQ(&hc, &host_compiler((dir_ / "include").string()));
  std::string so = (dir_ / "add.so").string();
  CompileOutcome out = compile_shared_object(hc, src, so);
  ASSERT_TRUE(out.ok) << out.command << "\n" << out.log;
  EXPECT_NE(out.command.find("-march=native"), std::string::npos);
  EXPECT_NE(out.command.find(so), std::string::npos);
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();

  std::string error;
  auto lib = SharedLibrary::open(so, &error);
  ASSERT_NE(lib, nullptr) << error;
  auto fn = reinterpret_cast<int (*)(int, int)>(lib->symbol("tilec_test_add", &error));
  ASSERT_NE(fn, nullptr) << error;
  EXPECT_EQ(fn(2, 5), 21);
  EXPECT_EQ(lib->symbol("no_such_symbol", &error), nullptr);
  EXPECT_NE(error.find("no_such_symbol"), std::string::npos);
}

TEST_F(HostCompilerTest, SyntaxErrorReportsLogAndCommand) {
  std::string src = write("bad.cpp", "int f( { return 1; }\n");
  std::string so = (dir_ / "bad.so").string();
  CompileOutcome out = compile_shared_object(host_compiler((dir_ / "include").string()), src, so);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.log.find("bad.cpp"), std::string::npos) << out.log;
  EXPECT_NE(out.log.find("error"), std::string::npos) << out.log;
  EXPECT_NE(out.command.find(src), std::string::npos) << out.command;
  EXPECT_FALSE(fs::exists(so));
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}

TEST_F(HostCompilerTest, MissingCompilerIsAnError) {
  ScopedCxx cxx("/nonexistent");
  const HostCompiler& hc = host_compiler((dir_ / "include").string());
  EXPECT_EQ(hc.command, "/nonexistent");
  EXPECT_TRUE(hc.version.empty());
  std::string src = write("ok.cpp", "int f() { return 1; }\n");
  CompileOutcome out = compile_shared_object(hc, src, (dir_ / "ok.so").string());
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.log.find("/nonexistent"), std::string::npos) << out.log;
  EXPECT_EQ(out.command.rfind("/nonexistent ", 0), 0u) << out.command;
}

TEST_F(HostCompilerTest, LoadMissingLibraryIsAnError) {
  std::string error;
  EXPECT_EQ(SharedLibrary::open((dir_ / "none.so").string(), &error), nullptr);
  EXPECT_NE(error.find("none.so"), std::string::npos) << error;
}

TEST(ShellQuote, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(shell_quote("-O3"), "-O3");
  EXPECT_EQ(shell_quote("/a b/c.cpp"), "'/a b/c.cpp'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
}

TEST(CpuIsa, StableAndDescriptive) {
  std::string isa = cpu_isa_description();
  EXPECT_EQ(isa, cpu_isa_description());
#if defined(__x86_64__)
  EXPECT_EQ(isa.rfind("x86_64", 0), 0u) << isa;
#elif defined(__aarch64__)
  EXPECT_EQ(isa.rfind("aarch64-neon", 0), 0u) << isa;
#endif
}

}  // namespace
}  // namespace tilec
