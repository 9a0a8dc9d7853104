// Input: hand-built IR, small kernels and signatures. Output: checks of the type rules, the
// signature parser, sema's specialization, the verifier and each optimization pass.
#include <gtest/gtest.h>

#include "tilec/frontend.h"
#include "tilec/passes.h"

namespace tilec {
namespace {

TEST(Types, PromotionFollowsTriton) {
  EXPECT_EQ(promote(DType::F16, false, DType::F32, false), DType::F32);
  EXPECT_EQ(promote(DType::F16, false, DType::BF16, false), DType::F32);
  EXPECT_EQ(promote(DType::I32, false, DType::F16, false), DType::F16);
  EXPECT_EQ(promote(DType::I8, false, DType::I32, false), DType::I32);
  EXPECT_EQ(promote(DType::U32, false, DType::I32, false), DType::U32);
  EXPECT_EQ(promote(DType::U8, false, DType::I32, false), DType::I32);
  // Literals are weak: they take the other operand's type within its category.
  EXPECT_EQ(promote(DType::F16, false, DType::F32, true), DType::F16);
  EXPECT_EQ(promote(DType::I8, false, DType::I32, true), DType::I8);
  EXPECT_EQ(promote(DType::I32, false, DType::F32, true), DType::F32);
}

TEST(Types, BroadcastShapes) {
  EXPECT_EQ(broadcast_shapes({16, 1}, {1, 32}), (std::vector<int64_t>{16, 32}));
  EXPECT_EQ(broadcast_shapes({}, {8}), (std::vector<int64_t>{8}));
  EXPECT_EQ(broadcast_shapes({4, 8}, {8}), (std::vector<int64_t>{4, 8}));
  EXPECT_FALSE(broadcast_shapes({16}, {32}).has_value());
  EXPECT_EQ(Type::tile(DType::F32, {128, 64}, true).str(), "tile<128x64xptr<fp32>>");
}

TEST(Signature, ParsesTypesSpecializationsAndConstexprs) {
  std::string error;
  auto sig = parse_signature("x:*fp16:16, n:i64, s:fp32", {"BLOCK=128", "DT=tl.float16", "FLAG=True"}, &error);
  ASSERT_TRUE(sig) << error;
  ASSERT_EQ(sig->args.size(), 6u);
  EXPECT_EQ(sig->args[0].kind, ArgKind::Pointer);
  EXPECT_EQ(sig->args[0].divisibility, 16);
  EXPECT_EQ(sig->args[1].dtype, DType::I64);
  EXPECT_EQ(sig->find("BLOCK")->value.i, 128);
  EXPECT_EQ(sig->find("DT")->value.dtype, DType::F16);
  EXPECT_EQ(signature_str(*sig), "x:*fp16:16,n:i64,s:fp32,BLOCK=128,DT=tl.float16,FLAG=True");
  EXPECT_FALSE(parse_signature("x:*fp33", {}, &error));
  EXPECT_NE(error.find("unknown type '*fp33'"), std::string::npos);
  EXPECT_FALSE(parse_signature("x:i32,x:i32", {}, &error));
  EXPECT_FALSE(parse_signature("", {"BLOCK"}, &error));
}

TEST(Signature, ParsesTensorDescriptorsInTritonsSpelling) {
  std::string error;
  // The block shape's commas do not split the list; the printed form reads back the same.
  auto sig = parse_signature("a:tensordesc<fp16[64, 128]>:16,b:tensordesc<fp32[8,16,32],nan>,n:i32", {}, &error);
  ASSERT_TRUE(sig) << error;
  ASSERT_EQ(sig->args.size(), 3u);
  EXPECT_EQ(sig->args[0].kind, ArgKind::Descriptor);
  EXPECT_EQ(sig->args[0].dtype, DType::F16);
  EXPECT_EQ(sig->args[0].block, (std::vector<int64_t>{64, 128}));
  EXPECT_EQ(sig->args[0].divisibility, 16);
  EXPECT_FALSE(sig->args[0].nan_padding);
  EXPECT_TRUE(sig->args[1].nan_padding);
  EXPECT_EQ(sig->args[2].kind, ArgKind::Scalar);
  std::string text = signature_str(*sig);
  EXPECT_EQ(text, "a:tensordesc<fp16[64,128]>:16,b:tensordesc<fp32[8,16,32],nan>,n:i32");
  auto again = parse_signature(text, {}, &error);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(signature_str(*again), text);
  EXPECT_FALSE(parse_signature("a:tensordesc<fp16[64,48]>", {}, &error));
  EXPECT_NE(error.find("block dim '48' that is not a power of two"), std::string::npos);
  EXPECT_FALSE(parse_signature("a:tensordesc<fp16[64,64]", {}, &error));
  EXPECT_NE(error.find("is malformed"), std::string::npos);
}

std::unique_ptr<Function> lower(const std::string& text, const std::string& sig_text,
                                const std::vector<std::string>& constexprs, bool optimized, std::string* diags_out) {
  std::string error;
  auto sig = parse_signature(sig_text, constexprs, &error);
  EXPECT_TRUE(sig) << error;
  KernelSource src{std::make_shared<SourceFile>("k.py", text), "k", *sig};
  Diagnostics diags;
  auto fn = lower_to_ir(src, optimized, diags);
  *diags_out = diags.render();
  return fn;
}

int count_ops(const Function& fn, OpKind kind) {
  int n = 0;
  walk_ops(fn.body, [&](const Op* op) { n += op->kind == kind; });
  return n;
}

TEST(Sema, ConstexprIfKeepsOnlyTheTakenBranch) {
  const char* text =
      "@tilec.jit\n"
      "def k(x_ptr, FAST: tl.constexpr):\n"
      "    if FAST:\n"
      "        tl.store(x_ptr, 1.0)\n"
      "    else:\n"
      "        tl.store(x_ptr, 2.0)\n";
  std::string diags;
  auto fn = lower(text, "x_ptr:*fp32", {"FAST=False"}, false, &diags);
  ASSERT_TRUE(fn) << diags;
  EXPECT_EQ(count_ops(*fn, OpKind::If), 0);
  EXPECT_EQ(count_ops(*fn, OpKind::Store), 1);
  EXPECT_NE(print_ir(*fn).find("constant 2.0"), std::string::npos);
}

TEST(Sema, StaticRangeUnrollsAndHelpersInline) {
  const char* text =
      "@tilec.jit\n"
      "def twice(v):\n"
      "    return v * 2\n"
      "\n"
      "@tilec.jit\n"
      "def k(x_ptr):\n"
      "    acc = 0.0\n"
      "    for i in tl.static_range(3):\n"
      "        acc = acc + twice(tl.load(x_ptr + i))\n"
      "    tl.store(x_ptr, acc)\n";
  std::string diags;
  auto fn = lower(text, "x_ptr:*fp32", {}, false, &diags);
  ASSERT_TRUE(fn) << diags;
  EXPECT_EQ(count_ops(*fn, OpKind::For), 0);
  EXPECT_EQ(count_ops(*fn, OpKind::Load), 3);
}

TEST(Sema, ConstexprArithmeticFoldsWithPythonSemantics) {
  const char* text =
      "@tilec.jit\n"
      "def k(x_ptr, N: tl.constexpr):\n"
      "    tl.static_assert(N // 4 == -2)\n"
      "    tl.static_assert(N % 4 == 1)\n"
      "    tl.store(x_ptr, N)\n";
  std::string diags;
  EXPECT_TRUE(lower(text, "x_ptr:*i32", {"N=-7"}, false, &diags)) << diags;
}

TEST(Passes, FoldCseDceAndBroadcastCanonicalization) {
  Function fn;
  fn.name = "k";
  Value* p = fn.new_value(Type::pointer(DType::I8), "p");
  fn.args.push_back(p);
  fn.arg_info.push_back(ArgInfo{"p", 1});
  Builder b(fn, &fn.body);
  Loc loc;
  Op* c100 = b.create(OpKind::Constant, loc, {}, {Type::scalar(DType::I8)});
  c100->ival = 100;
  Op* sum = b.create(OpKind::Binary, loc, {c100->result(), c100->result()}, {Type::scalar(DType::I8)});
  sum->binary = BinaryKind::Add;  // 200 wraps to -56 in i8
  Op* pid1 = b.create(OpKind::ProgramId, loc, {}, {Type::scalar(DType::I32)});
  Op* pid2 = b.create(OpKind::ProgramId, loc, {}, {Type::scalar(DType::I32)});
  Op* unused = b.create(OpKind::Binary, loc, {pid1->result(), pid2->result()}, {Type::scalar(DType::I32)});
  unused->binary = BinaryKind::Mul;
  Op* splat = b.create(OpKind::Splat, loc, {sum->result()}, {Type::tile(DType::I8, {1, 4})});
  Op* bcast = b.create(OpKind::Broadcast, loc, {splat->result()}, {Type::tile(DType::I8, {8, 4})});
  Op* ptrs = b.create(OpKind::Splat, loc, {p}, {Type::tile(DType::I8, {8, 4}, true)});
  b.create(OpKind::Store, loc, {ptrs->result(), bcast->result()}, {});
  Diagnostics diags;
  ASSERT_TRUE(verify_ir(fn, diags)) << diags.render();

  canonicalize_broadcasts(fn);
  EXPECT_EQ(bcast->kind, OpKind::Splat);  // broadcast of a splat is one splat
  fold_constants(fn);
  EXPECT_EQ(sum->kind, OpKind::Constant);
  EXPECT_EQ(sum->ival, -56);
  EXPECT_EQ(bcast->kind, OpKind::Constant);  // a splat of a constant is a constant tile
  eliminate_common_subexpressions(fn);
  EXPECT_EQ(unused->operands[0], unused->operands[1]);  // the two program_ids merged
  eliminate_dead_code(fn);
  EXPECT_EQ(count_ops(fn, OpKind::ProgramId), 0);
  EXPECT_EQ(count_ops(fn, OpKind::Binary), 0);
  EXPECT_EQ(count_ops(fn, OpKind::Store), 1);
  EXPECT_TRUE(verify_ir(fn, diags)) << diags.render();
}

TEST(Verifier, ReportsTypeMismatchAndUseBeforeDefinition) {
  Function fn;
  fn.name = "k";
  Builder b(fn, &fn.body);
  Loc loc;
  Op* a = b.create(OpKind::Constant, loc, {}, {Type::scalar(DType::I32)});
  Op* f = b.create(OpKind::Constant, loc, {}, {Type::scalar(DType::F32)});
  b.create(OpKind::Binary, loc, {a->result(), f->result()}, {Type::scalar(DType::I32)});
  Diagnostics diags;
  EXPECT_FALSE(verify_ir(fn, diags));
  EXPECT_NE(diags.render().find("operand types differ: i32 vs fp32"), std::string::npos);

  Function fn2;
  Builder b2(fn2, &fn2.body);
  Value* stray = fn2.new_value(Type::scalar(DType::I32));
  b2.create(OpKind::Unary, loc, {stray}, {Type::scalar(DType::I32)});
  Diagnostics diags2;
  EXPECT_FALSE(verify_ir(fn2, diags2));
  EXPECT_NE(diags2.render().find("uses a value that is not defined before it"), std::string::npos);
}

}  // namespace
}  // namespace tilec
