// Input: optimized, verified tile IR. Output: C++17 source for the CPU backend: one function per
// program instance over fixed-size tile arrays, with SIMD through runtime/cpu/tilec_vec.h.
#pragma once
#include <optional>
#include <string>

#include "tilec/ir.h"

namespace tilec {

// The generated source defines, with C linkage,
//   void tilec_entry(void* const* args, const int32_t* grid, int64_t begin, int64_t end);
// which runs the program instances with linear ids [begin, end) of a grid (x fastest).
// args[i] points to the value of runtime argument i (a data pointer or a scalar), in the order
// of Function::args: the same convention as cuLaunchKernel's kernelParams.
inline constexpr const char* kCppEntrySymbol = "tilec_entry";

std::optional<std::string> generate_cpp(const Function& fn, Diagnostics& diags);

// The C++ type of one element of `t` in generated code ("float", "uint8_t" for i1,
// "tilec_rt::fp16"); `tilec aot` declares its launch functions' parameters with it.
const char* cpp_element_type(DType t);

}  // namespace tilec
