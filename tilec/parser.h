// Input: tokens of one decorated top-level `def`. Output: its FunctionDef AST, or nullptr after
// reporting errors; unsupported Python constructs are reported by name with their location.
#pragma once
#include <memory>
#include <vector>

#include "tilec/ast.h"
#include "tilec/token.h"

namespace tilec {

std::unique_ptr<FunctionDef> parse_function(const std::vector<Token>& tokens, Diagnostics& diags);

}  // namespace tilec
