// Input: a fresh temp folder per test. Output: pass/fail of KernelCache round trips, misses,
// concurrent stores of one key, and error messages for an unusable root.
#include "jit/cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace tilec {
namespace {

namespace fs = std::filesystem;

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("tilec-cache-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_F(CacheTest, StoreThenLookup) {
  KernelCache cache(root_.string());
  std::string key = "ab0123456789";
  EXPECT_EQ(cache.entry_dir(key), root_.string() + "/ab/" + key);
  nlohmann::json meta = {{"name", "add_kernel"}, {"num_warps", 4}};
  std::string error;
  ASSERT_TRUE(cache.store(key, {{"kernel.cpp", "int x;"}, {"kernel.so", std::string("\0\1\2", 3)}},
                          meta, &error))
      << error;
  auto found = cache.lookup(key);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ((*found)["name"], "add_kernel");
  EXPECT_EQ((*found)["artifacts"]["kernel.so"]["size"], 3);
  EXPECT_EQ((*found)["artifacts"]["kernel.cpp"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(read_file(cache.artifact_path(key, "kernel.cpp")), "int x;");
  EXPECT_EQ(read_file(cache.artifact_path(key, "kernel.so")), std::string("\0\1\2", 3));
  // No temp files are left behind.
  int count = 0;
  for (const auto& e : fs::directory_iterator(cache.entry_dir(key))) {
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos);
    ++count;
  }
  EXPECT_EQ(count, 3);
}

TEST_F(CacheTest, MissingAndIncompleteEntries) {
  KernelCache cache(root_.string());
  EXPECT_FALSE(cache.lookup("cd99").has_value());
  // Artifacts without meta.json are an incomplete entry (a writer died mid-way).
  fs::create_directories(cache.entry_dir("ef01"));
  std::ofstream(cache.artifact_path("ef01", "kernel.so")) << "partial";
  EXPECT_FALSE(cache.lookup("ef01").has_value());
  // A corrupt meta.json reads as a miss, not an exception.
  std::ofstream(cache.artifact_path("ef01", "meta.json")) << "{ not json";
  EXPECT_FALSE(cache.lookup("ef01").has_value());
  EXPECT_FALSE(cache.lookup("../x").has_value());
}

TEST_F(CacheTest, ConcurrentStoresOfOneKey) {
  KernelCache cache(root_.string());
  std::string key = "0123abcdef";
  std::string blob(1 << 20, 'k');
  nlohmann::json meta = {{"ok", true}};
  std::vector<std::thread> threads;
  std::vector<std::string> errors(8);
  std::vector<int> ok(8, 0);
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      ok[t] = cache.store(key, {{"kernel.so", blob}, {"kernel.cpp", "src"}}, meta, &errors[t]);
    });
  for (auto& t : threads) t.join();
  for (int t = 0; t < 8; ++t) EXPECT_TRUE(ok[t]) << errors[t];
  ASSERT_TRUE(cache.lookup(key).has_value());
  EXPECT_EQ(read_file(cache.artifact_path(key, "kernel.so")), blob);
  int count = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(cache.entry_dir(key))) ++count;
  EXPECT_EQ(count, 3);
}

TEST_F(CacheTest, UnwritableRootGivesError) {
  // A regular file where the root folder should be fails even for root (no permission tricks).
  fs::create_directories(root_);
  std::string blocker = (root_ / "file").string();
  std::ofstream(blocker) << "x";
  KernelCache cache(blocker + "/cache");
  std::string error;
  EXPECT_FALSE(cache.store("ab12", {{"kernel.so", "x"}}, {{"a", 1}}, &error));
  EXPECT_NE(error.find(blocker), std::string::npos) << error;
  EXPECT_NE(error.find("Not a directory"), std::string::npos) << error;
  EXPECT_FALSE(cache.lookup("ab12").has_value());
  EXPECT_FALSE(cache.store("ab12", {{"meta.json", "x"}}, {}, &error));
  EXPECT_FALSE(cache.store("ab12", {{"kernel.so", "x"}}, {}, nullptr));
}

TEST(CacheEnv, DefaultRootAndAlwaysCompile) {
  std::string saved_dir = std::getenv("TILEC_CACHE_DIR") ? std::getenv("TILEC_CACHE_DIR") : "";
  ::setenv("TILEC_CACHE_DIR", "/some/where", 1);
  EXPECT_EQ(default_cache_root(), "/some/where");
  ::unsetenv("TILEC_CACHE_DIR");
  if (const char* home = std::getenv("HOME"); home && *home) {
    EXPECT_EQ(default_cache_root(), std::string(home) + "/.cache/tilec");
  }
  if (!saved_dir.empty()) ::setenv("TILEC_CACHE_DIR", saved_dir.c_str(), 1);

  ::setenv("TILEC_ALWAYS_COMPILE", "1", 1);
  EXPECT_TRUE(always_compile());
  ::setenv("TILEC_ALWAYS_COMPILE", "0", 1);
  EXPECT_FALSE(always_compile());
  ::unsetenv("TILEC_ALWAYS_COMPILE");
  EXPECT_FALSE(always_compile());
}

}  // namespace
}  // namespace tilec
