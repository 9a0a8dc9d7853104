// Input: the arguments of `tilec aot` (after the word "aot"). Output: compiled kernels and C
// launch code under the output folder; the exit status (0 success, 1 compile error, 2 bad usage).
#pragma once
#include <string>
#include <vector>

namespace tilec {

extern const char* kAotUsage;

int aot_main(const std::vector<std::string>& args);

// Installed as PREFIX/bin/tilec, the runtime headers in PREFIX/include/tilec become the JIT's.
void find_installed_runtime();

}  // namespace tilec
