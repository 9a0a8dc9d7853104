// Input: none (a table). Output: the libdevice functions (tl.math.*, tl.extra.libdevice.*): for each
// its arity, result kind and its spelling in CUDA C (float and double) and in the CPU backend's C++.
// Invariant: sema (ir_gen) and both printers read only this table; a name missing here is an error.
#pragma once
#include <string>
#include <vector>

namespace tilec {

enum class LibdeviceResult {
  Float,  // the operands' float type (fp16/bf16 compute in fp32 and round back)
  I32,    // int32 flags, as Triton's libdevice returns for isnan/isinf/signbit
};

struct LibdeviceFn {
  const char* name;      // Triton's name
  int arity;             // 1..3 float operands (arg0, arg1, arg2), promoted to one float type
  LibdeviceResult result;
  const char* cuda_f32;  // CUDA C function on float (fp16/bf16 too); nullptr: those types are rejected
  const char* cuda_f64;  // on double; nullptr: fp64 is rejected (the fast_* intrinsics)
  const char* cpp;       // C++ function on float/double (the CPU backend's compute types)
};

const std::vector<LibdeviceFn>& libdevice_table();
const LibdeviceFn* find_libdevice(const std::string& name);

}  // namespace tilec
