// Input: none (declarations). Output: what jit/kernel.cpp (compiling, caching) and jit/launch.cpp
// (launching) share and nobody outside jit/ calls.
#pragma once
#include <string>

#include "jit/kernel.h"

namespace tilec {

// One line on stderr: the cache heals itself, the user only learns that it happened.
void warn(const std::string& message);

// A cached cubin or PTX that the driver rejects: its entry is removed and the image compiled
// again from the kernel's source; false with *error set when that fails. The caller warns.
bool recompile_cuda_image(CompiledKernel& k, std::string* error);

}  // namespace tilec
