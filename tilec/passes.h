// Input: a verified Function. Output: the same Function rewritten in place by one pass; each pass
// keeps the IR verifiable, and only insert_bounds_checks changes what the kernel stores (never in bounds).
#pragma once
#include <set>
#include <unordered_map>
#include <vector>

#include "tilec/ir.h"

namespace tilec {

void canonicalize_broadcasts(Function& fn);      // passes/canonicalize_broadcasts.cpp
void fold_constants(Function& fn);               // passes/fold_constants.cpp
void eliminate_common_subexpressions(Function& fn);  // passes/cse.cpp
void eliminate_dead_code(Function& fn);          // passes/dce.cpp
// Loop-carried pointer tiles advanced by a uniform step become one i64 offset from their initial
// tile (passes/scalar_pointer_advance.cpp).
void carry_pointer_offsets(Function& fn);

// Debug mode (TILEC_DEBUG=1): appends one i64 argument per pointer argument, its buffer's extent
// in elements, and guards every load, store and atomic: an access outside [base, base + extent)
// is masked off and fails an assert naming the argument (passes/insert_bounds_checks.cpp).
void insert_bounds_checks(Function& fn);
// Debug mode: each i32 add/sub/mul feeding a pointer offset is checked against the same in i64
// (passes/insert_overflow_checks.cpp).
void insert_overflow_checks(Function& fn);

// passes/pointer_args.cpp: for each pointer value, the indices (into fn.args) of the pointer
// arguments it may point into.
using PointerArgs = std::unordered_map<const Value*, std::set<int>>;
PointerArgs pointer_args(const Function& fn);

// Per runtime argument: whether the kernel stores or atomically updates through it, and where
// (first) it is offset from directly by a 32-bit offset (Loc{} when never), which would wrap on a
// tensor of 2^31 elements or more.
struct ArgAccess {
  std::vector<bool> written;
  std::vector<Loc> offset32;
};
ArgAccess analyze_arg_access(const Function& fn);

// The pipeline that --emit ir-opt and the backends run, in order.
void optimize(Function& fn);
// The same passes as (name, pass) rows in optimize()'s order, for callers that check the IR
// between passes (the fuzzer: IR that fails the verifier after a pass is that pass's bug).
struct PassRow {
  const char* name;
  void (*run)(Function&);
};
const std::vector<PassRow>& optimization_pipeline();

// Shared by the passes: true for ops with no effect beyond their results.
bool is_pure(const Op& op);
// Rewrites every operand found in `map` (following chains) across the function.
void apply_replacements(Function& fn, const std::unordered_map<Value*, Value*>& map);

}  // namespace tilec
