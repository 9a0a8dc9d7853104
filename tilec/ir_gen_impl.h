// Input: none (definitions). Output: IrGen, the specializer from AST to tile IR, and the values it works on,
// shared by the files that implement it (ir_gen.cpp, ir_gen_statements.cpp, ir_gen_memory.cpp, ir_gen_builtins.cpp).
#pragma once
#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "tilec/ir.h"
#include "tilec/lexer.h"
#include "tilec/libdevice.h"
#include "tilec/lower_loop_returns.h"
#include "tilec/module_scan.h"
#include "tilec/parser.h"
#include "tilec/signature.h"
#include "tilec/standard_library.h"

namespace tilec::ir_gen {

enum class Builtin {
  ProgramId, NumPrograms, Arange, Zeros, ZerosLike, Full, Load, Store, Where, Cdiv, Dot, Sum, Max, Min,
  ArgMax, ArgMin, CumSum, Exp, Exp2, Log, Log2, Sqrt, Rsqrt, Abs, Sin, Cos, Sigmoid, Erf, Floor, Ceil,
  Maximum, Minimum, Fma, Clamp, BroadcastTo, ExpandDims, Reshape, Trans, Permute, Cast, AtomicAdd,
  AtomicMax, AtomicMin, AtomicCas, AtomicXchg, AtomicAnd, AtomicOr, AtomicXor, MultipleOf, MaxContiguous, StaticAssert, DeviceAssert,
  TlRange, StaticRange, PyRange, PyMin, PyMax, PyAbs, PyLen, PyInt, PyFloat, NextPow2, Umulhi, DebugBarrier,
  StaticPrint, DevicePrint, InlineAsm, Libdevice, Rand, Randn, Randint, Randint4x, Rand4x, Randn4x, UintToUniformFloat, PairUniformToNormal, Philox,
  CumProd, Split, Join, Flip, XorSum, MaxConstancy, MakeBlockPtr, Advance, IsTuple, MakeTensorDescriptor,
  LoadTensorDescriptor, StoreTensorDescriptor, IsCuda, IsHip, CudaCapabilityGeq, NumWarps, NumThreads, GlobalTimer, SmId, ConvertCustomFloat8,
};

struct BuiltinSpec {
  const char* name;
  Builtin id;
  std::vector<const char*> params;
  int required;
  bool varargs;  // extra positionals are packed into a tuple bound to the last positional param;
                 // params after a "*" entry are keyword-only (device_print's hex)
};

const BuiltinSpec* find_libdevice_spec(const std::string& name);  // nullptr for a name libdevice_table() lacks

// A block pointer (tl.make_block_ptr): a compile-time record, lowered at each tl.load/tl.store to a
// pointer tile base + sum_d (offsets[d] + arange(block[d])) * strides[d] and a bounds mask. Only
// tl.advance changes it (its offsets), so only the offsets are loop-carried.
// A tensor descriptor (tl.make_tensor_descriptor) is the same record with `descriptor` set: its
// offsets stay 0 and each desc.load/desc.store names its own, with every dim bounds-checked and
// zero (or NaN) padding, as TMA does. The op keeps the descriptor's fields as trailing operands
// (DescAccess): the GPU backend may copy the tile with TMA; otherwise the pointer tile and mask serve.
struct BlockPtr {
  Value* base = nullptr;                        // a scalar pointer
  std::vector<Value*> shape, strides, offsets;  // i64, i64, i32 scalars, one per dim
  std::vector<int64_t> block, order;            // constexpr block shape and dim order
  bool descriptor = false;
  bool nan_padding = false;                     // a descriptor's padding_option="nan"
};

// A value during specialization: an IR value, a compile-time constant, or a Python-level object.
struct SVal {
  enum class Kind { Value, Const, Tuple, Module, Builtin, Helper, Method, ConstexprType, BlockPtr };
  Kind kind = Kind::Const;
  Value* v = nullptr;
  ConstValue c;
  bool dtype_is_ptr = false;  // a Const DType that is a pointer type (x_ptr.dtype)
  bool dtype_is_block = false;  // a Const DType that is a tile's type (x.type): element_ty is the dtype
  std::vector<SVal> items;    // Tuple elements; Method: items[0] is self
  const BuiltinSpec* spec = nullptr;
  std::string name;           // Module, Helper and Method names
  size_t module = 0;          // Helper: index of the file (Module) that defines it
  std::shared_ptr<const BlockPtr> bp;  // BlockPtr

  static SVal of(Value* v) { SVal s; s.kind = Kind::Value; s.v = v; return s; }
  static SVal of(ConstValue c) { SVal s; s.kind = Kind::Const; s.c = std::move(c); return s; }
  static SVal tuple(std::vector<SVal> items) { SVal s; s.kind = Kind::Tuple; s.items = std::move(items); return s; }
  static SVal block_ptr(BlockPtr p) { SVal s; s.kind = Kind::BlockPtr; s.bp = std::make_shared<const BlockPtr>(std::move(p)); return s; }
  bool is_value() const { return kind == Kind::Value; }
  bool is_const(ConstValue::Kind k) const { return kind == Kind::Const && c.kind == k; }
  bool is_number() const {
    return kind == Kind::Const && (c.kind == ConstValue::Kind::Int || c.kind == ConstValue::Kind::Float ||
                                   c.kind == ConstValue::Kind::Bool);
  }
  bool is_none() const { return is_const(ConstValue::Kind::None); }
};

struct Frame {
  std::map<std::string, SVal> env;  // ordered, so loop-carried values come out deterministically
  bool is_helper = false;
  bool returned = false;
  std::optional<SVal> ret;
};

// One Python file of the kernel's code: the kernel's own (index 0) or one whose @jit helpers it
// imports. Names inside a helper resolve in the helper's own file.
struct Module {
  const SourceFile* file = nullptr;
  std::vector<TopLevelDef> defs;
  std::vector<TopLevelConstexpr> globals;
  std::vector<TopLevelImport> imports;
  std::map<std::string, SVal> global_values;  // constexpr globals evaluated so far
  std::set<std::string> evaluating_globals;
  std::map<std::string, std::unique_ptr<FunctionDef>> parsed;
};

class IrGen {
 public:
  IrGen(const SourceFile& file, const std::vector<std::shared_ptr<const SourceFile>>& imported, const Signature& sig,
        const KernelTarget& target, Diagnostics& diags);
  std::unique_ptr<Function> run(const std::string& kernel);

 private:
  // ---- ir_gen.cpp: finding functions, kernel parameters, values, folding, operators, expressions, calls ----
  [[noreturn]] void fail(const Loc& loc, const std::string& msg);
  Builder& b() { return *builder_; }
  void add_module(const SourceFile& file);
  size_t mod_index() const;
  const TopLevelDef* find_def(const std::string& name) const;
  const FunctionDef* parse_def(const std::string& name, const Loc& use);
  static bool is_constexpr_annotation(const Expr* ann);
  void bind_kernel_params(const FunctionDef& def);
  static std::string describe(const SVal& v);
  bool truthy(const SVal& v, const Loc& loc);
  std::string const_str(const SVal& v, const Loc& loc);
  int64_t const_int(const SVal& v, const Loc& loc, const char* what);
  DType const_dtype_arg(const SVal& v, const Loc& loc);
  static DType const_dtype(const ConstValue& c);
  Value* constant(const Type& t, const ConstValue& c, const Loc& loc);
  Value* materialize(const SVal& v, const Loc& loc);
  Value* cast(Value* v, DType t, const Loc& loc);
  Value* broadcast_to(Value* v, const std::vector<int64_t>& shape, const Loc& loc);
  Value* convert(const SVal& v, const Type& t, const Loc& loc);
  static std::vector<int64_t> shape_of(const SVal& v);
  DType dtype_of(const SVal& v, const Loc& loc);
  std::vector<int64_t> joint_shape(const std::vector<const SVal*>& vs, const Loc& loc);
  DType joint_dtype(const SVal& a, const SVal& c, const Loc& loc);
  Value* to_bool(const SVal& v, const Loc& loc);
  SVal fold_binary(BinOp op, const ConstValue& a, const ConstValue& c, const Loc& loc);
  SVal binary(BinOp op, const SVal& a, const SVal& c, const Loc& loc);
  Value* min_max(BinaryKind kind, const SVal& x, const SVal& y, const std::optional<SVal>& propagate, const Loc& loc);
  Value* elementwise(BinaryKind kind, const SVal& a, const SVal& c, const Loc& loc);
  SVal compare(CmpOp op, const SVal& a, const SVal& c, const Loc& loc);
  Value* unary_op(UnaryKind k, Value* x, const Loc& loc);
  SVal unary(UnaryOp op, const SVal& a, const Loc& loc);
  SVal lookup(const std::string& name, const Loc& loc);
  static std::optional<bool> dtype_query(const std::string& q, const SVal& d);
  std::optional<SVal> constexpr_global(const std::string& name, const Loc& use);
  std::optional<SVal> imported(const std::string& name, const Loc& loc);
  std::optional<SVal> imported_helper(const std::string& target);
  static SVal module(const std::string& name);
  static std::optional<DType> dtype_attr(const std::string& n);
  SVal module_attr(const std::string& mod, const std::string& attr, const Loc& loc);
  std::optional<SVal> standard_function(const std::string& name) const;
  SVal eval_attribute(const Expr& e);
  SVal eval_subscript(const Expr& e);
  SVal eval(const Expr& e);
  std::vector<std::optional<SVal>> bind_args(const BuiltinSpec& spec, std::vector<SVal> pos,
                                             std::vector<std::pair<std::string, SVal>> kw, const Loc& loc);
  std::vector<std::optional<SVal>> bind_call(const BuiltinSpec& spec, const Expr& call, std::vector<SVal> self);
  SVal eval_call(const Expr& e);
  SVal call_helper(const SVal& callee, const Expr& call, std::vector<SVal> self = {});

  // ---- ir_gen_statements.cpp: statements, control flow, loop-carried state ----
  // Statements still to run after a block ends normally, innermost first: the rest of a block, or
  // the remaining iterations of a tl.static_range loop. An `if` that returns on some path takes
  // the rest of its block (and of the enclosing blocks and unrolled loops) into each branch, so
  // `if c: return` (early exit) needs no jump in the IR.
  struct ContItem {
    const std::vector<StmtPtr>* block = nullptr;  // run block[index:] ...
    size_t index = 0;
    const Stmt* loop = nullptr;                   // ... or iterations next, next + step, ... of `loop`
    int64_t next = 0, end = 0, step = 1;
  };

  using Continuation = std::vector<ContItem>;
  void exec_block(const std::vector<StmtPtr>& body);
  void exec_seq(const std::vector<StmtPtr>& body, size_t start, const Continuation& cont);
  void resume(const Continuation& cont);
  std::optional<ContItem> static_range_loop(const Stmt& s);
  const std::vector<StmtPtr>& lowered_loop(const Stmt& loop);
  static bool contains_return(const std::vector<StmtPtr>& a, const std::vector<StmtPtr>& b);
  void exec_if_returning(const Stmt& s, const SVal& cond, const Continuation& cont);
  void exec(const Stmt& s);
  void assert_(const SVal& cond, const std::string& msg, const Loc& loc);
  void assign(const Expr& target, const SVal& value);
  static void collect_assigned(const std::vector<StmtPtr>& body, std::set<std::string>& out);
  std::vector<std::string> carried_names(const std::vector<StmtPtr>& body);
  std::vector<Value*> carried_init(const std::string& name, const Loc& loc);
  static SVal carried_bind(const SVal& init, const std::vector<Value*>& vals);
  std::vector<Value*> carried_out(const std::string& name, const SVal& init, const std::vector<Type>& want, const Loc& loc);
  static bool same_block_ptr_frame(const BlockPtr& a, const BlockPtr& c);

  // The loop-carried state of a for/while loop: each name's value at entry and its IR slots.
  struct Carried {
    std::vector<std::string> names;
    std::vector<SVal> inits;
    std::vector<Value*> values;              // every slot's value at entry
    std::vector<std::vector<size_t>> slots;  // per name: indices into `values`
  };

  Carried carried_state(const std::vector<StmtPtr>& body, const std::string& exclude, const Loc& loc);
  void bind_carried(const Carried& c, const std::vector<Value*>& vals);
  std::vector<Value*> carried_values(const Carried& c);
  std::vector<Value*> carried_yields(const Carried& c, const Loc& loc);
  static SVal pointer_truth(SVal v);
  void exec_if(const Stmt& s);
  Type join_type(const std::string& n, const SVal& a, const SVal& b, const Loc& loc);

  struct RangeArgs {
    SVal lb, ub, step;
  };

  RangeArgs range_args(const std::vector<std::optional<SVal>>& a, const Loc& loc);
  void exec_for(const Stmt& s);
  std::vector<bool> drop_invariant_offsets(const Carried& c, const std::vector<Value*>& args, std::vector<Value*>& yields,
                                           Region& body);
  void exec_while(const Stmt& s);

  // ---- ir_gen_memory.cpp: pointers, atomics, memory hints, block pointers, tensor descriptors ----
  SVal descriptor_param(const ArgSpec& spec, const Loc& loc);
  Value* pointer_arg(const std::optional<SVal>& v, const Loc& loc);
  std::vector<int64_t> memory_shape(Value* ptr, const std::vector<const SVal*>& others, const Loc& loc);
  SVal atomic(AtomicKind kind, const std::vector<std::optional<SVal>>& a, const Loc& loc);
  void set_memory_order(Op* op, const std::optional<SVal>& sem, const std::optional<SVal>& scope, const Loc& loc);
  void set_memory_hints(Op* op, const std::vector<std::optional<SVal>>& a, const Loc& loc);
  static std::vector<SVal> dim_items(const SVal& v);
  Value* block_ptr_scalar(const SVal& v, DType t, const char* what, const Loc& loc);
  std::vector<Value*> block_ptr_scalars(const SVal& v, DType t, const char* param, size_t rank, const Loc& loc,
                                        const char* fn = "tl.make_block_ptr");
  SVal make_block_ptr(const std::vector<std::optional<SVal>>& a, const Loc& loc);
  SVal make_tensor_descriptor(const std::vector<std::optional<SVal>>& a, const Loc& loc);
  std::pair<Value*, Value*> descriptor_access(const std::optional<SVal>& desc, const SVal& offsets, const char* fn,
                                               const Loc& loc, std::vector<Value*>* fields);
  SVal load_descriptor(const std::vector<std::optional<SVal>>& a, const Loc& loc);
  void store_descriptor(const std::vector<std::optional<SVal>>& a, const Loc& loc);
  SVal advance(const std::vector<std::optional<SVal>>& a, const Loc& loc);
  std::vector<int64_t> boundary_dims(const std::optional<SVal>& v, size_t rank, const Loc& loc);
  std::pair<Value*, Value*> block_access(const BlockPtr& p, const std::vector<int64_t>& checked, const Loc& loc);
  SVal load_block(const std::vector<std::optional<SVal>>& a, const Loc& loc);
  void store_block(const std::vector<std::optional<SVal>>& a, const Loc& loc);

  // ---- ir_gen_builtins.cpp: builtins ----
  Value* tile_arg(const std::optional<SVal>& v, const Loc& loc, const char* what);
  std::vector<int64_t> shape_arg(const SVal& v, const Loc& loc);
  void check_tile_size(const std::vector<int64_t>& shape, const Loc& loc);
  Value* float_operand(const SVal& v, const Loc& loc);
  Value* where(const SVal& cond, const SVal& x, const SVal& y, const Loc& loc);
  Value* permute(Value* v, const std::vector<int64_t>& order, const Loc& loc);
  Value* reshape(Value* v, const std::vector<int64_t>& shape, const Loc& loc);
  int norm_axis(int64_t axis, size_t rank, const Loc& loc);
  SVal reduce(ReduceKind kind, const std::vector<std::optional<SVal>>& a, bool keep_dims, const Loc& loc,
              std::optional<DType> acc_dtype = std::nullopt);
  static std::optional<DType> sum_dtype(DType t);
  bool flag(const std::optional<SVal>& v, const Loc& loc);
  SVal device_print(const std::vector<std::optional<SVal>>& a, const Loc& loc);
  SVal inline_asm(const std::vector<std::optional<SVal>>& a, const Loc& loc);
  SVal special_register(const char* fn, const char* ptx, const char* constraint, DType t, bool pure, const Loc& loc);
  SVal call_builtin(const BuiltinSpec& spec, const std::vector<std::optional<SVal>>& a, const Loc& loc);
  Value* arange2(const Loc& loc);
  std::array<Value*, 2> split_last(Value* x, const Loc& loc);
  Value* join(const SVal& a, const SVal& c, const Loc& loc);
  Value* move_axis_last(Value* x, int axis, bool inverse, const Loc& loc);
  Value* binary_dims(Value* x, int axis, int* steps, const Loc& loc);
  Value* flip(Value* x, int dim, const Loc& loc);
  Value* xor_reduce(Value* x, int axis, const Loc& loc);
  SVal k(int64_t v);
  SVal umulhi(const SVal& x, const SVal& y, const Loc& loc);
  std::array<SVal, 4> philox(const SVal& seed_in, std::array<SVal, 4> c, const std::optional<SVal>& rounds_arg, const Loc& loc);
  std::array<SVal, 4> randint4x(const SVal& seed, const SVal& offset, const std::optional<SVal>& rounds, const Loc& loc);
  SVal uint_to_uniform_float(const SVal& x_in, const Loc& loc);
  std::array<SVal, 2> pair_uniform_to_normal(const SVal& u1_in, const SVal& u2, const Loc& loc);
  SVal random_builtin(Builtin id, const std::vector<std::optional<SVal>>& a, const Loc& loc);
  SVal libdevice_call(const BuiltinSpec& spec, const std::vector<std::optional<SVal>>& a, const Loc& loc);
  SVal dot(const std::vector<std::optional<SVal>>& a, const Loc& loc);

  const Signature& sig_;
  const KernelTarget target_;
  Diagnostics& diags_;
  std::vector<std::unique_ptr<Module>> modules_;
  size_t std_module_ = 0;  // modules_ index of the standard library
  std::map<const Stmt*, std::vector<StmtPtr>> lowered_loops_;  // lowered_loop()'s, kept while they run
  int next_flag_id_ = 0;
  std::optional<std::pair<Loc, std::string>> std_call_;  // the user's tl.* call into the standard library, and its name
  Module* mod_ = nullptr;  // the file whose code runs now
  std::unique_ptr<Function> fn_;
  std::optional<Builder> builder_;
  Frame* frame_ = nullptr;
  std::vector<std::string> call_stack_;
  int depth_ = 0;
};

}  // namespace tilec::ir_gen
