// Input: a Python module's path and text, a kernel name, a Signature. Output: each front-end stage
// (tokens, AST, IR, optimized IR) in the named pipeline every tool and backend goes through.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "tilec/ir.h"
#include "tilec/signature.h"

namespace tilec {

enum class Stage { Tokens, Ast, Ir, IrOpt, Cpp, GpuIr, Cuda, Ptx };
const char* stage_name(Stage s);
std::optional<Stage> stage_from_name(const std::string& s);

// A kernel's source and its specialization: what every stage starts from.
struct KernelSource {
  std::shared_ptr<const SourceFile> file;
  std::string kernel;
  Signature signature;
  std::vector<std::shared_ptr<const SourceFile>> imported = {};  // files of @jit helpers imported by `file`
  KernelTarget target = {};  // compile_kernel and emit_stage set it from their target options
};

// Text of the Tokens or Ast stage of the kernel's `def` (helpers are not included).
std::optional<std::string> dump_front(const KernelSource& src, Stage stage, Diagnostics& diags);

// Typed IR of the kernel, verified, optionally after optimize(); nullptr after diagnostics.
std::unique_ptr<Function> lower_to_ir(const KernelSource& src, bool optimized, Diagnostics& diags);

}  // namespace tilec
