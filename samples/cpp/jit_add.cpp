// Input: none (`jit_add` runs on the CPU; `jit_add_cuda`, built with -DJIT_ADD_CUDA=ON, on GPU 0). Output:
// a vector add JIT-compiled from C++ through the installed tilec::jit, checked against a loop, with its time.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include <tilec/tilec.h>
#ifdef JIT_ADD_CUDA
#include <cuda.h>
#endif

// The kernel is ordinary tile-language source; tilec::jit::compile_file takes a .py file instead.
static const char* kSource = R"(
import tilec
import tilec.language as tl

@tilec.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)
)";

namespace tj = tilec::jit;

static int check(const std::vector<float>& x, const std::vector<float>& y, const std::vector<float>& out) {
  for (size_t i = 0; i < x.size(); ++i)
    if (out[i] != x[i] + y[i]) {
      std::fprintf(stderr, "jit_add: mismatch at %zu: %g != %g\n", i, out[i], x[i] + y[i]);
      return 1;
    }
  return 0;
}

#ifdef JIT_ADD_CUDA
// Device buffers through the driver API: the JIT takes raw CUdeviceptr values and a stream.
static int run_cuda(const tj::Kernel& k, const std::vector<float>& x, const std::vector<float>& y, std::vector<float>& out,
                    int32_t n, uint32_t blocks) {
  CUdevice dev;
  CUcontext ctx;
  CUdeviceptr dx, dy, dout;
  size_t bytes = x.size() * sizeof(float);
  if (cuInit(0) || cuDeviceGet(&dev, 0) || cuDevicePrimaryCtxRetain(&ctx, dev) || cuCtxSetCurrent(ctx) ||
      cuMemAlloc(&dx, bytes) || cuMemAlloc(&dy, bytes) || cuMemAlloc(&dout, bytes) || cuMemcpyHtoD(dx, x.data(), bytes) ||
      cuMemcpyHtoD(dy, y.data(), bytes)) {
    std::fprintf(stderr, "jit_add: CUDA set-up failed\n");
    return 1;
  }
  auto p = tj::Arg::device_ptr;
  tj::Status s = k.launch({blocks}, {p(dx), p(dy), p(dout), n});
  if (!s || cuCtxSynchronize()) {
    std::fprintf(stderr, "jit_add: launch failed: %s\n", s.message().c_str());
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) (void)k.launch({blocks}, {p(dx), p(dy), p(dout), n});
  cuCtxSynchronize();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / 100;
  cuMemcpyDtoH(out.data(), dout, bytes);
  if (check(x, y, out)) return 1;
  std::printf("jit_add [cuda] n=%d: ok, %.4f ms per launch\n", n, ms);
  return 0;
}
#endif

int main(int argc, char** argv) {
#ifdef JIT_ADD_CUDA
  const char* backend = argc > 1 ? argv[1] : "cuda";
#else
  const char* backend = argc > 1 ? argv[1] : "cpu";
#endif
  bool cuda = std::strcmp(backend, "cuda") == 0;
  if (!cuda && std::strcmp(backend, "cpu") != 0) {
    std::fprintf(stderr, "usage: %s [cpu|cuda]\n", argv[0]);
    return 2;
  }
  const int32_t n = 1 << 20;
  const int block = 1024;
  std::vector<float> x(n), y(n), out(n, NAN);
  for (int32_t i = 0; i < n; ++i) {
    x[i] = 0.5f * static_cast<float>(i % 977);
    y[i] = 1.0f / static_cast<float>(1 + i % 131);
  }
  tj::Options options;
  options.backend = cuda ? tj::Backend::Cuda : tj::Backend::Cpu;
  auto t0 = std::chrono::steady_clock::now();
  tj::Result<tj::Kernel> k = tj::compile(kSource, "add_kernel", "x_ptr:*fp32:16,y_ptr:*fp32:16,out_ptr:*fp32:16,n:i32",
                                         {"BLOCK=" + std::to_string(block)}, options, "jit_add.py");
  if (!k) {
    std::fprintf(stderr, "jit_add: %s\n", k.error().c_str());
    return 1;
  }
  double compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("jit_add: compiled '%s' (tilec %s) in %.1f ms (cached after the first run)\n", k->name().c_str(), tj::version(),
              compile_ms);
  uint32_t blocks = static_cast<uint32_t>((n + block - 1) / block);
#ifdef JIT_ADD_CUDA
  if (cuda) return run_cuda(*k, x, y, out, n, blocks);
#else
  if (cuda) {
    std::fprintf(stderr, "jit_add: built without CUDA (configure with -DJIT_ADD_CUDA=ON and run jit_add_cuda)\n");
    return 2;
  }
#endif
  tj::Status s = k->launch({blocks}, {x.data(), y.data(), out.data(), n});
  if (!s) {
    std::fprintf(stderr, "jit_add: launch failed: %s\n", s.message().c_str());
    return 1;
  }
  if (check(x, y, out)) return 1;
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) (void)k->launch({blocks}, {x.data(), y.data(), out.data(), n});
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count() / 20;
  t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    for (int32_t j = 0; j < n; ++j) out[j] = x[j] + y[j];
    asm volatile("" : : "r"(out.data()) : "memory");  // keeps the optimizer from running the loop once
  }
  double loop_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count() / 20;
  std::printf("jit_add [cpu] n=%d: ok; tilec %.3f ms, plain loop %.3f ms\n", n, ms, loop_ms);
  return 0;
}
