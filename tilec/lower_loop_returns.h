// Input: the AST of a for/while loop whose body holds `return` statements without a value.
// Output: statements without a return inside any loop, that run as the loop did (see the .cpp).
#pragma once

#include <string>
#include <vector>

#include "tilec/ast.h"

namespace tilec {

// `loop` as [flag = False; loop with its body under `if not flag`, each return setting flag and
// skipping the rest; if flag: return]. `flag_id` makes the flag's name unique ("@returned<id>",
// which no Python name can be), and grows with each nested loop. Returns false with *error_loc
// and *error set on a `return` that carries a value, which has no such lowering.
bool lower_loop_returns(const Stmt& loop, int* flag_id, std::vector<StmtPtr>* out, Loc* error_loc, std::string* error);

}  // namespace tilec
