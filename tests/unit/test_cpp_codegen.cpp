// Input: sample kernels and small DSL kernels lowered to IR. Output: checks that the generated C++
// compiles (c++ -O2 -march=native), runs through tilec_entry over a grid, and matches references.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "runtime/cpu/tilec_vec.h"
#include "tilec/codegen/cpp.h"
#include "tilec/frontend.h"

namespace tilec {
namespace {

using Entry = void (*)(void* const*, const int32_t*, int64_t, int64_t);

struct Compiled {
  void* handle = nullptr;
  Entry entry = nullptr;
  int (*assert_failed)() = nullptr;
  std::string source;
  ~Compiled() {
    if (handle) dlclose(handle);
  }
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Lowers `kernel` from `text`, generates C++, compiles it to a shared object and loads it.
std::unique_ptr<Compiled> build(const std::string& path, const std::string& text, const std::string& kernel, const std::string& sig,
                                const std::vector<std::string>& constexprs) {
  std::string err;
  std::optional<Signature> s = parse_signature(sig, constexprs, &err);
  EXPECT_TRUE(s) << err;
  if (!s) return nullptr;
  KernelSource src{std::make_shared<SourceFile>(path, text), kernel, *s};
  Diagnostics diags;
  std::unique_ptr<Function> fn = lower_to_ir(src, true, diags);
  EXPECT_TRUE(fn) << diags.render();
  if (!fn) return nullptr;
  std::optional<std::string> code = generate_cpp(*fn, diags);
  EXPECT_TRUE(code) << diags.render();
  if (!code) return nullptr;
  static int counter = 0;
  std::string dir = "/tmp/tilec_cpp_test_" + std::to_string(getpid());
  std::string base = dir + "/" + kernel + "_" + std::to_string(counter++);
  std::system(("mkdir -p " + dir).c_str());
  std::ofstream(base + ".cpp") << *code;
  std::string cmd = "c++ -O2 -march=native -std=c++17 -shared -fPIC -I" TILEC_SOURCE_DIR " " + base + ".cpp -o " + base + ".so 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string log;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) log.append(buf, n);
  int rc = pclose(p);
  EXPECT_EQ(rc, 0) << log << "\n" << *code;
  if (rc != 0) return nullptr;
  auto c = std::make_unique<Compiled>();
  c->source = *code;
  c->handle = dlopen((base + ".so").c_str(), RTLD_NOW | RTLD_LOCAL);
  EXPECT_TRUE(c->handle) << dlerror();
  if (!c->handle) return nullptr;
  c->entry = reinterpret_cast<Entry>(dlsym(c->handle, kCppEntrySymbol));
  c->assert_failed = reinterpret_cast<int (*)()>(dlsym(c->handle, "tilec_assert_failed"));
  EXPECT_TRUE(c->entry && c->assert_failed);
  return c;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

// The front end does not take float('inf') yet; that spelling is rewritten to an equivalent it
// accepts, keeping line numbers.
std::unique_ptr<Compiled> build_sample(const std::string& file, const std::string& kernel, const std::string& sig,
                                       const std::vector<std::string>& constexprs) {
  std::string path = std::string(TILEC_SOURCE_DIR) + "/samples/" + file;
  std::string text = read_text(path);
  replace_all(text, "-float('inf')", "-1e300 * 1e300");
  return build(path, text, kernel, sig, constexprs);
}

void launch(const Compiled& c, std::vector<void*> args, int gx, int gy = 1, int gz = 1) {
  int32_t grid[3] = {gx, gy, gz};
  c.entry(args.data(), grid, 0, static_cast<int64_t>(gx) * gy * gz);
}

std::vector<float> randf(size_t n, unsigned seed, float lo = -1, float hi = 1) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

TEST(CppCodegen, VectorAddMaskedTail) {
  auto c = build_sample("vector_add.py", "add_kernel", "x_ptr:*fp32:16,y_ptr:*fp32:16,output_ptr:*fp32:16,n_elements:i32", {"BLOCK_SIZE=1024"});
  ASSERT_TRUE(c);
  EXPECT_NE(c->source.find("#line "), std::string::npos);
  EXPECT_NE(c->source.find("vector_add.py\""), std::string::npos);
  EXPECT_NE(c->source.find("// offsets = block_start + tl.arange(0, BLOCK_SIZE)"), std::string::npos);
  int n = 5000;
  auto x = randf(n, 1), y = randf(n, 2);
  std::vector<float> out(n + 16, -7.f);
  float *px = x.data(), *py = y.data(), *po = out.data();
  launch(*c, {&px, &py, &po, &n}, (n + 1023) / 1024);
  for (int i = 0; i < n; ++i) ASSERT_EQ(out[i], x[i] + y[i]) << i;
  for (int i = n; i < n + 16; ++i) ASSERT_EQ(out[i], -7.f);  // masked tail untouched
  EXPECT_EQ(c->assert_failed(), 0);
}

TEST(CppCodegen, SoftmaxRows) {
  auto c = build_sample("softmax.py", "softmax_kernel", "output_ptr:*fp32:16,input_ptr:*fp32:16,input_row_stride:i32,output_row_stride:i32,n_rows:i32,n_cols:i32", {"BLOCK_SIZE=128"});
  ASSERT_TRUE(c);
  int rows = 7, cols = 100, stride = 104;
  auto in = randf(rows * stride, 3, -5, 5);
  std::vector<float> out(rows * stride, 0);
  float *po = out.data(), *pi = in.data();
  launch(*c, {&po, &pi, &stride, &stride, &rows, &cols}, rows);
  for (int r = 0; r < rows; ++r) {
    double mx = -1e30, s = 0;
    for (int j = 0; j < cols; ++j) mx = std::max<double>(mx, in[r * stride + j]);
    for (int j = 0; j < cols; ++j) s += std::exp(in[r * stride + j] - mx);
    for (int j = 0; j < cols; ++j) ASSERT_NEAR(out[r * stride + j], std::exp(in[r * stride + j] - mx) / s, 1e-6);
  }
}

TEST(CppCodegen, LayerNorm) {
  auto c = build_sample("layernorm.py", "_layer_norm_fwd_fused", "X:*fp32:16,Y:*fp32:16,W:*fp32:16,B:*fp32:16,Mean:*fp32:16,Rstd:*fp32:16,stride:i32,N:i32,eps:fp32", {"BLOCK_SIZE=64"});
  ASSERT_TRUE(c);
  int rows = 5, n = 150, stride = 160;
  float eps = 1e-5f;
  auto x = randf(rows * stride, 4), w = randf(n, 5), b = randf(n, 6);
  std::vector<float> y(rows * stride, 0), mean(rows), rstd(rows);
  float *px = x.data(), *py = y.data(), *pw = w.data(), *pb = b.data(), *pm = mean.data(), *pr = rstd.data();
  launch(*c, {&px, &py, &pw, &pb, &pm, &pr, &stride, &n, &eps}, rows);
  for (int r = 0; r < rows; ++r) {
    double m = 0, v = 0;
    for (int j = 0; j < n; ++j) m += x[r * stride + j];
    m /= n;
    for (int j = 0; j < n; ++j) v += (x[r * stride + j] - m) * (x[r * stride + j] - m);
    v /= n;
    double rs = 1 / std::sqrt(v + eps);
    EXPECT_NEAR(mean[r], m, 1e-5);
    EXPECT_NEAR(rstd[r], rs, 1e-3);
    for (int j = 0; j < n; ++j) ASSERT_NEAR(y[r * stride + j], (x[r * stride + j] - m) * rs * w[j] + b[j], 1e-4);
  }
}

template <class T>
void run_matmul(const std::string& dt) {
  auto c = build_sample("matmul.py", "matmul_kernel",
                        "a_ptr:*" + dt + ":16,b_ptr:*" + dt + ":16,c_ptr:*fp32:16,M:i32,N:i32,K:i32,stride_am:i32,stride_ak:i32,stride_bk:i32,stride_bn:i32,stride_cm:i32,stride_cn:i32",
                        {"BLOCK_SIZE_M=32", "BLOCK_SIZE_N=32", "BLOCK_SIZE_K=16", "GROUP_SIZE_M=2"});
  ASSERT_TRUE(c);
  EXPECT_NE(c->source.find("tilec_rt::dot<float, 32, 32, 16>"), std::string::npos);
  int M = 64, N = 64, K = 64;
  auto af = randf(M * K, 7), bf = randf(K * N, 8);
  std::vector<T> a(af.begin(), af.end()), b(bf.begin(), bf.end());
  std::vector<float> out(M * N, 0);
  T *pa = a.data(), *pb = b.data();
  float* pc = out.data();
  int sam = K, one = 1, sbk = N, scm = N;
  launch(*c, {&pa, &pb, &pc, &M, &N, &K, &sam, &one, &sbk, &one, &scm, &one}, (M / 32) * (N / 32));
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = 0;
      for (int k = 0; k < K; ++k) s += static_cast<double>(static_cast<float>(a[i * K + k])) * static_cast<float>(b[k * N + j]);
      ASSERT_NEAR(out[i * N + j], s, 1e-4) << i << "," << j;
    }
}

TEST(CppCodegen, MatmulF32) { run_matmul<float>("fp32"); }
TEST(CppCodegen, MatmulF16) { run_matmul<tilec_rt::fp16>("fp16"); }

TEST(CppCodegen, HistogramAtomics) {
  auto c = build_sample("histogram.py", "histogram_kernel", "keys_ptr:*i32:16,hist_ptr:*i32:16,n:i32,num_bins:i32", {"BLOCK=256"});
  ASSERT_TRUE(c);
  int n = 1000, bins = 10;
  std::vector<int32_t> keys(n), hist(bins, 0), ref(bins, 0);
  std::mt19937 g(9);
  for (int32_t& k : keys) {
    k = static_cast<int32_t>(g() % 14) - 2;
    if (k >= 0 && k < bins) ++ref[k];
  }
  int32_t *pk = keys.data(), *ph = hist.data();
  launch(*c, {&pk, &ph, &n, &bins}, (n + 255) / 256);
  EXPECT_EQ(hist, ref);
}

const char* kMisc = R"(import tilec
import tilec.language as tl


@tilec.jit
def arg_kernel(x_ptr, out_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr, tl.argmax(x, axis=0))
    tl.store(out_ptr + 1, tl.argmin(x, axis=0))
    tl.store(out_ptr + 2, tl.max(x, axis=0).to(tl.int32))


@tilec.jit
def cumsum_kernel(x_ptr, out_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.cumsum(tl.load(x_ptr + offs), axis=0))


@tilec.jit
def loop_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    scale = 1.0
    for i in range(0, n):
        acc += tl.load(x_ptr + i * BLOCK + offs) * scale
        scale = scale * 2.0
    tl.store(out_ptr + offs, acc)


@tilec.jit
def if_kernel(x_ptr, out_ptr, flag, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    if flag > 0:
        y = x * 2.0
    else:
        y = x - 1.0
    tl.store(out_ptr + offs, y)


@tilec.jit
def while_kernel(out_ptr, n):
    i = 0
    total = 0
    while i < n:
        total += i
        i += 1
    tl.store(out_ptr, total)


@tilec.jit
def where_kernel(x_ptr, y_ptr, out_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    y = tl.load(y_ptr + offs)
    tl.store(out_ptr + offs, tl.where(x > y, x, 0.0))
    tl.store(out_ptr + BLOCK + offs, tl.maximum(x, y))
    tl.store(out_ptr + 2 * BLOCK + offs, tl.minimum(x, y))


@tilec.jit
def int_kernel(a_ptr, b_ptr, q_ptr, r_ptr, f_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    a = tl.load(a_ptr + offs)
    b = tl.load(b_ptr + offs)
    tl.store(q_ptr + offs, a // b)
    tl.store(r_ptr + offs, a % b)
    tl.store(f_ptr + offs, (a.to(tl.float32) * 0.75).to(tl.int32))


@tilec.jit
def assert_kernel(x_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    tl.device_assert(x >= 0, "x must be non-negative")
)";

std::unique_ptr<Compiled> misc(const std::string& kernel, const std::string& sig, const std::vector<std::string>& ce) {
  return build("misc.py", kMisc, kernel, sig, ce);
}

TEST(CppCodegen, ArgMaxArgMin) {
  auto c = misc("arg_kernel", "x_ptr:*fp32,out_ptr:*i32", {"BLOCK=64"});
  ASSERT_TRUE(c);
  auto x = randf(64, 10);
  x[5] = 3.f;
  x[40] = 3.f;  // tie: the lowest index wins
  x[7] = -3.f;
  x[9] = -3.f;
  std::vector<int32_t> out(3, -1);
  float* px = x.data();
  int32_t* po = out.data();
  launch(*c, {&px, &po}, 1);
  EXPECT_EQ(out[0], 5);
  EXPECT_EQ(out[1], 7);
  EXPECT_EQ(out[2], 3);
}

TEST(CppCodegen, CumSum) {
  auto c = misc("cumsum_kernel", "x_ptr:*i32,out_ptr:*i32", {"BLOCK=32"});
  ASSERT_TRUE(c);
  std::vector<int32_t> x(32), out(32);
  for (int i = 0; i < 32; ++i) x[i] = i * 3 - 40;
  int32_t *px = x.data(), *po = out.data();
  launch(*c, {&px, &po}, 1);
  int32_t s = 0;
  for (int i = 0; i < 32; ++i) ASSERT_EQ(out[i], s += x[i]);
}

TEST(CppCodegen, ForLoopCarried) {
  auto c = misc("loop_kernel", "x_ptr:*fp32,out_ptr:*fp32,n:i32", {"BLOCK=16"});
  ASSERT_TRUE(c);
  int n = 5;
  auto x = randf(n * 16, 11);
  std::vector<float> out(16);
  float *px = x.data(), *po = out.data();
  launch(*c, {&px, &po, &n}, 1);
  for (int j = 0; j < 16; ++j) {
    float s = 0, sc = 1;
    for (int i = 0; i < n; ++i, sc *= 2) s += x[i * 16 + j] * sc;
    ASSERT_FLOAT_EQ(out[j], s);
  }
}

TEST(CppCodegen, IfOnRuntimeScalar) {
  auto c = misc("if_kernel", "x_ptr:*fp32,out_ptr:*fp32,flag:i32", {"BLOCK=8"});
  ASSERT_TRUE(c);
  auto x = randf(8, 12);
  std::vector<float> out(8);
  float *px = x.data(), *po = out.data();
  for (int flag : {1, 0}) {
    launch(*c, {&px, &po, &flag}, 1);
    for (int j = 0; j < 8; ++j) ASSERT_EQ(out[j], flag ? x[j] * 2 : x[j] - 1);
  }
}

TEST(CppCodegen, WhileLoop) {
  auto c = misc("while_kernel", "out_ptr:*i32,n:i32", {});
  ASSERT_TRUE(c);
  int32_t out = -1, n = 10;
  int32_t* po = &out;
  launch(*c, {&po, &n}, 1);
  EXPECT_EQ(out, 45);
}

TEST(CppCodegen, WhereMaximumMinimum) {
  auto c = misc("where_kernel", "x_ptr:*fp32,y_ptr:*fp32,out_ptr:*fp32", {"BLOCK=32"});
  ASSERT_TRUE(c);
  auto x = randf(32, 13), y = randf(32, 14);
  x[3] = NAN;  // fmax/fmin ignore NaN
  std::vector<float> out(96);
  float *px = x.data(), *py = y.data(), *po = out.data();
  launch(*c, {&px, &py, &po}, 1);
  for (int j = 0; j < 32; ++j) {
    ASSERT_EQ(out[j], x[j] > y[j] ? x[j] : 0.f);
    ASSERT_EQ(out[32 + j], std::fmax(x[j], y[j]));
    ASSERT_EQ(out[64 + j], std::fmin(x[j], y[j]));
  }
}

TEST(CppCodegen, IntegerDivRemAndCasts) {
  auto c = misc("int_kernel", "a_ptr:*i32,b_ptr:*i32,q_ptr:*i32,r_ptr:*i32,f_ptr:*i32", {"BLOCK=16"});
  ASSERT_TRUE(c);
  std::vector<int32_t> a(16), b(16), q(16), r(16), f(16);
  for (int i = 0; i < 16; ++i) {
    a[i] = (i - 8) * 7 + 1;
    b[i] = (i % 2 ? 3 : -4);
  }
  int32_t *pa = a.data(), *pb = b.data(), *pq = q.data(), *pr = r.data(), *pf = f.data();
  launch(*c, {&pa, &pb, &pq, &pr, &pf}, 1);
  for (int i = 0; i < 16; ++i) {
    ASSERT_EQ(q[i], a[i] / b[i]);  // truncation toward zero
    ASSERT_EQ(r[i], a[i] % b[i]);
    ASSERT_EQ(f[i], static_cast<int32_t>(a[i] * 0.75f));
  }
}

TEST(CppCodegen, AssertSetsFlagWithoutAborting) {
  auto c = misc("assert_kernel", "x_ptr:*fp32", {"BLOCK=8"});
  ASSERT_TRUE(c);
  std::vector<float> x = {1, 2, 3, -1, 5, 6, 7, 8};
  float* px = x.data();
  launch(*c, {&px}, 2);
  EXPECT_EQ(c->assert_failed(), 2);
}

}  // namespace
}  // namespace tilec
