// Input: a KernelSource. Output: the front-end stages in order (scan, lex, parse, IR generation,
// verification, optimization); each stage's errors stop the pipeline before the next stage.
#include "tilec/frontend.h"

#include "tilec/ir_gen.h"
#include "tilec/lexer.h"
#include "tilec/module_scan.h"
#include "tilec/parser.h"
#include "tilec/passes.h"

namespace tilec {

const char* stage_name(Stage s) {
  switch (s) {
    case Stage::Tokens: return "tokens";
    case Stage::Ast: return "ast";
    case Stage::Ir: return "ir";
    case Stage::IrOpt: return "ir-opt";
    case Stage::Cpp: return "cpp";
    case Stage::GpuIr: return "gpu-ir";
    case Stage::Cuda: return "cuda";
    case Stage::Ptx: return "ptx";
  }
  return "?";
}

std::optional<Stage> stage_from_name(const std::string& s) {
  for (Stage st : {Stage::Tokens, Stage::Ast, Stage::Ir, Stage::IrOpt, Stage::Cpp, Stage::GpuIr, Stage::Cuda, Stage::Ptx})
    if (s == stage_name(st)) return st;
  return std::nullopt;
}

std::optional<std::string> dump_front(const KernelSource& src, Stage stage, Diagnostics& diags) {
  const SourceFile& file = *src.file;
  for (const TopLevelDef& d : scan_module(file)) {
    if (d.name != src.kernel) continue;
    std::vector<Token> tokens = lex(file, d.first_line, d.last_line, diags);
    if (diags.has_errors()) return std::nullopt;
    if (stage == Stage::Tokens) return print_tokens(tokens);
    std::unique_ptr<FunctionDef> fn = parse_function(tokens, diags);
    if (!fn || diags.has_errors()) return std::nullopt;
    return print_ast(*fn);
  }
  diags.error(Loc{&file, 1, 1}, "no top-level function named '" + src.kernel + "' in " + file.path());
  return std::nullopt;
}

std::unique_ptr<Function> lower_to_ir(const KernelSource& src, bool optimized, Diagnostics& diags) {
  std::unique_ptr<Function> fn = build_ir(*src.file, src.kernel, src.signature, src.target, diags, src.imported);
  if (!fn || !verify_ir(*fn, diags)) return nullptr;
  if (optimized) {
    optimize(*fn);
    if (!verify_ir(*fn, diags)) return nullptr;
  }
  return fn;
}

}  // namespace tilec
