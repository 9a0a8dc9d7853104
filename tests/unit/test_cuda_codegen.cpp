// Input: the sample kernels and hand-built IR covering every op kind. Output: GoogleTest checks that
// the CUDA backend's source compiles with nvcc for sm_80 and sm_90 and carries #line and the entry.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tilec/codegen/cuda.h"
#include "tilec/frontend.h"

namespace tilec {
namespace {

const char* kNvcc = "/usr/local/cuda/bin/nvcc";

bool have_nvcc() { return std::ifstream(kNvcc).good(); }

// Compiles `src` to a cubin (sm_XYa when `arch_specific`), with the device header beside it;
// returns nvcc's output, empty on success.
std::string nvcc_errors(const std::string& src, int arch, const std::string& tag, bool arch_specific = false) {
  std::string dir = ::testing::TempDir() + "tilec_cuda_" + tag + "_sm" + std::to_string(arch);
  std::filesystem::create_directories(dir);
  std::string base = dir + "/kernel";
  std::ofstream(base + ".cu") << src;
  std::ofstream(dir + "/tilec_cuda.h") << cuda_runtime_header();
  std::string cmd = std::string(kNvcc) + " -cubin -arch=sm_" + std::to_string(arch) + (arch_specific ? "a" : "") + " -o " + base +
                    ".cubin " + base + ".cu 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "cannot run nvcc";
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int rc = pclose(p);
  if (rc != 0 && out.empty()) out = "nvcc failed";
  return rc == 0 ? std::string() : out;
}

void expect_compiles(const Function& fn, const std::string& tag, int num_warps = 4) {
  for (int arch : {80, 90}) {
    Diagnostics diags;
    CudaOptions opt;
    opt.arch = arch;
    opt.num_warps = num_warps;
    std::optional<CudaKernel> k = generate_cuda(fn, opt, diags);
    ASSERT_TRUE(k) << diags.render();
    EXPECT_EQ(k->entry, fn.name);
    EXPECT_EQ(k->threads, 32 * num_warps);
    EXPECT_NE(k->source.find("extern \"C\" __global__ void __launch_bounds__(" + std::to_string(32 * num_warps) + ") " + fn.name + "("),
              std::string::npos);
    if (!have_nvcc()) GTEST_SKIP() << "nvcc not found";
    std::string err = nvcc_errors(k->source, arch, tag, k->arch_specific);
    EXPECT_TRUE(err.empty()) << err << "\n--- source ---\n" << k->source;
  }
}

// ---- samples through the front end ------------------------------------------------------------

std::unique_ptr<Function> lower_sample(const std::string& file, const std::string& kernel, const std::string& sig,
                                       const std::vector<std::string>& constexprs, std::shared_ptr<SourceFile>* keep) {
  std::string path = std::string(TILEC_SOURCE_DIR) + "/samples/" + file;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  *keep = std::make_shared<SourceFile>(path, text.str());
  std::string error;
  std::optional<Signature> s = parse_signature(sig, constexprs, &error);
  EXPECT_TRUE(s) << error;
  if (!s) return nullptr;
  KernelSource src{*keep, kernel, *s};
  Diagnostics diags;
  std::unique_ptr<Function> fn = lower_to_ir(src, true, diags);
  // The front end is tested elsewhere; a sample it cannot lower yet says nothing about this backend.
  if (!fn) std::printf("front end rejected %s:\n%s", file.c_str(), diags.render().c_str());
  return fn;
}

struct SampleCase {
  const char* file;
  const char* kernel;
  const char* sig;
  std::vector<std::string> constexprs;
};

class CudaSampleTest : public ::testing::TestWithParam<SampleCase> {};

TEST_P(CudaSampleTest, CompilesForSm80AndSm90) {
  const SampleCase& c = GetParam();
  std::shared_ptr<SourceFile> file;
  std::unique_ptr<Function> fn = lower_sample(c.file, c.kernel, c.sig, c.constexprs, &file);
  if (!fn) GTEST_SKIP() << "the front end does not lower " << c.file << " yet";
  Diagnostics diags;
  std::optional<CudaKernel> k = generate_cuda(*fn, CudaOptions{}, diags);
  ASSERT_TRUE(k) << diags.render();
  EXPECT_NE(k->source.find("#line "), std::string::npos);
  EXPECT_NE(k->source.find("samples/" + std::string(c.file) + "\""), std::string::npos);
  expect_compiles(*fn, c.kernel);
}

INSTANTIATE_TEST_SUITE_P(
    Samples, CudaSampleTest,
    ::testing::Values(
        SampleCase{"vector_add.py", "add_kernel", "x_ptr:*fp32:16,y_ptr:*fp32:16,output_ptr:*fp32:16,n_elements:i32:16", {"BLOCK_SIZE=1024"}},
        SampleCase{"vector_add.py", "add_kernel", "x_ptr:*fp16,y_ptr:*fp16,output_ptr:*fp16,n_elements:i32", {"BLOCK_SIZE=64"}},
        SampleCase{"softmax.py", "softmax_kernel",
                   "output_ptr:*fp32:16,input_ptr:*fp32:16,input_row_stride:i32:16,output_row_stride:i32:16,n_rows:i32,n_cols:i32",
                   {"BLOCK_SIZE=1024"}},
        SampleCase{"layernorm.py", "_layer_norm_fwd_fused",
                   "X:*fp32:16,Y:*fp32:16,W:*fp32:16,B:*fp32:16,Mean:*fp32:16,Rstd:*fp32:16,stride:i32:16,N:i32:16,eps:fp32",
                   {"BLOCK_SIZE=512"}},
        SampleCase{"matmul.py", "matmul_kernel",
                   "a_ptr:*fp16:16,b_ptr:*fp16:16,c_ptr:*fp16:16,M:i32:16,N:i32:16,K:i32:16,stride_am:i32:16,stride_ak:i32,"
                   "stride_bk:i32:16,stride_bn:i32,stride_cm:i32:16,stride_cn:i32",
                   {"BLOCK_SIZE_M=64", "BLOCK_SIZE_N=64", "BLOCK_SIZE_K=32", "GROUP_SIZE_M=8"}},
        SampleCase{"matmul.py", "matmul_kernel",
                   "a_ptr:*fp32:16,b_ptr:*fp32:16,c_ptr:*fp32:16,M:i32,N:i32,K:i32,stride_am:i32,stride_ak:i32,"
                   "stride_bk:i32,stride_bn:i32,stride_cm:i32,stride_cn:i32",
                   {"BLOCK_SIZE_M=32", "BLOCK_SIZE_N=32", "BLOCK_SIZE_K=16", "GROUP_SIZE_M=4"}},
        SampleCase{"histogram.py", "histogram_kernel", "keys_ptr:*i32:16,hist_ptr:*i32:16,n:i32,num_bins:i32", {"BLOCK=256"}}),
    [](const ::testing::TestParamInfo<SampleCase>& info) { return std::string(info.param.kernel) + "_" + std::to_string(info.index); });

TEST(CudaCodegen, VectorAddIsVectorized) {
  std::shared_ptr<SourceFile> file;
  std::unique_ptr<Function> fn = lower_sample("vector_add.py", "add_kernel", "x_ptr:*fp32:16,y_ptr:*fp32:16,output_ptr:*fp32:16,n_elements:i32:16",
                                              {"BLOCK_SIZE=1024"}, &file);
  ASSERT_TRUE(fn);
  Diagnostics diags;
  std::optional<CudaKernel> k = generate_cuda(*fn, CudaOptions{}, diags);
  ASSERT_TRUE(k) << diags.render();
  EXPECT_NE(k->source.find("16-byte vector loads"), std::string::npos) << k->source;
  EXPECT_NE(k->source.find("16-byte vector stores"), std::string::npos) << k->source;
  EXPECT_EQ(k->shared_bytes, 0);
}

TEST(CudaCodegen, UnalignedVectorAddIsNot) {
  std::shared_ptr<SourceFile> file;
  std::unique_ptr<Function> fn = lower_sample("vector_add.py", "add_kernel", "x_ptr:*fp32,y_ptr:*fp32,output_ptr:*fp32,n_elements:i32",
                                              {"BLOCK_SIZE=1024"}, &file);
  ASSERT_TRUE(fn);
  Diagnostics diags;
  std::optional<CudaKernel> k = generate_cuda(*fn, CudaOptions{}, diags);
  ASSERT_TRUE(k) << diags.render();
  EXPECT_EQ(k->source.find("vector loads"), std::string::npos);
}

// ---- hand-built IR ----------------------------------------------------------------------------

struct Kit {
  Function fn;
  Builder b{fn, &fn.body};
  SourceFile file{"hand.py", "line one\nline two\n"};
  Loc loc{&file, 2, 1};

  Value* arg(Type t, const std::string& name, int div = 1) {
    Value* v = fn.new_value(t, name);
    fn.args.push_back(v);
    fn.arg_info.push_back(ArgInfo{name, div});
    return v;
  }
  Value* op1(OpKind k, std::vector<Value*> ops, Type t, const std::function<void(Op*)>& set = nullptr) {
    Op* o = b.create(k, loc, std::move(ops), {t});
    if (set) set(o);
    return o->result();
  }
  Value* cint(Type t, int64_t v) { return op1(OpKind::Constant, {}, t, [&](Op* o) { o->ival = v; }); }
  Value* cfloat(Type t, double v) { return op1(OpKind::Constant, {}, t, [&](Op* o) { o->fval = v; }); }
  Value* arange(int64_t n) { return op1(OpKind::Arange, {}, Type::tile(DType::I32, {n}), [&](Op* o) { o->ints = {0, n}; }); }
  Value* splat(Value* s, std::vector<int64_t> shape) { return op1(OpKind::Splat, {s}, s->type.with_shape(shape)); }
  Value* bin(BinaryKind k, Value* a, Value* c) { return op1(OpKind::Binary, {a, c}, a->type, [&](Op* o) { o->binary = k; }); }
  Value* cmp(CmpKind k, Value* a, Value* c) { return op1(OpKind::Compare, {a, c}, a->type.with_dtype(DType::I1), [&](Op* o) { o->cmp = k; }); }
  Value* cast(Value* a, DType t) { return op1(OpKind::Cast, {a}, a->type.with_dtype(t)); }
  Value* addptr(Value* p, Value* off) { return op1(OpKind::AddPtr, {p, off}, p->type); }
  Value* ptrs(Value* base, Value* offs) { return addptr(splat(base, offs->type.shape), offs); }
  Value* load(Value* p, Value* mask = nullptr, Value* other = nullptr) {
    std::vector<Value*> ops = {p};
    if (mask) ops.push_back(mask);
    if (other) ops.push_back(other);
    return op1(OpKind::Load, ops, Type{p->type.dtype, false, p->type.shape}, [&](Op* o) {
      o->has_mask = mask != nullptr;
      o->has_other = other != nullptr;
    });
  }
  void store(Value* p, Value* v, Value* mask = nullptr) {
    std::vector<Value*> ops = {p, v};
    if (mask) ops.push_back(mask);
    Op* o = b.create(OpKind::Store, loc, ops, {});
    o->has_mask = mask != nullptr;
  }
  Value* reshape(Value* v, std::vector<int64_t> s) { return op1(OpKind::Reshape, {v}, v->type.with_shape(s)); }
  Value* expand(Value* v, int axis) {
    std::vector<int64_t> s = v->type.shape;
    s.insert(s.begin() + axis, 1);
    return op1(OpKind::ExpandDims, {v}, v->type.with_shape(s), [&](Op* o) { o->axis = axis; });
  }
  Value* broadcast(Value* v, std::vector<int64_t> s) { return op1(OpKind::Broadcast, {v}, v->type.with_shape(s)); }
  // 2-D offsets r * cols + c of an [rows, cols] tile.
  Value* offs2d(int64_t rows, int64_t cols) {
    Value* r = broadcast(expand(arange(rows), 1), {rows, cols});
    Value* c = broadcast(expand(arange(cols), 0), {rows, cols});
    return bin(BinaryKind::Add, bin(BinaryKind::Mul, r, splat(cint(Type::scalar(DType::I32), cols), {rows, cols})), c);
  }
  bool verify() {
    Diagnostics d;
    bool ok = verify_ir(fn, d);
    EXPECT_TRUE(ok) << d.render();
    return ok;
  }
};

TEST(CudaCodegen, ElementwiseZoo) {
  Kit k;
  k.fn.name = "zoo";
  const int64_t n = 256;
  Value* xf = k.arg(Type::pointer(DType::F32), "xf", 16);
  Value* xi = k.arg(Type::pointer(DType::I32), "xi", 16);
  Value* xh = k.arg(Type::pointer(DType::F16), "xh", 16);
  Value* out = k.arg(Type::pointer(DType::F32), "out", 16);
  Value* cnt = k.arg(Type::scalar(DType::I32), "n", 16);
  Value* pid = k.op1(OpKind::ProgramId, {}, Type::scalar(DType::I32), [](Op* o) { o->axis = 1; });
  Value* np = k.op1(OpKind::NumPrograms, {}, Type::scalar(DType::I32), [](Op* o) { o->axis = 2; });
  Value* offs = k.bin(BinaryKind::Add, k.arange(n), k.splat(k.bin(BinaryKind::Mul, pid, np), {n}));
  Value* mask = k.cmp(CmpKind::Lt, offs, k.splat(cnt, {n}));
  Value* f = k.load(k.ptrs(xf, offs), mask, k.cfloat(Type::tile(DType::F32, {n}), -INFINITY));
  Value* i = k.load(k.ptrs(xi, offs), mask);
  Value* h = k.load(k.ptrs(xh, offs));
  for (BinaryKind bk : {BinaryKind::Add, BinaryKind::Sub, BinaryKind::Mul, BinaryKind::Div, BinaryKind::Rem, BinaryKind::Max, BinaryKind::Min})
    f = k.bin(bk, f, k.cast(i, DType::F32));
  for (BinaryKind bk : {BinaryKind::Add, BinaryKind::Sub, BinaryKind::Mul, BinaryKind::Div, BinaryKind::Rem, BinaryKind::Shl,
                        BinaryKind::Shr, BinaryKind::And, BinaryKind::Or, BinaryKind::Xor, BinaryKind::Max, BinaryKind::Min})
    i = k.bin(bk, i, k.cint(Type::tile(DType::I32, {n}), 3));
  for (UnaryKind uk : {UnaryKind::Neg, UnaryKind::Exp, UnaryKind::Exp2, UnaryKind::Log, UnaryKind::Log2, UnaryKind::Sqrt, UnaryKind::Rsqrt,
                       UnaryKind::Abs, UnaryKind::Sin, UnaryKind::Cos, UnaryKind::Erf, UnaryKind::Floor, UnaryKind::Ceil}) {
    f = k.op1(OpKind::Unary, {f}, f->type, [&](Op* o) { o->unary = uk; });
    h = k.op1(OpKind::Unary, {h}, h->type, [&](Op* o) { o->unary = uk; });
  }
  i = k.op1(OpKind::Unary, {i}, i->type, [](Op* o) { o->unary = UnaryKind::Not; });
  i = k.op1(OpKind::Unary, {i}, i->type, [](Op* o) { o->unary = UnaryKind::Abs; });
  Value* nm = k.op1(OpKind::Unary, {mask}, mask->type, [](Op* o) { o->unary = UnaryKind::Not; });
  Value* both = k.bin(BinaryKind::And, nm, k.cmp(CmpKind::Ge, i, k.cint(i->type, 0)));
  Value* hb = k.cast(k.cast(h, DType::BF16), DType::F64);
  Value* wide = k.cast(k.cast(i, DType::I64), DType::U8);
  Value* sum = k.op1(OpKind::Fma, {f, k.cast(hb, DType::F32), k.cast(wide, DType::F32)}, f->type);
  Value* hf = k.op1(OpKind::Fma, {h, h, h}, h->type);
  sum = k.op1(OpKind::Select, {both, sum, k.cast(hf, DType::F32)}, sum->type);
  sum = k.op1(OpKind::Hint, {sum}, sum->type, [](Op* o) { o->hint = HintKind::MultipleOf; o->ints = {16}; });
  Value* p = k.op1(OpKind::Hint, {k.ptrs(out, offs)}, Type::tile(DType::F32, {n}, true), [](Op* o) { o->hint = HintKind::MaxContiguous; o->ints = {n}; });
  k.store(p, sum, mask);
  k.op1(OpKind::Constant, {}, Type::scalar(DType::F64), [](Op* o) { o->fval = NAN; });
  k.b.create(OpKind::Assert, k.loc, {k.cmp(CmpKind::Ne, cnt, k.cint(Type::scalar(DType::I32), -1))}, {})->str = "n % 2 \"quoted\"";
  k.b.create(OpKind::Assert, k.loc, {mask}, {})->str = "tile assert";
  ASSERT_TRUE(k.verify());
  expect_compiles(k.fn, "zoo");
}

TEST(CudaCodegen, ShapesReductionsAndScans) {
  for (int warps : {1, 4, 8}) {
    Kit k;
    k.fn.name = "shapes";
    const int64_t r = 16, c = 64;
    Value* x = k.arg(Type::pointer(DType::F32), "x", 16);
    Value* y = k.arg(Type::pointer(DType::I32), "y", 16);
    Value* o2 = k.offs2d(r, c);
    Value* t = k.load(k.ptrs(x, o2));
    Value* tt = k.op1(OpKind::Permute, {t}, Type::tile(DType::F32, {c, r}), [](Op* o) { o->ints = {1, 0}; });
    Value* back = k.reshape(tt, {r, c});
    k.store(k.ptrs(x, o2), back);
    for (ReduceKind rk : {ReduceKind::Sum, ReduceKind::Max, ReduceKind::Min, ReduceKind::ArgMax, ReduceKind::ArgMin}) {
      bool arg = rk == ReduceKind::ArgMax || rk == ReduceKind::ArgMin;
      for (int axis : {0, 1}) {
        Value* red = k.op1(OpKind::Reduce, {t}, Type::tile(arg ? DType::I32 : DType::F32, {axis == 0 ? c : r}), [&](Op* o) {
          o->reduce = rk;
          o->axis = axis;
        });
        Value* flat = k.reshape(t, {r * c});
        Value* all = k.op1(OpKind::Reduce, {flat}, Type::scalar(arg ? DType::I32 : DType::F32), [&](Op* o) { o->reduce = rk; });
        Value* v = arg ? red : k.cast(red, DType::I32);
        Value* a = arg ? all : k.cast(all, DType::I32);
        v = k.bin(BinaryKind::Add, v, k.splat(a, v->type.shape));
        k.store(k.ptrs(y, k.arange(v->type.shape[0])), v);
      }
    }
    Value* small = k.arange(8);
    Value* sum8 = k.op1(OpKind::Reduce, {small}, Type::scalar(DType::I32), [](Op* o) { o->reduce = ReduceKind::Sum; });
    Value* one = k.reshape(k.expand(k.splat(sum8, {1}), 0), {1, 1});
    Value* bc = k.broadcast(one, {4, 8});
    k.store(k.ptrs(y, k.reshape(k.bin(BinaryKind::Add, bc, k.reshape(k.arange(32), {4, 8})), {32})), k.reshape(bc, {32}));
    Value* cs = k.op1(OpKind::Scan, {t}, t->type, [](Op* o) { o->axis = 1; });
    Value* cs0 = k.op1(OpKind::Scan, {k.cast(t, DType::F16)}, Type::tile(DType::F16, {r, c}), [](Op* o) { o->axis = 0; });
    k.store(k.ptrs(x, o2), k.bin(BinaryKind::Add, cs, k.cast(cs0, DType::F32)));
    Value* s1 = k.reshape(k.splat(sum8, {1}), {});
    k.store(y, s1);
    ASSERT_TRUE(k.verify());
    expect_compiles(k.fn, "shapes" + std::to_string(warps), warps);
  }
}

TEST(CudaCodegen, DotVariants) {
  struct D { DType in, acc; DotPrecision p; int64_t m, n, kd; const char* expect; };
  for (const D& d : {D{DType::F16, DType::F32, DotPrecision::IEEE, 64, 64, 32, "m16n8k16.row.col.f32.f16.f16.f32"},
                     D{DType::BF16, DType::F32, DotPrecision::IEEE, 32, 128, 64, "m16n8k16.row.col.f32.bf16.bf16.f32"},
                     D{DType::F32, DType::F32, DotPrecision::TF32, 128, 64, 16, "m16n8k8.row.col.f32.tf32.tf32.f32"},
                     D{DType::F32, DType::F32, DotPrecision::IEEE, 32, 32, 32, "for (int k = 0;"},
                     D{DType::F16, DType::F32, DotPrecision::IEEE, 8, 8, 8, "for (int k = 0;"},
                     D{DType::I8, DType::I32, DotPrecision::IEEE, 32, 32, 32, "for (int k = 0;"},
                     D{DType::F64, DType::F64, DotPrecision::IEEE, 16, 16, 16, "for (int k = 0;"},
                     D{DType::F16, DType::F16, DotPrecision::IEEE, 16, 16, 16, "for (int k = 0;"}}) {
    Kit k;
    k.fn.name = "dot";
    Value* a = k.arg(Type::pointer(d.in), "a", 16);
    Value* b = k.arg(Type::pointer(d.in), "b", 16);
    Value* c = k.arg(Type::pointer(d.acc), "c", 16);
    Value* kk = k.arg(Type::scalar(DType::I32), "K", 16);
    Value* oa = k.offs2d(d.m, d.kd);
    Value* ob = k.offs2d(d.kd, d.n);
    Value* oc = k.offs2d(d.m, d.n);
    Value* acc0 = k.cint(Type::tile(d.acc, {d.m, d.n}), 0);
    Value* zero = k.cint(Type::scalar(DType::I32), 0);
    Value* step = k.cint(Type::scalar(DType::I32), d.kd);
    Op* loop = k.b.create(OpKind::For, k.loc, {zero, kk, step, acc0}, {acc0->type});
    loop->regions.resize(1);
    Region& body = loop->regions[0];
    body.args = {k.fn.new_value(Type::scalar(DType::I32), "k"), k.fn.new_value(acc0->type, "acc")};
    k.b.set_region(&body);
    Value* ta = k.load(k.ptrs(a, k.bin(BinaryKind::Add, oa, k.splat(body.args[0], oa->type.shape))));
    Value* tb = k.load(k.ptrs(b, ob));
    Value* dot = k.op1(OpKind::Dot, {ta, tb, body.args[1]}, acc0->type, [&](Op* o) { o->precision = d.p; });
    k.b.create(OpKind::Yield, k.loc, {dot}, {});
    k.b.set_region(&k.fn.body);
    k.store(k.ptrs(c, oc), loop->result());
    ASSERT_TRUE(k.verify());
    Diagnostics diags;
    std::optional<CudaKernel> out = generate_cuda(k.fn, CudaOptions{}, diags);
    ASSERT_TRUE(out) << diags.render();
    EXPECT_NE(out->source.find(d.expect), std::string::npos) << dtype_name(d.in);
    EXPECT_GT(out->shared_bytes, 0);
    expect_compiles(k.fn, std::string("dot_") + dtype_name(d.in) + "_" + std::to_string(d.m));
  }
}

// `acc = tl.dot(a, b, acc)` and `acc += tl.dot(a, b)` keep the accumulator in mma fragment
// registers across the loop; an accumulator with another use keeps the shared-memory path.
TEST(CudaCodegen, DotAccumulatorInRegisters) {
  enum Form { kInPlace, kAddZeroDot, kLoadedInit, kExtraUse };
  for (Form form : {kInPlace, kAddZeroDot, kLoadedInit, kExtraUse}) {
    const int64_t m = 64, n = 64, kd = 32;
    Kit k;
    k.fn.name = "dotacc";
    Value* a = k.arg(Type::pointer(DType::F16), "a", 16);
    Value* b = k.arg(Type::pointer(DType::F16), "b", 16);
    Value* c = k.arg(Type::pointer(DType::F32), "c", 16);
    Value* kk = k.arg(Type::scalar(DType::I32), "K", 16);
    Value* oa = k.offs2d(m, kd);
    Value* ob = k.offs2d(kd, n);
    Value* oc = k.offs2d(m, n);
    Type acc_t = Type::tile(DType::F32, {m, n});
    Value* acc0 = form == kLoadedInit ? k.load(k.ptrs(c, oc)) : k.cint(acc_t, 0);
    Value* zero = k.cint(Type::scalar(DType::I32), 0);
    Value* step = k.cint(Type::scalar(DType::I32), kd);
    Op* loop = k.b.create(OpKind::For, k.loc, {zero, kk, step, acc0}, {acc_t});
    loop->regions.resize(1);
    Region& body = loop->regions[0];
    body.args = {k.fn.new_value(Type::scalar(DType::I32), "k"), k.fn.new_value(acc_t, "acc")};
    k.b.set_region(&body);
    Value* ta = k.load(k.ptrs(a, k.bin(BinaryKind::Add, oa, k.splat(body.args[0], oa->type.shape))));
    Value* tb = k.load(k.ptrs(b, ob));
    Value* next = nullptr;
    if (form == kAddZeroDot) {
      Value* d = k.op1(OpKind::Dot, {ta, tb, k.cint(acc_t, 0)}, acc_t);
      next = k.bin(BinaryKind::Add, body.args[1], d);
    } else {
      next = k.op1(OpKind::Dot, {ta, tb, body.args[1]}, acc_t);
    }
    if (form == kExtraUse) k.store(k.ptrs(c, oc), body.args[1]);
    k.b.create(OpKind::Yield, k.loc, {next}, {});
    k.b.set_region(&k.fn.body);
    k.store(k.ptrs(c, oc), loop->result());
    ASSERT_TRUE(k.verify());
    Diagnostics diags;
    std::optional<CudaKernel> out = generate_cuda(k.fn, CudaOptions{}, diags);
    ASSERT_TRUE(out) << diags.render();
    // With another use the accumulator is not updated in place, but the dot still runs on mma
    // registers (its accumulator operand converted into them each iteration).
    bool in_place = form != kExtraUse;
    EXPECT_EQ(out->source.find("_frag[") != std::string::npos, in_place) << form;
    EXPECT_NE(out->source.find("tc_ldsm_x4_trans("), std::string::npos) << form;
    EXPECT_NE(out->source.find("m16n8k16.row.col.f32.f16.f16.f32"), std::string::npos) << form;
    expect_compiles(k.fn, "dotacc" + std::to_string(form));
    expect_compiles(k.fn, "dotacc8w" + std::to_string(form), 8);
  }
}

TEST(CudaCodegen, AtomicsAndControlFlow) {
  Kit k;
  k.fn.name = "atomics";
  const int64_t n = 64;
  Value* pi = k.arg(Type::pointer(DType::I32), "pi");
  Value* pf = k.arg(Type::pointer(DType::F32), "pf");
  Value* pd = k.arg(Type::pointer(DType::F64), "pd");
  Value* ph = k.arg(Type::pointer(DType::F16), "ph");
  Value* pl = k.arg(Type::pointer(DType::I64), "pl");
  Value* flag = k.arg(Type::scalar(DType::I1), "flag");
  Value* offs = k.arange(n);
  Value* mask = k.cmp(CmpKind::Lt, offs, k.cint(offs->type, 10));
  for (AtomicKind ak : {AtomicKind::Add, AtomicKind::Max, AtomicKind::Min, AtomicKind::Xchg})
    for (auto [p, t] : {std::pair{pi, DType::I32}, {pf, DType::F32}, {pd, DType::F64}, {pl, DType::I64}}) {
      Value* ptrs = k.ptrs(p, offs);
      k.op1(OpKind::AtomicRMW, {ptrs, k.cint(Type::tile(t, {n}), 1), mask}, Type::tile(t, {n}), [&](Op* o) {
        o->atomic = ak;
        o->has_mask = true;
      });
    }
  k.op1(OpKind::AtomicRMW, {k.ptrs(ph, offs), k.cfloat(Type::tile(DType::F16, {n}), 1.5)}, Type::tile(DType::F16, {n}), [](Op* o) { o->atomic = AtomicKind::Add; });
  Value* old = k.op1(OpKind::AtomicRMW, {pi, k.cint(Type::scalar(DType::I32), 1), flag}, Type::scalar(DType::I32), [](Op* o) {
    o->atomic = AtomicKind::Add;
    o->has_mask = true;
  });
  k.op1(OpKind::AtomicCAS, {k.ptrs(pf, offs), k.cfloat(Type::tile(DType::F32, {n}), 0), k.cfloat(Type::tile(DType::F32, {n}), 2)}, Type::tile(DType::F32, {n}));
  k.op1(OpKind::AtomicCAS, {pl, k.cint(Type::scalar(DType::I64), 0), k.cint(Type::scalar(DType::I64), 7)}, Type::scalar(DType::I64));
  // if (flag) { x = old + 1 } else { x = old - 1 }
  Op* br = k.b.create(OpKind::If, k.loc, {flag}, {Type::scalar(DType::I32)});
  br->regions.resize(2);
  for (int side = 0; side < 2; ++side) {
    k.b.set_region(&br->regions[side]);
    Value* v = k.bin(side ? BinaryKind::Sub : BinaryKind::Add, old, k.cint(Type::scalar(DType::I32), 1));
    k.b.create(OpKind::Yield, k.loc, {v}, {});
  }
  k.b.set_region(&k.fn.body);
  // while (a < 100) { (a, b) = (b, a + b) }  with a swap of loop-carried values
  Type it = Type::tile(DType::I32, {n});
  Value* a0 = k.splat(br->result(), {n});
  Value* b0 = k.cint(it, 1);
  Op* wl = k.b.create(OpKind::While, k.loc, {a0, b0}, {it, it});
  wl->regions.resize(2);
  wl->regions[0].args = {k.fn.new_value(it, "a"), k.fn.new_value(it, "b")};
  wl->regions[1].args = {k.fn.new_value(it, "a"), k.fn.new_value(it, "b")};
  k.b.set_region(&wl->regions[0]);
  Value* s = k.op1(OpKind::Reduce, {wl->regions[0].args[0]}, Type::scalar(DType::I32), [](Op* o) { o->reduce = ReduceKind::Max; });
  Value* go = k.cmp(CmpKind::Lt, s, k.cint(Type::scalar(DType::I32), 100));
  k.b.create(OpKind::Condition, k.loc, {go, wl->regions[0].args[0], wl->regions[0].args[1]}, {});
  k.b.set_region(&wl->regions[1]);
  Value* nb = k.bin(BinaryKind::Add, wl->regions[1].args[0], wl->regions[1].args[1]);
  k.b.create(OpKind::Yield, k.loc, {wl->regions[1].args[1], nb}, {});
  k.b.set_region(&k.fn.body);
  // for i in range(10, 0, -2): swap (a, b)
  Op* fl = k.b.create(OpKind::For, k.loc, {k.cint(Type::scalar(DType::I32), 10), k.cint(Type::scalar(DType::I32), 0),
                                            k.cint(Type::scalar(DType::I32), -2), wl->results[0], wl->results[1]}, {it, it});
  fl->regions.resize(1);
  fl->regions[0].args = {k.fn.new_value(Type::scalar(DType::I32), "i"), k.fn.new_value(it, "x"), k.fn.new_value(it, "y")};
  k.b.set_region(&fl->regions[0]);
  k.b.create(OpKind::Yield, k.loc, {fl->regions[0].args[2], fl->regions[0].args[1]}, {});
  k.b.set_region(&k.fn.body);
  k.store(k.ptrs(pi, offs), k.bin(BinaryKind::Add, fl->results[0], fl->results[1]));
  ASSERT_TRUE(k.verify());
  expect_compiles(k.fn, "atomics");
}

TEST(CudaCodegen, UnsupportedAtomicIsDiagnosed) {
  Kit k;
  k.fn.name = "bad";
  Value* p = k.arg(Type::pointer(DType::I16), "p");
  k.op1(OpKind::AtomicRMW, {p, k.cint(Type::scalar(DType::I16), 1)}, Type::scalar(DType::I16), [](Op* o) { o->atomic = AtomicKind::Xchg; });
  Diagnostics diags;
  EXPECT_FALSE(generate_cuda(k.fn, CudaOptions{}, diags));
  EXPECT_NE(diags.render().find("hand.py:2:1"), std::string::npos) << diags.render();
}

}  // namespace
}  // namespace tilec
