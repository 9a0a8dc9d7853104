// Input: a verified Function. Output: the same Function rewritten in place by one pass; each pass
// keeps the IR verifiable and never changes what the kernel stores.
#pragma once
#include <unordered_map>

#include "tilec/ir.h"

namespace tilec {

void canonicalize_broadcasts(Function& fn);      // passes/canonicalize_broadcasts.cpp
void fold_constants(Function& fn);               // passes/fold_constants.cpp
void eliminate_common_subexpressions(Function& fn);  // passes/cse.cpp
void eliminate_dead_code(Function& fn);          // passes/dce.cpp

// The pipeline that --emit ir-opt and the backends run, in order.
void optimize(Function& fn);

// Shared by the passes: true for ops with no effect beyond their results.
bool is_pure(const Op& op);
// Rewrites every operand found in `map` (following chains) across the function.
void apply_replacements(Function& fn, const std::unordered_map<Value*, Value*>& map);

}  // namespace tilec
