// Input: the arguments of `tilec aot` (after the word "aot"). Output: compiled kernels and C
// launch code under the output folder; the exit status (0 success, 1 compile error, 2 bad usage).
#pragma once
#include <string>
#include <vector>

namespace tilec {

extern const char* kAotUsage;

int aot_main(const std::vector<std::string>& args);

}  // namespace tilec
