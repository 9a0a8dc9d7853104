// Input: optimized, verified tile IR and launch options. Output: CUDA C source of one
// `extern "C" __global__` kernel for NVRTC, with #line directives back to the user's .py file.
#pragma once
#include <optional>
#include <string>

#include "tilec/ir.h"

namespace tilec {

struct CudaOptions {
  int arch = 90;        // sm_XY as XY
  int num_warps = 4;    // threads per program = 32 * num_warps
  int num_stages = 3;   // software-pipeline depth of dot operand staging
  // TMA copies whose tensor maps the launcher encodes (CudaKernel::tensor_maps); `tilec aot`'s
  // generated launchers pass only the arguments, so it turns them off.
  bool tma = true;
};

// A TMA tensor map the launcher encodes (cuTensorMapEncodeTiled) from a launch's arguments and
// passes after them, as the kernel's parameter tm<i>.
struct TensorMapParam {
  // Runtime argument `arg` (of type `dtype`: the base pointer, an integer scalar), or `value`.
  struct Field {
    int arg = -1;
    DType dtype = DType::I64;
    int64_t value = 0;
  };
  Field base;
  DType elem = DType::F16;
  std::vector<Field> shape, strides;  // outermost dim first; strides in elements
  std::vector<int64_t> box;           // outermost dim first
  int swizzle = 128;                  // 128-byte swizzle, or 0: none
  bool nan_fill = false;              // out-of-bounds elements read NaN, else zero
};

struct CudaKernel {
  std::string source;
  std::string entry;         // the __global__ function's name
  int threads = 128;         // blockDim.x
  int shared_bytes = 0;      // dynamic shared memory the launch must provide
  bool arch_specific = false;  // uses sm_90a-only instructions (wgmma): compile for sm_XYa
  std::vector<TensorMapParam> tensor_maps;
};

// Text of runtime/cuda/tilec_cuda.h, which every generated kernel includes as "tilec_cuda.h".
const std::string& cuda_runtime_header();
// Its SHA-256 (hex), computed by CMake: cache keys use it instead of hashing the text each time.
const std::string& cuda_runtime_header_digest();

// The oldest sm_XY that can run `fn`: 89 when it computes tl.float8e4nv values (their conversions
// are cvt.*.e4m3x2, as in Triton, which supports fp8e4nv from sm_89), else 0; *where is the first
// op that needs it. generate_cuda diagnoses an older arch there.
int cuda_min_arch(const Function& fn, const Op** where = nullptr);

std::optional<CudaKernel> generate_cuda(const Function& fn, const CudaOptions& options, Diagnostics& diags);

}  // namespace tilec
