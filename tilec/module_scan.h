// Input: a whole Python module as text (any Python is allowed outside kernels). Output: the
// line spans of its top-level `def`s with their decorators; nothing inside them is parsed here.
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

}  // namespace tilec
