// Input: small kernels, hand-damaged cache entries. Output: checks that diagnostics outlive their
// source, of the pointer-argument analysis, of insert_bounds_checks and of the cache's verification.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "jit/cache.h"
#include "tilec/frontend.h"
#include "tilec/passes.h"

namespace tilec {
namespace {

namespace fs = std::filesystem;

TEST(Diagnostics, OutliveTheSourceTheyPointInto) {
  Diagnostics diags;
  {
    auto file = std::make_shared<SourceFile>("<string>", "def ok(x_ptr):\n    pass\n");
    diags.error(Loc{file.get(), 1, 8}, "no type given for argument 'x_ptr'");
  }
  // The file is gone; rendering must not read it (it used to: a garbage substr position).
  EXPECT_EQ(diags.render(), "<string>:1:8: error: no type given for argument 'x_ptr'\n    def ok(x_ptr):\n           ^\n");
}

struct Lowered {
  std::shared_ptr<SourceFile> file;  // kept alive with the IR that points into it
  std::unique_ptr<Function> fn;
};

Lowered lower(const std::string& text, const std::string& sig_text, const std::vector<std::string>& constexprs = {}) {
  std::string error;
  auto sig = parse_signature(sig_text, constexprs, &error);
  EXPECT_TRUE(sig) << error;
  Lowered out;
  out.file = std::make_shared<SourceFile>("k.py", text);
  Diagnostics diags;
  out.fn = lower_to_ir(KernelSource{out.file, "k", *sig}, true, diags);
  EXPECT_TRUE(out.fn) << diags.render();
  return out;
}

int count_ops(const Function& fn, OpKind kind) {
  int n = 0;
  walk_ops(fn.body, [&](const Op* op) { n += op->kind == kind; });
  return n;
}

const char* kWalk =
    "def k(x_ptr, y_ptr, out_ptr, n, FLIP: tl.constexpr):\n"
    "    p = x_ptr + tl.arange(0, 16)\n"
    "    acc = tl.zeros([16], tl.float32)\n"
    "    for i in range(n):\n"
    "        acc += tl.load(p)\n"
    "        p += 16\n"
    "    q = tl.where(acc > 0, p, y_ptr + tl.arange(0, 16))\n"
    "    tl.store(out_ptr + tl.arange(0, 16).to(tl.int64), tl.load(q))\n"
    "    tl.atomic_add(y_ptr, 1.0)\n";

TEST(PointerArgs, FollowLoopsAndSelectsAndFindWrites) {
  Lowered l = lower(kWalk, "x_ptr:*fp32,y_ptr:*fp32,out_ptr:*fp32,n:i32", {"FLIP=0"});
  ASSERT_TRUE(l.fn);
  const Function& fn = *l.fn;
  PointerArgs sets = pointer_args(fn);
  // The select mixes the loop-carried x pointer with y: its loads may touch either.
  bool saw_mixed_load = false;
  walk_ops(fn.body, [&](const Op* op) {
    if (op->kind == OpKind::Load && sets[op->operands[0]] == std::set<int>{0, 1}) saw_mixed_load = true;
  });
  EXPECT_TRUE(saw_mixed_load);
  ArgAccess access = analyze_arg_access(fn);
  EXPECT_EQ(access.written, (std::vector<bool>{false, true, true, false}));
  // x and y are offset from directly by i32 aranges; out only by an i64 one; n is no pointer.
  EXPECT_NE(access.offset32[0].file, nullptr);
  EXPECT_NE(access.offset32[1].file, nullptr);
  EXPECT_EQ(access.offset32[2].file, nullptr);
  EXPECT_EQ(access.offset32[3].file, nullptr);
  EXPECT_EQ(access.offset32[0].line, 2);
}

TEST(InsertBoundsChecks, GuardsEveryAccessAndStaysVerifiable) {
  Lowered l = lower(kWalk, "x_ptr:*fp32,y_ptr:*fp32,out_ptr:*fp32,n:i32", {"FLIP=0"});
  ASSERT_TRUE(l.fn);
  Function& fn = *l.fn;
  int accesses = count_ops(fn, OpKind::Load) + count_ops(fn, OpKind::Store) + count_ops(fn, OpKind::AtomicRMW);
  insert_bounds_checks(fn);
  Diagnostics diags;
  ASSERT_TRUE(verify_ir(fn, diags)) << diags.render() << print_ir(fn);
  // One extent per pointer argument, after the runtime arguments.
  ASSERT_EQ(fn.args.size(), 7u);
  EXPECT_EQ(fn.arg_info[4].name, "x_ptr_extent");
  EXPECT_EQ(fn.arg_info[6].name, "out_ptr_extent");
  EXPECT_EQ(fn.args[5]->type, Type::scalar(DType::I64));
  EXPECT_EQ(count_ops(fn, OpKind::Assert), accesses);
  walk_ops(fn.body, [&](const Op* op) {
    if (op->kind == OpKind::Load || op->kind == OpKind::Store || op->kind == OpKind::AtomicRMW) {
      EXPECT_TRUE(op->has_mask) << print_ir(fn);
    }
  });
  std::string ir = print_ir(fn);
  EXPECT_NE(ir.find("out-of-bounds load from 'x_ptr' or 'y_ptr' in kernel 'k' at k.py:8:"), std::string::npos) << ir;
  EXPECT_NE(ir.find("out-of-bounds atomic update of 'y_ptr' in kernel 'k' at k.py:9:5"), std::string::npos) << ir;
}

TEST(InsertBoundsChecks, RunsCompareAndSwapOnlyWhenAllLanesAreInBounds) {
  Lowered l = lower("def k(l_ptr, o_ptr):\n"
                    "    offs = tl.arange(0, 8)\n"
                    "    tl.store(o_ptr + offs, tl.atomic_cas(l_ptr + offs, offs, offs + 1))\n",
                    "l_ptr:*i32,o_ptr:*i32");
  ASSERT_TRUE(l.fn);
  Function& fn = *l.fn;
  insert_bounds_checks(fn);
  Diagnostics diags;
  ASSERT_TRUE(verify_ir(fn, diags)) << diags.render() << print_ir(fn);
  ASSERT_EQ(count_ops(fn, OpKind::If), 1);
  int top_level_cas = 0;
  for (const Op* op : fn.body.ops) top_level_cas += op->kind == OpKind::AtomicCAS;
  EXPECT_EQ(top_level_cas, 0) << print_ir(fn);
  EXPECT_EQ(count_ops(fn, OpKind::AtomicCAS), 1);
}

class CacheHealing : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("tilec-heal-test-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(CacheHealing, LookupVerifiesSizesAndHashes) {
  KernelCache cache(root_.string());
  std::string key = "ab0123";
  std::string error;
  ASSERT_TRUE(cache.store(key, {{"kernel.so", std::string(100, 'x')}, {"kernel.cpp", "src"}}, {{"k", 1}}, &error)) << error;
  EXPECT_EQ(cache.find(key).status, CacheLookup::Status::Hit);
  fs::resize_file(cache.artifact_path(key, "kernel.so"), 50);
  CacheLookup r = cache.find(key);
  EXPECT_EQ(r.status, CacheLookup::Status::Damaged);
  EXPECT_EQ(r.problem, "kernel.so is 50 bytes, meta.json records 100");
  EXPECT_FALSE(cache.lookup(key).has_value());
  std::ofstream(cache.artifact_path(key, "kernel.so"), std::ios::trunc) << std::string(100, 'y');
  EXPECT_EQ(cache.find(key).problem, "kernel.so does not match the SHA-256 that meta.json records");
  fs::remove(cache.artifact_path(key, "kernel.cpp"));
  EXPECT_EQ(cache.find(key).problem, "kernel.cpp is missing");
  // A store replaces the damaged entry; remove() deletes a whole entry.
  ASSERT_TRUE(cache.store(key, {{"kernel.so", std::string(100, 'x')}, {"kernel.cpp", "src"}}, {{"k", 1}}, &error)) << error;
  EXPECT_EQ(cache.find(key).status, CacheLookup::Status::Hit);
  cache.remove(key);
  EXPECT_EQ(cache.find(key).status, CacheLookup::Status::Miss);
  EXPECT_FALSE(fs::exists(cache.entry_dir(key)));
  EXPECT_TRUE(fs::is_empty(fs::path(cache.entry_dir(key)).parent_path()));
}

TEST_F(CacheHealing, WritableSaysWhyNot) {
  fs::create_directories(root_);
  std::ofstream((root_ / "file").string()) << "x";
  std::string error;
  EXPECT_TRUE(KernelCache((root_ / "ok").string()).writable(&error)) << error;
  EXPECT_FALSE(KernelCache((root_ / "file" / "cache").string()).writable(&error));
  EXPECT_NE(error.find("Not a directory"), std::string::npos) << error;
}

}  // namespace
}  // namespace tilec
