// Input: a matrix shape. Output: the deterministic input both softmax programs use, a plain C++
// reference softmax and its check, and (SOFTMAX_CUDA) device buffers; shared by main.cpp and softmax_jit.cpp.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

constexpr int32_t kRows = 1823, kCols = 781, kBlock = 1024;

inline std::vector<float> softmax_input(int32_t stride) {
  std::vector<float> x(size_t(kRows) * stride, 0.f);
  uint32_t s = 12345;
  for (int32_t r = 0; r < kRows; ++r)
    for (int32_t c = 0; c < kCols; ++c) {
      s = s * 1664525u + 1013904223u;
      x[size_t(r) * stride + c] = static_cast<float>(s >> 8) / 16777216.f * 8.f - 4.f;
    }
  return x;
}

// Largest relative error against a double-precision reference; prints and returns nonzero above tol.
inline int check_softmax(const std::vector<float>& x, const std::vector<float>& out, int32_t stride, const char* what) {
  double worst = 0;
  for (int32_t r = 0; r < kRows; ++r) {
    const float* row = &x[size_t(r) * stride];
    double m = row[0], sum = 0;
    for (int32_t c = 0; c < kCols; ++c) m = std::fmax(m, row[c]);
    for (int32_t c = 0; c < kCols; ++c) sum += std::exp(row[c] - m);
    for (int32_t c = 0; c < kCols; ++c) {
      double ref = std::exp(row[c] - m) / sum;
      worst = std::fmax(worst, std::fabs(out[size_t(r) * stride + c] - ref) / ref);
    }
  }
  std::printf("%s: %dx%d, max rel err %.2e\n", what, kRows, kCols, worst);
  if (!(worst < 1e-5)) {
    std::fprintf(stderr, "%s: error above 1e-5\n", what);
    return 1;
  }
  return 0;
}

// Writes the outputs raw, so that the AOT and JIT programs' results can be compared byte for byte.
inline int dump(const char* path, const std::vector<float>& a, const std::vector<float>& b) {
  FILE* f = std::fopen(path, "wb");
  if (!f) return 1;
  std::fwrite(a.data(), sizeof(float), a.size(), f);
  std::fwrite(b.data(), sizeof(float), b.size(), f);
  return std::fclose(f) != 0;
}

#ifdef SOFTMAX_CUDA
#include <cuda.h>

// Input and output on device 0's primary context, made current for the calling thread.
struct GpuBuffers {
  CUdeviceptr x = 0, out = 0;
  size_t bytes = 0;
  bool init(const std::vector<float>& host_x) {
    static CUcontext ctx = nullptr;
    CUdevice dev;
    if (!ctx && (cuInit(0) || cuDeviceGet(&dev, 0) || cuDevicePrimaryCtxRetain(&ctx, dev))) return false;
    bytes = host_x.size() * sizeof(float);
    return !cuCtxSetCurrent(ctx) && !cuMemAlloc(&x, bytes) && !cuMemAlloc(&out, bytes) &&
           !cuMemcpyHtoD(x, host_x.data(), bytes) && !cuMemsetD8(out, 0, bytes);
  }
  bool finish(std::vector<float>& host_out) {
    bool ok = !cuCtxSynchronize() && !cuMemcpyDtoH(host_out.data(), out, bytes);
    cuMemFree(x);
    cuMemFree(out);
    return ok;
  }
};
#endif
