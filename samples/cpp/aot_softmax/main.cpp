// Input: none (`aot_softmax [--dump FILE]`). Output: row softmax through the `tilec aot` launch
// functions, for a 16-aligned row stride and an odd one (both specializations), checked and timed.
#include <chrono>
#include <cstring>

#include "common.h"
#include "softmax_kernel.h"

#ifdef SOFTMAX_CUDA
// One softmax on the GPU: copy in, launch through the dispatcher, copy back.
static int run(const std::vector<float>& x, std::vector<float>& out, int32_t stride, double* ms) {
  GpuBuffers g;
  if (!g.init(x)) return 1;
  CUresult r = softmax_kernel_launch(nullptr, kRows, 1, 1, g.out, g.x, stride, stride, kRows, kCols);
  if (r || cuCtxSynchronize()) {
    std::fprintf(stderr, "aot_softmax: launch failed (CUresult %d)\n", static_cast<int>(r));
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) softmax_kernel_launch(nullptr, kRows, 1, 1, g.out, g.x, stride, stride, kRows, kCols);
  cuCtxSynchronize();
  *ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / 100;
  return g.finish(out) ? 0 : 1;
}
static const char* kBackend = "cuda";
#else
static int run(const std::vector<float>& x, std::vector<float>& out, int32_t stride, double* ms) {
  int r = softmax_kernel_launch(kRows, 1, 1, out.data(), x.data(), stride, stride, kRows, kCols);
  if (r != TILEC_AOT_SUCCESS) {
    char msg[512] = "";
    softmax_kernel_error_message(msg, sizeof msg);
    std::fprintf(stderr, "aot_softmax: launch failed (%d) %s\n", r, msg);
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) softmax_kernel_launch(kRows, 1, 1, out.data(), x.data(), stride, stride, kRows, kCols);
  *ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / 20;
  return 0;
}
static const char* kBackend = "cpu";
#endif

int main(int argc, char** argv) {
  const char* dump_path = argc == 3 && std::strcmp(argv[1], "--dump") == 0 ? argv[2] : nullptr;
  if (argc != 1 && !dump_path) {
    std::fprintf(stderr, "usage: aot_softmax [--dump FILE]\n");
    return 2;
  }
  std::vector<float> outs[2];
  int i = 0;
  for (int32_t stride : {784, kCols}) {  // 784 = 49 * 16 takes the ':16' specialization
    std::vector<float> x = softmax_input(stride), out(x.size(), 0.f);
    double ms = 0;
    if (run(x, out, stride, &ms)) return 1;
    char what[96];
    std::snprintf(what, sizeof what, "aot_softmax [%s] row stride %d (%.3f ms)", kBackend, stride, ms);
    if (check_softmax(x, out, stride, what)) return 1;
    outs[i++] = std::move(out);
  }
  return dump_path ? dump(dump_path, outs[0], outs[1]) : 0;
}
