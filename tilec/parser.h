// Input: tokens of one decorated top-level `def` (or of one module-level statement). Output: its
// AST, or nullptr after reporting errors; unsupported Python constructs are reported by name.
#pragma once
#include <memory>
#include <vector>

#include "tilec/ast.h"
#include "tilec/token.h"

namespace tilec {

std::unique_ptr<FunctionDef> parse_function(const std::vector<Token>& tokens, Diagnostics& diags);

// Tokens of one module-level simple statement (a `NAME = tl.constexpr(...)` global): its Stmt,
// or nullptr after reporting errors.
StmtPtr parse_module_statement(const std::vector<Token>& tokens, Diagnostics& diags);

}  // namespace tilec
