// Input: none (definitions). Output: the tile IR: SSA Values typed scalar/pointer/tile, Ops with
// a Loc each, structured regions for for/if/while; a Function owns every Op and Value it holds.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tilec/source.h"
#include "tilec/types.h"

namespace tilec {

enum class OpKind {
  Constant,     // ival (ints, i1) or fval (floats); a tile result is that constant everywhere
  ProgramId,    // axis -> i32
  NumPrograms,  // axis -> i32
  Arange,       // ints = {start, end} -> tile<end-start x i32>
  Splat,        // scalar -> tile of the result shape
  Broadcast,    // tile -> tile of equal rank; source dims are 1 or equal to the result's
  ExpandDims,   // axis: insert a dim of size 1
  Reshape,      // same numel, row-major element order kept
  Permute,      // ints = order; result dim i is source dim order[i]
  Cast,         // numeric conversion to the result dtype (same shape)
  Binary,       // binary; operands and result share one type (pointers excluded)
  Compare,      // cmp; operands share one type; result i1 of that shape
  Unary,        // unary; result type = operand type
  Fma,          // a * b + c, all one float type
  Libdevice,    // str = a libdevice_table() name; operands of one float type -> that type, or i32 flags
  Select,       // cond (i1), a, b of one shape -> a's type
  AddPtr,       // ptr, int offset of the same shape -> ptr (offset counts elements)
  Load,         // ptr [, mask [, other]] (has_mask, has_other) -> value of the pointee dtype; cache, evict,
                // is_volatile: tl.load's cache_modifier=, eviction_policy=, volatile= (PTX qualifiers);
                // desc_rank > 0: a tensor descriptor's access, its fields after those (DescAccess)
  Store,        // ptr, value [, mask] (has_mask); no result; cache, evict: tl.store's cache_modifier=, eviction_policy=;
                // desc_rank as for Load
  Reduce,       // reduce, axis over a tile; result drops that dim (scalar from rank 1)
  Scan,         // scan (inclusive) along axis; same type
  Dot,          // a (MxK), b (KxN), acc (MxN) -> acc's type; precision
  AtomicRMW,    // atomic; ptr, val [, mask] -> old values; sem, scope: tl.atomic_*'s memory order
  AtomicCAS,    // ptr, cmp, val -> old values; sem, scope
  Assert,       // cond [, ptr, base, extent]; str = message; traps where cond is false (a bounds
                // check also reports ptr - base and extent, in elements)
  Barrier,      // no operands or results: every thread of the program reaches it before any passes (tl.debug_barrier)
  Print,        // values...; no result: prints each element once per program (tl.device_print); str = prefix, ival = hex
  InlineAsm,    // args... (one shape) -> results of that shape: str = PTX text ($N operands), aux = constraints,
                // ival = pack (elements per asm instance), ints = {is_pure}; GPU only (tl.inline_asm_elementwise)
  Hint,         // hint with ints = values per dim; result = operand (alignment facts for codegen)
  For,          // lb, ub, step, inits...; region 0 args = (iv, iters...); results = final iters; ival = num_stages (0: the launch's)
  If,           // cond; region 0 = then, region 1 = else, both end in Yield; results
  While,        // inits...; region 0 (before) ends in Condition; region 1 (after) ends in Yield
  Yield,        // operands = region results
  Condition,    // cond, values...: continue while cond holds, passing values to region 1
};

enum class BinaryKind { Add, Sub, Mul, Div, Rem, Shl, Shr, And, Or, Xor, Max, Min };
enum class CmpKind { Eq, Ne, Lt, Le, Gt, Ge };
enum class UnaryKind { Neg, Not, Exp, Exp2, Log, Log2, Sqrt, Rsqrt, Abs, Sin, Cos, Erf, Floor, Ceil };
enum class ReduceKind { Sum, Max, Min, ArgMax, ArgMin };
enum class ScanKind { CumSum, CumProd };
enum class AtomicKind { Add, Max, Min, Xchg, And, Or, Xor };
// Triton's sem= and scope= of an atomic; the defaults are Triton's (acq_rel, gpu).
enum class MemSem { Relaxed, Acquire, Release, AcqRel };
enum class MemScope { Gpu, Cta, Sys };
enum class HintKind { MultipleOf, MaxContiguous, MaxConstancy };
enum class DotPrecision { IEEE, TF32 };
// Triton's cache modifiers: loads take .ca .cg .cv, stores .wb .cg .cs .wt; eviction is L1's.
enum class CacheModifier { None, CA, CG, CV, WB, CS, WT };
enum class EvictionPolicy { Normal, EvictFirst, EvictLast };

const char* op_name(OpKind k);
const char* binary_name(BinaryKind k);
const char* cmp_name(CmpKind k);
const char* unary_name(UnaryKind k);
const char* reduce_name(ReduceKind k);
const char* scan_name(ScanKind k);
const char* atomic_name(AtomicKind k);
const char* sem_name(MemSem s);      // "acq_rel"
const char* scope_name(MemScope s);  // "gpu"
const char* hint_name(HintKind k);
const char* cache_modifier_name(CacheModifier c);   // ".cg", "" for None
const char* eviction_policy_name(EvictionPolicy e);  // "evict_first", "" for Normal

struct Op;

struct Value {
  int id = 0;           // unique within the Function, in creation order
  Type type;
  Op* def = nullptr;    // null for function and region arguments
  std::string name;     // source variable it was bound to, if any (for readable output)
};

struct Region {
  std::vector<Value*> args;
  std::vector<Op*> ops;
};

struct Op {
  OpKind kind = OpKind::Constant;
  Loc loc;
  std::vector<Value*> operands;
  std::vector<Value*> results;
  std::vector<Region> regions;
  // Attributes; which ones are meaningful depends on kind (see OpKind).
  int64_t ival = 0;
  double fval = 0;
  int axis = 0;
  std::vector<int64_t> ints;
  std::string str;
  BinaryKind binary = BinaryKind::Add;
  CmpKind cmp = CmpKind::Eq;
  UnaryKind unary = UnaryKind::Neg;
  ReduceKind reduce = ReduceKind::Sum;
  ScanKind scan = ScanKind::CumSum;
  AtomicKind atomic = AtomicKind::Add;
  MemSem sem = MemSem::AcqRel;        // AtomicRMW, AtomicCAS
  MemScope scope = MemScope::Gpu;     // AtomicRMW, AtomicCAS
  HintKind hint = HintKind::MultipleOf;
  DotPrecision precision = DotPrecision::IEEE;
  bool has_mask = false;
  bool has_other = false;
  CacheModifier cache = CacheModifier::None;     // Load, Store
  EvictionPolicy evict = EvictionPolicy::Normal;  // Load, Store
  bool is_volatile = false;                       // Load
  // Load, Store of a tensor descriptor: the descriptor's rank. The access is still the pointer
  // tile and mask before; the trailing operands keep what a TMA copy needs (DescAccess).
  int desc_rank = 0;
  std::string aux;                                // InlineAsm: constraints

  Value* result() const { return results.at(0); }
};

// The trailing operands of a descriptor Load/Store: base pointer, shape (i64), strides (i64, in
// elements) and the access's offsets (i32), outermost dim first.
struct DescAccess {
  Value* base = nullptr;
  std::vector<Value*> shape, strides, offsets;
};
// The fields of a descriptor access; nullopt for any other op.
std::optional<DescAccess> desc_access(const Op& op);
// How many operands an access has before the descriptor's fields.
size_t desc_operands_begin(const Op& op);

// Facts about a kernel argument that specialization promises (Triton's "16" specialization).
struct ArgInfo {
  std::string name;
  int divisibility = 1;  // pointer: byte alignment known (16 or 1); integer: value divisible by
};

struct Function {
  std::string name;
  Loc loc;
  std::vector<std::string> params;  // every parameter of the def, in order, constexprs included
  std::vector<Value*> args;      // runtime arguments only (constexprs are folded away)
  std::vector<ArgInfo> arg_info; // parallel to args
  std::vector<std::pair<std::string, std::string>> constexprs;  // name, printed value
  Region body;

  Value* new_value(Type type, std::string name = {});
  Op* new_op(OpKind kind, Loc loc);
  int value_count() const { return static_cast<int>(values_.size()); }

 private:
  std::vector<std::unique_ptr<Value>> values_;
  std::vector<std::unique_ptr<Op>> ops_;
};

// Appends ops at the end of a region; sema and the passes build IR through it.
class Builder {
 public:
  Builder(Function& fn, Region* region) : fn_(fn), region_(region) {}
  Region* region() const { return region_; }
  void set_region(Region* r) { region_ = r; }
  Function& function() const { return fn_; }
  // Creates an op with the given operands and one result per type in `result_types`.
  Op* create(OpKind kind, Loc loc, std::vector<Value*> operands, const std::vector<Type>& result_types);

 private:
  Function& fn_;
  Region* region_;
};

// Extra printed text after a value's type and before an op's loc (gpu-ir prints layouts so).
struct IrAnnotations {
  std::function<std::string(const Value&)> value;
  std::function<std::string(const Op&)> op;
};

// Deterministic text form, values numbered in print order, each op followed by its loc.
std::string print_ir(const Function& fn, const IrAnnotations* notes = nullptr);

// Structural and type checks of every op; reports to diags, returns false on any error.
bool verify_ir(const Function& fn, Diagnostics& diags);

// Calls `f(op)` for every op, pre-order, including ops nested in regions.
template <class F>
void walk_ops(const Region& r, F&& f) {
  for (Op* op : r.ops) {
    f(op);
    for (const Region& sub : op->regions) walk_ops(sub, f);
  }
}

}  // namespace tilec
