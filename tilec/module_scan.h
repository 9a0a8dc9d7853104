// Input: a whole Python module as text (any Python is allowed outside kernels). Output: the
// line spans of its top-level `def`s with their decorators, and of its constexpr globals.
#pragma once
#include <string>
#include <vector>

#include "tilec/source.h"

namespace tilec {

struct TopLevelDef {
  std::string name;
  int first_line = 0;  // first decorator line, or the def line
  int def_line = 0;
  int last_line = 0;   // last line of the body (trailing blank/comment lines excluded)
  bool is_jit = false; // decorated with @tilec.jit / @jit / @triton.jit (with or without call)
};

std::vector<TopLevelDef> scan_module(const SourceFile& file);

// A column-0 assignment whose line mentions `constexpr` (`BLOCK = tl.constexpr(128)`,
// `BLOCK: tl.constexpr = 128`): kernels may read these module-level globals.
struct TopLevelConstexpr {
  std::string name;
  int first_line = 0;
  int last_line = 0;
};

std::vector<TopLevelConstexpr> scan_constexpr_globals(const SourceFile& file);

}  // namespace tilec
