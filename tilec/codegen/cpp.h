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

}  // namespace tilec
