// Input: a whole Python module as text (any Python is allowed outside kernels). Output: the
// line spans of its top-level `def`s with their decorators and of its constexpr globals, and
// the names its top-level imports bind.
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

// A column-0 import binding a name: `import a.b as c` (c -> a.b), `import a.b` (a -> a),
// `from a.b import c as d` (d -> a.b.c), `from a.b import c` (c -> a.b.c). Relative imports
// (`from .x import y`) keep their leading dots in `target`.
struct TopLevelImport {
  std::string alias;
  std::string target;
};

std::vector<TopLevelImport> scan_imports(const SourceFile& file);

}  // namespace tilec
