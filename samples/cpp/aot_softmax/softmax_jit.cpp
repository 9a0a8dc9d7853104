// Input: none (`softmax_jit [--dump FILE]`). Output: the row softmax of main.cpp through tilec::jit
// (same kernel file, signatures and backend), checked, and dumped for the byte-for-byte AOT == JIT check.
#include <cstring>

#include <tilec/tilec.h>

#include "common.h"

int main(int argc, char** argv) {
  const char* dump_path = argc == 3 && std::strcmp(argv[1], "--dump") == 0 ? argv[2] : nullptr;
  std::vector<float> outs[2];
  int i = 0;
  for (int32_t stride : {784, kCols}) {
    const char* sig = stride % 16 == 0 ? "out:*fp32:16,x:*fp32:16,in_stride:i32:16,out_stride:i32:16,n_rows:i32,n_cols:i32"
                                       : "out:*fp32,x:*fp32,in_stride:i32,out_stride:i32,n_rows:i32,n_cols:i32";
    tilec::jit::Options options;
#ifdef SOFTMAX_CUDA
    options.backend = tilec::jit::Backend::Cuda;  // the arch of device 0, as the AOT loader picks
#endif
    tilec::jit::Result<tilec::jit::Kernel> k =
        tilec::jit::compile_file(SOFTMAX_PY, "softmax_kernel", sig, {"BLOCK_SIZE=" + std::to_string(kBlock)}, options);
    if (!k) {
      std::fprintf(stderr, "softmax_jit: %s\n", k.error().c_str());
      return 1;
    }
    std::vector<float> x = softmax_input(stride), out(x.size(), 0.f);
#ifdef SOFTMAX_CUDA
    GpuBuffers g;
    if (!g.init(x)) return 1;
    auto p = tilec::jit::Arg::device_ptr;
    tilec::jit::Status s = k->launch({uint32_t(kRows)}, {p(g.out), p(g.x), stride, stride, kRows, kCols});
    if (s && !g.finish(out)) s = tilec::jit::Status::failure("CUDA synchronize or copy failed");
#else
    tilec::jit::Status s = k->launch({uint32_t(kRows)}, {out.data(), x.data(), stride, stride, kRows, kCols});
#endif
    if (!s) {
      std::fprintf(stderr, "softmax_jit: %s\n", s.message().c_str());
      return 1;
    }
    if (check_softmax(x, out, stride, stride % 16 ? "softmax_jit odd stride" : "softmax_jit stride % 16 == 0")) return 1;
    outs[i++] = std::move(out);
  }
  return dump_path ? dump(dump_path, outs[0], outs[1]) : 0;
}
