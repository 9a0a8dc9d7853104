// Input: a Python module's text, a kernel name and a Signature. Output: typed tile IR of the
// kernel: constexprs folded, constexpr `if`s pruned, static_range unrolled, helpers inlined.
// Invariant: every emitted op has the Loc of the expression it comes from; the first error aborts.
#include "tilec/ir_gen.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "tilec/lexer.h"
#include "tilec/module_scan.h"
#include "tilec/parser.h"

namespace tilec {
namespace {

enum class Builtin {
  ProgramId, NumPrograms, Arange, Zeros, ZerosLike, Full, Load, Store, Where, Cdiv, Dot, Sum, Max, Min,
  ArgMax, ArgMin, CumSum, Exp, Exp2, Log, Log2, Sqrt, Rsqrt, Abs, Sin, Cos, Sigmoid, Erf, Floor, Ceil,
  Maximum, Minimum, Fma, Clamp, BroadcastTo, ExpandDims, Reshape, Trans, Permute, Cast, AtomicAdd,
  AtomicMax, AtomicMin, AtomicCas, AtomicXchg, MultipleOf, MaxContiguous, StaticAssert, DeviceAssert,
  TlRange, StaticRange, PyRange, PyMin, PyMax, PyAbs, PyLen, PyInt, PyFloat,
};

struct BuiltinSpec {
  const char* name;
  Builtin id;
  std::vector<const char*> params;
  int required;
  bool varargs;  // extra positionals are packed into a tuple bound to the last param
};

// Parameter names follow triton.language so that keyword calls written for Triton work.
const std::vector<BuiltinSpec>& builtin_specs() {
  static const std::vector<BuiltinSpec> specs = {
      {"program_id", Builtin::ProgramId, {"axis"}, 1, false},
      {"num_programs", Builtin::NumPrograms, {"axis"}, 1, false},
      {"arange", Builtin::Arange, {"start", "end"}, 2, false},
      {"zeros", Builtin::Zeros, {"shape", "dtype"}, 2, false},
      {"zeros_like", Builtin::ZerosLike, {"input"}, 1, false},
      {"full", Builtin::Full, {"shape", "value", "dtype"}, 3, false},
      {"load", Builtin::Load, {"pointer", "mask", "other", "boundary_check", "padding_option", "cache_modifier", "eviction_policy", "volatile"}, 1, false},
      {"store", Builtin::Store, {"pointer", "value", "mask", "boundary_check", "cache_modifier", "eviction_policy"}, 2, false},
      {"where", Builtin::Where, {"condition", "x", "y"}, 3, false},
      {"cdiv", Builtin::Cdiv, {"x", "div"}, 2, false},
      {"dot", Builtin::Dot, {"input", "other", "acc", "input_precision", "allow_tf32", "max_num_imprecise_acc", "out_dtype"}, 2, false},
      {"sum", Builtin::Sum, {"input", "axis", "keep_dims", "dtype"}, 1, false},
      {"max", Builtin::Max, {"input", "axis", "return_indices", "return_indices_tie_break_left", "keep_dims"}, 1, false},
      {"min", Builtin::Min, {"input", "axis", "return_indices", "return_indices_tie_break_left", "keep_dims"}, 1, false},
      {"argmax", Builtin::ArgMax, {"input", "axis", "tie_break_left", "keep_dims"}, 2, false},
      {"argmin", Builtin::ArgMin, {"input", "axis", "tie_break_left", "keep_dims"}, 2, false},
      {"cumsum", Builtin::CumSum, {"input", "axis", "reverse", "dtype"}, 1, false},
      {"exp", Builtin::Exp, {"x"}, 1, false},
      {"exp2", Builtin::Exp2, {"x"}, 1, false},
      {"log", Builtin::Log, {"x"}, 1, false},
      {"log2", Builtin::Log2, {"x"}, 1, false},
      {"sqrt", Builtin::Sqrt, {"x"}, 1, false},
      {"rsqrt", Builtin::Rsqrt, {"x"}, 1, false},
      {"abs", Builtin::Abs, {"x"}, 1, false},
      {"sin", Builtin::Sin, {"x"}, 1, false},
      {"cos", Builtin::Cos, {"x"}, 1, false},
      {"sigmoid", Builtin::Sigmoid, {"x"}, 1, false},
      {"erf", Builtin::Erf, {"x"}, 1, false},
      {"floor", Builtin::Floor, {"x"}, 1, false},
      {"ceil", Builtin::Ceil, {"x"}, 1, false},
      {"maximum", Builtin::Maximum, {"x", "y", "propagate_nan"}, 2, false},
      {"minimum", Builtin::Minimum, {"x", "y", "propagate_nan"}, 2, false},
      {"fma", Builtin::Fma, {"x", "y", "z"}, 3, false},
      {"clamp", Builtin::Clamp, {"x", "min", "max", "propagate_nan"}, 3, false},
      {"broadcast_to", Builtin::BroadcastTo, {"input", "shape"}, 2, true},
      {"expand_dims", Builtin::ExpandDims, {"input", "axis"}, 2, false},
      {"reshape", Builtin::Reshape, {"input", "shape"}, 2, true},
      {"view", Builtin::Reshape, {"input", "shape"}, 2, true},
      {"trans", Builtin::Trans, {"input", "dims"}, 1, true},
      {"permute", Builtin::Permute, {"input", "dims"}, 2, true},
      {"cast", Builtin::Cast, {"input", "dtype", "fp_downcast_rounding", "bitcast"}, 2, false},
      {"to", Builtin::Cast, {"input", "dtype", "fp_downcast_rounding", "bitcast"}, 2, false},
      {"atomic_add", Builtin::AtomicAdd, {"pointer", "val", "mask", "sem", "scope"}, 2, false},
      {"atomic_max", Builtin::AtomicMax, {"pointer", "val", "mask", "sem", "scope"}, 2, false},
      {"atomic_min", Builtin::AtomicMin, {"pointer", "val", "mask", "sem", "scope"}, 2, false},
      {"atomic_xchg", Builtin::AtomicXchg, {"pointer", "val", "mask", "sem", "scope"}, 2, false},
      {"atomic_cas", Builtin::AtomicCas, {"pointer", "cmp", "val", "sem", "scope"}, 3, false},
      {"multiple_of", Builtin::MultipleOf, {"input", "values"}, 2, false},
      {"max_contiguous", Builtin::MaxContiguous, {"input", "values"}, 2, false},
      {"static_assert", Builtin::StaticAssert, {"cond", "msg"}, 1, false},
      {"device_assert", Builtin::DeviceAssert, {"cond", "msg", "mask"}, 1, false},
      {"range", Builtin::TlRange, {"arg1", "arg2", "step", "num_stages", "loop_unroll_factor", "flatten", "warp_specialize"}, 1, false},
      {"static_range", Builtin::StaticRange, {"arg1", "arg2", "step"}, 1, false},
  };
  return specs;
}

const std::vector<BuiltinSpec>& python_builtin_specs() {
  static const std::vector<BuiltinSpec> specs = {
      {"range", Builtin::PyRange, {"arg1", "arg2", "step"}, 1, false},
      {"min", Builtin::PyMin, {"args"}, 1, true},
      {"max", Builtin::PyMax, {"args"}, 1, true},
      {"abs", Builtin::PyAbs, {"x"}, 1, false},
      {"len", Builtin::PyLen, {"obj"}, 1, false},
      {"int", Builtin::PyInt, {"x"}, 1, false},
      {"float", Builtin::PyFloat, {"x"}, 1, false},
  };
  return specs;
}

// Tile methods that behave as the tl function of the same name with the tile first.
bool is_tile_method(const std::string& name) {
  static const std::set<std::string> methods = {
      "to", "sum", "max", "min", "argmax", "argmin", "cumsum", "exp", "exp2", "log", "log2", "sqrt", "rsqrt",
      "abs", "sin", "cos", "sigmoid", "erf", "floor", "ceil", "broadcast_to", "expand_dims", "reshape", "view",
      "trans", "permute", "cast"};
  return methods.count(name) > 0;
}

const BuiltinSpec* find_spec(const std::vector<BuiltinSpec>& specs, const std::string& name) {
  for (const BuiltinSpec& s : specs)
    if (name == s.name) return &s;
  return nullptr;
}

// A value during specialization: an IR value, a compile-time constant, or a Python-level object.
struct SVal {
  enum class Kind { Value, Const, Tuple, Module, Builtin, Helper, Method, ConstexprType };
  Kind kind = Kind::Const;
  Value* v = nullptr;
  ConstValue c;
  bool dtype_is_ptr = false;  // a Const DType that is a pointer type (x_ptr.dtype)
  std::vector<SVal> items;    // Tuple elements; Method: items[0] is self
  const BuiltinSpec* spec = nullptr;
  std::string name;           // Module, Helper and Method names

  static SVal of(Value* v) { SVal s; s.kind = Kind::Value; s.v = v; return s; }
  static SVal of(ConstValue c) { SVal s; s.kind = Kind::Const; s.c = std::move(c); return s; }
  static SVal tuple(std::vector<SVal> items) { SVal s; s.kind = Kind::Tuple; s.items = std::move(items); return s; }
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
  int runtime_nesting = 0;  // depth of runtime for/if/while around the current statement
};

std::vector<int64_t> drop_dim(std::vector<int64_t> s, int axis) {
  s.erase(s.begin() + axis);
  return s;
}

class IrGen {
 public:
  IrGen(const SourceFile& file, const Signature& sig, Diagnostics& diags)
      : file_(file), sig_(sig), diags_(diags), defs_(scan_module(file)) {}

  std::unique_ptr<Function> run(const std::string& kernel) {
    try {
      const FunctionDef* def = parse_def(kernel, Loc{&file_, 1, 1});
      fn_ = std::make_unique<Function>();
      fn_->name = kernel;
      fn_->loc = def->loc;
      builder_.emplace(*fn_, &fn_->body);
      Frame frame;
      frame_ = &frame;
      bind_kernel_params(*def);
      exec_block(def->body);
    } catch (const AbortStage&) {
      return nullptr;
    }
    if (diags_.has_errors()) return nullptr;
    return std::move(fn_);
  }

 private:
  [[noreturn]] void fail(const Loc& loc, const std::string& msg) {
    diags_.error(loc, msg);
    throw AbortStage{};
  }

  Builder& b() { return *builder_; }

  // ---- Finding and parsing functions of the module ----

  const TopLevelDef* find_def(const std::string& name) const {
    for (const TopLevelDef& d : defs_)
      if (d.name == name) return &d;
    return nullptr;
  }

  const FunctionDef* parse_def(const std::string& name, const Loc& use) {
    auto it = parsed_.find(name);
    if (it != parsed_.end()) return it->second.get();
    const TopLevelDef* d = find_def(name);
    if (!d) fail(use, "no top-level function named '" + name + "' in " + file_.path());
    std::vector<Token> tokens = lex(file_, d->first_line, d->last_line, diags_);
    if (diags_.has_errors()) throw AbortStage{};
    std::unique_ptr<FunctionDef> fn = parse_function(tokens, diags_);
    if (!fn || diags_.has_errors()) throw AbortStage{};
    return (parsed_[name] = std::move(fn)).get();
  }

  static bool is_constexpr_annotation(const Expr* ann) {
    if (!ann) return false;
    if (ann->kind == ExprKind::Name) return ann->name == "constexpr";
    if (ann->kind == ExprKind::Attribute) return ann->name == "constexpr";
    if (ann->kind == ExprKind::Str) return ann->name.find("constexpr") != std::string::npos;
    return false;
  }

  void bind_kernel_params(const FunctionDef& def) {
    std::set<std::string> params;
    for (const Param& p : def.params) {
      params.insert(p.name);
      fn_->params.push_back(p.name);
      const ArgSpec* spec = sig_.find(p.name);
      bool constexpr_param = is_constexpr_annotation(p.annotation.get());
      if (constexpr_param || (spec && spec->kind == ArgKind::Constexpr)) {
        SVal value;
        if (spec && spec->kind == ArgKind::Constexpr) {
          value = SVal::of(spec->value);
        } else if (spec) {
          fail(p.loc, "'" + p.name + "' is a tl.constexpr parameter but the signature gives it a runtime type; pass its value as a constexpr (" + p.name + "=VALUE)");
        } else if (p.default_value) {
          value = eval(*p.default_value);
          if (value.kind != SVal::Kind::Const) fail(p.loc, "default of constexpr '" + p.name + "' is not a constant");
        } else {
          fail(p.loc, "missing value for constexpr parameter '" + p.name + "'; pass it as " + p.name + "=VALUE");
        }
        fn_->constexprs.emplace_back(p.name, value.c.str());
        frame_->env[p.name] = value;
        continue;
      }
      if (!spec) fail(p.loc, "no type given for argument '" + p.name + "'; add it to the signature (e.g. " + p.name + ":*fp32 or " + p.name + ":i32)");
      Type t = spec->kind == ArgKind::Pointer ? Type::pointer(spec->dtype) : Type::scalar(spec->dtype);
      Value* v = fn_->new_value(t, p.name);
      fn_->args.push_back(v);
      fn_->arg_info.push_back(ArgInfo{p.name, spec->divisibility});
      frame_->env[p.name] = SVal::of(v);
    }
    for (const ArgSpec& a : sig_.args)
      if (!params.count(a.name))
        fail(def.loc, "the signature names '" + a.name + "', which is not a parameter of '" + def.name + "'");
  }

  // ---- Statements ----

  void exec_block(const std::vector<StmtPtr>& body) {
    for (const StmtPtr& s : body) {
      if (frame_->returned) return;
      exec(*s);
    }
  }

  void exec(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::Assign: {
        SVal value = eval(*s.value);
        for (const ExprPtr& t : s.targets) assign(*t, value);
        return;
      }
      case StmtKind::AugAssign: {
        if (s.target->kind != ExprKind::Name) fail(s.target->loc, "augmented assignment needs a plain name on the left");
        SVal cur = lookup(s.target->name, s.target->loc);
        assign(*s.target, binary(s.aug_op, cur, eval(*s.value), s.loc));
        return;
      }
      case StmtKind::AnnAssign:
        if (s.value) assign(*s.target, eval(*s.value));
        return;
      case StmtKind::If: exec_if(s); return;
      case StmtKind::For: exec_for(s); return;
      case StmtKind::While: exec_while(s); return;
      case StmtKind::Return: {
        if (frame_->runtime_nesting > 0)
          fail(s.loc, "'return' inside a runtime for/while/if is not supported; assign the result to a variable and return once at the end of the function");
        if (!frame_->is_helper && s.value)
          fail(s.loc, "a kernel cannot return a value; store results through a pointer with tl.store");
        frame_->ret = s.value ? eval(*s.value) : SVal::of(ConstValue{});
        frame_->returned = true;
        return;
      }
      case StmtKind::Pass: return;
      case StmtKind::Break: fail(s.loc, "'break' is not supported in kernels; use a while loop with a condition");
      case StmtKind::Continue: fail(s.loc, "'continue' is not supported in kernels; guard the loop body with an if");
      case StmtKind::Assert: {
        SVal cond = eval(*s.test);
        std::string msg = s.msg ? const_str(eval(*s.msg), s.msg->loc) : "";
        assert_(cond, msg, s.loc);
        return;
      }
      case StmtKind::ExprStmt:
        if (s.value->kind == ExprKind::Str) return;  // a string statement is a comment
        eval(*s.value);
        return;
    }
  }

  void assert_(const SVal& cond, const std::string& msg, const Loc& loc) {
    if (cond.kind == SVal::Kind::Const) {
      if (!truthy(cond, loc)) fail(loc, "static assertion failed" + (msg.empty() ? "" : ": " + msg));
      return;
    }
    Value* c = to_bool(cond, loc);
    Op* op = b().create(OpKind::Assert, loc, {c}, {});
    op->str = msg.empty() ? file_.path() + ":" + std::to_string(loc.line) + ": device assertion failed" : msg;
  }

  void assign(const Expr& target, const SVal& value) {
    switch (target.kind) {
      case ExprKind::Name:
        if (value.is_value() && value.v->name.empty() && value.v->def) value.v->name = target.name;
        frame_->env[target.name] = value;
        return;
      case ExprKind::Tuple: {
        if (value.kind != SVal::Kind::Tuple) fail(target.loc, "cannot unpack " + describe(value) + " into " + std::to_string(target.args.size()) + " names");
        if (value.items.size() != target.args.size())
          fail(target.loc, "cannot unpack " + std::to_string(value.items.size()) + " values into " + std::to_string(target.args.size()) + " names");
        for (size_t i = 0; i < target.args.size(); ++i) assign(*target.args[i], value.items[i]);
        return;
      }
      case ExprKind::Subscript: fail(target.loc, "item assignment is not supported: tiles are immutable values; build the new tile with tl.where");
      case ExprKind::Attribute: fail(target.loc, "attribute assignment is not supported in kernels");
      case ExprKind::Int: case ExprKind::Float: case ExprKind::Bool: case ExprKind::None: case ExprKind::Str:
      case ExprKind::Slice: case ExprKind::Call: case ExprKind::Binary: case ExprKind::Unary: case ExprKind::BoolOp:
      case ExprKind::Compare: case ExprKind::IfExp:
        fail(target.loc, "cannot assign to this expression");
    }
  }

  static void collect_assigned(const std::vector<StmtPtr>& body, std::set<std::string>& out) {
    std::function<void(const Expr&)> target = [&](const Expr& e) {
      if (e.kind == ExprKind::Name) out.insert(e.name);
      if (e.kind == ExprKind::Tuple)
        for (const ExprPtr& a : e.args) target(*a);
    };
    for (const StmtPtr& s : body) {
      for (const ExprPtr& t : s->targets) target(*t);
      if (s->target && s->kind != StmtKind::For) target(*s->target);
      if (s->kind == StmtKind::For && s->target) target(*s->target);
      collect_assigned(s->body, out);
      collect_assigned(s->orelse, out);
    }
  }

  // Names assigned in `body` that hold numbers or tiles before it: the loop-carried state.
  std::vector<std::string> carried_names(const std::vector<StmtPtr>& body) {
    std::set<std::string> assigned;
    collect_assigned(body, assigned);
    std::vector<std::string> out;
    for (const std::string& n : assigned) {
      auto it = frame_->env.find(n);
      if (it != frame_->env.end() && (it->second.is_value() || it->second.is_number())) out.push_back(n);
    }
    return out;
  }

  // The IR value for a carried name at loop entry: constexpr numbers become runtime values.
  Value* carried_init(const std::string& name, const Loc& loc) { return materialize(frame_->env.at(name), loc); }

  // Converts what the body left in `name` to the carried type `want`.
  Value* carried_out(const std::string& name, const Type& want, const Loc& loc) {
    auto it = frame_->env.find(name);
    if (it == frame_->env.end()) fail(loc, "loop-carried variable '" + name + "' is no longer defined at the end of the loop body");
    const SVal& v = it->second;
    if (v.kind == SVal::Kind::Const && v.is_number()) return constant(want, v.c, loc);
    if (!v.is_value()) fail(loc, "loop-carried variable '" + name + "' became " + describe(v));
    Value* x = v.v;
    if (x->type == want) return x;
    if (x->type.element() == want.element() && broadcast_shapes(x->type.shape, want.shape) == want.shape)
      return broadcast_to(x, want.shape, loc);
    fail(loc, "loop-carried variable '" + name + "' has type " + want.str() + " before the loop but " + x->type.str() +
                  " at the end of the body; keep its type the same (use .to() or tl.broadcast_to)");
  }

  void exec_if(const Stmt& s) {
    SVal cond = eval(*s.test);
    if (cond.kind == SVal::Kind::Const) {
      exec_block(truthy(cond, s.test->loc) ? s.body : s.orelse);
      return;
    }
    Value* c = to_bool(cond, s.test->loc);
    if (c->type.is_tile()) fail(s.test->loc, "an 'if' condition must be a scalar, got " + c->type.str() + "; use tl.where for elementwise choices");
    Op* op = b().create(OpKind::If, s.loc, {c}, {});
    op->regions.resize(2);
    Region* saved = b().region();
    std::map<std::string, SVal> before = frame_->env;
    ++frame_->runtime_nesting;
    b().set_region(&op->regions[0]);
    exec_block(s.body);
    std::map<std::string, SVal> then_env = frame_->env;
    frame_->env = before;
    b().set_region(&op->regions[1]);
    exec_block(s.orelse);
    std::map<std::string, SVal> else_env = frame_->env;
    --frame_->runtime_nesting;

    std::set<std::string> assigned;
    collect_assigned(s.body, assigned);
    collect_assigned(s.orelse, assigned);
    std::vector<std::string> results;
    std::vector<Type> types;
    frame_->env = before;
    for (const std::string& n : assigned) {
      auto t = then_env.find(n), e = else_env.find(n);
      if (t == then_env.end() || e == else_env.end()) {
        frame_->env.erase(n);
        continue;
      }
      const SVal &tv = t->second, &ev = e->second;
      if (tv.kind == SVal::Kind::Const && ev.kind == SVal::Kind::Const && tv.c.str() == ev.c.str()) {
        frame_->env[n] = tv;
        continue;
      }
      if (!(tv.is_value() || tv.is_number()) || !(ev.is_value() || ev.is_number()))
        fail(s.loc, "variable '" + n + "' is " + describe(tv) + " in one branch and " + describe(ev) + " in the other");
      Type ty = join_type(n, tv, ev, s.loc);
      results.push_back(n);
      types.push_back(ty);
    }
    std::vector<Value*> then_vals, else_vals;
    b().set_region(&op->regions[0]);
    for (size_t i = 0; i < results.size(); ++i) then_vals.push_back(convert(then_env.at(results[i]), types[i], s.loc));
    b().create(OpKind::Yield, s.loc, then_vals, {});
    b().set_region(&op->regions[1]);
    for (size_t i = 0; i < results.size(); ++i) else_vals.push_back(convert(else_env.at(results[i]), types[i], s.loc));
    b().create(OpKind::Yield, s.loc, else_vals, {});
    b().set_region(saved);
    for (size_t i = 0; i < results.size(); ++i) {
      Value* r = fn_->new_value(types[i], results[i]);
      r->def = op;
      op->results.push_back(r);
      frame_->env[results[i]] = SVal::of(r);
    }
  }

  Type join_type(const std::string& n, const SVal& a, const SVal& b, const Loc& loc) {
    if (a.is_value() && b.is_value()) {
      if (a.v->type == b.v->type) return a.v->type;
      if (a.v->type.element() == b.v->type.element())
        if (auto s = broadcast_shapes(a.v->type.shape, b.v->type.shape)) return a.v->type.with_shape(*s);
      fail(loc, "variable '" + n + "' has type " + a.v->type.str() + " in one branch and " + b.v->type.str() + " in the other");
    }
    if (a.is_value()) return a.v->type;
    if (b.is_value()) return b.v->type;
    DType t = promote(const_dtype(a.c), false, const_dtype(b.c), false);
    return Type::scalar(t);
  }

  struct RangeArgs {
    SVal lb, ub, step;
  };

  RangeArgs range_args(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    RangeArgs r;
    if (a[1]) {
      r.lb = *a[0];
      r.ub = *a[1];
    } else {
      r.lb = SVal::of(ConstValue::of_int(0));
      r.ub = *a[0];
    }
    r.step = a[2] ? *a[2] : SVal::of(ConstValue::of_int(1));
    for (const SVal* v : {&r.lb, &r.ub, &r.step}) {
      bool ok = v->is_const(ConstValue::Kind::Int) || (v->is_value() && !v->v->type.is_tile() && is_int(v->v->type.dtype) && !v->v->type.is_ptr);
      if (!ok) fail(loc, "range bounds must be integer scalars, got " + describe(*v));
    }
    if (r.step.is_const(ConstValue::Kind::Int) && r.step.c.i == 0) fail(loc, "range step must not be zero");
    return r;
  }

  void exec_for(const Stmt& s) {
    const Expr& it = *s.iter;
    if (it.kind != ExprKind::Call) fail(it.loc, "a for loop must iterate over range(), tl.range() or tl.static_range()");
    SVal callee = eval(*it.args[0]);
    if (callee.kind != SVal::Kind::Builtin ||
        (callee.spec->id != Builtin::PyRange && callee.spec->id != Builtin::TlRange && callee.spec->id != Builtin::StaticRange))
      fail(it.loc, "a for loop must iterate over range(), tl.range() or tl.static_range()");
    std::vector<std::optional<SVal>> args = bind_call(*callee.spec, it, {});
    RangeArgs r = range_args(args, it.loc);
    if (s.target->kind != ExprKind::Name) fail(s.target->loc, "the loop variable must be a single name");

    bool all_const = r.lb.kind == SVal::Kind::Const && r.ub.kind == SVal::Kind::Const && r.step.kind == SVal::Kind::Const;
    if (callee.spec->id == Builtin::StaticRange) {
      if (!all_const) fail(it.loc, "tl.static_range bounds must be constexpr");
      int64_t count = 0;
      for (int64_t i = r.lb.c.i; r.step.c.i > 0 ? i < r.ub.c.i : i > r.ub.c.i; i += r.step.c.i) {
        if (++count > 4096) fail(it.loc, "tl.static_range unrolls to more than 4096 iterations; use tl.range");
        frame_->env[s.target->name] = SVal::of(ConstValue::of_int(i));
        exec_block(s.body);
        if (frame_->returned) return;
      }
      return;
    }
    DType ity = DType::I32;
    for (const SVal* v : {&r.lb, &r.ub, &r.step}) {
      if (v->is_value()) ity = promote(ity, false, v->v->type.dtype, false);
      else if (v->c.i > std::numeric_limits<int32_t>::max() || v->c.i < std::numeric_limits<int32_t>::min()) ity = DType::I64;
    }
    Value* lb = convert(r.lb, Type::scalar(ity), it.loc);
    Value* ub = convert(r.ub, Type::scalar(ity), it.loc);
    Value* step = convert(r.step, Type::scalar(ity), it.loc);
    std::vector<std::string> carried = carried_names(s.body);
    carried.erase(std::remove(carried.begin(), carried.end(), s.target->name), carried.end());
    std::vector<Value*> operands = {lb, ub, step};
    for (const std::string& n : carried) operands.push_back(carried_init(n, s.loc));
    Op* op = b().create(OpKind::For, s.loc, operands, {});
    op->regions.resize(1);
    Region& body = op->regions[0];
    body.args.push_back(fn_->new_value(Type::scalar(ity), s.target->name));
    for (size_t i = 0; i < carried.size(); ++i) body.args.push_back(fn_->new_value(operands[3 + i]->type, carried[i]));
    std::map<std::string, SVal> before = frame_->env;
    frame_->env[s.target->name] = SVal::of(body.args[0]);
    for (size_t i = 0; i < carried.size(); ++i) frame_->env[carried[i]] = SVal::of(body.args[1 + i]);
    Region* saved = b().region();
    b().set_region(&body);
    ++frame_->runtime_nesting;
    exec_block(s.body);
    --frame_->runtime_nesting;
    std::vector<Value*> yields;
    for (size_t i = 0; i < carried.size(); ++i) yields.push_back(carried_out(carried[i], body.args[1 + i]->type, s.loc));
    b().create(OpKind::Yield, s.loc, yields, {});
    b().set_region(saved);
    frame_->env = before;
    for (size_t i = 0; i < carried.size(); ++i) {
      Value* res = fn_->new_value(body.args[1 + i]->type, carried[i]);
      res->def = op;
      op->results.push_back(res);
      frame_->env[carried[i]] = SVal::of(res);
    }
  }

  void exec_while(const Stmt& s) {
    std::vector<std::string> carried = carried_names(s.body);
    std::vector<Value*> inits;
    for (const std::string& n : carried) inits.push_back(carried_init(n, s.loc));
    Op* op = b().create(OpKind::While, s.loc, inits, {});
    op->regions.resize(2);
    std::map<std::string, SVal> before = frame_->env;
    Region* saved = b().region();
    ++frame_->runtime_nesting;
    Region& cond_region = op->regions[0];
    for (size_t i = 0; i < carried.size(); ++i) {
      cond_region.args.push_back(fn_->new_value(inits[i]->type, carried[i]));
      frame_->env[carried[i]] = SVal::of(cond_region.args[i]);
    }
    b().set_region(&cond_region);
    SVal cond = eval(*s.test);
    Value* c = to_bool(cond, s.test->loc);
    if (c->type.is_tile()) fail(s.test->loc, "a 'while' condition must be a scalar, got " + c->type.str());
    std::vector<Value*> cond_ops = {c};
    cond_ops.insert(cond_ops.end(), cond_region.args.begin(), cond_region.args.end());
    b().create(OpKind::Condition, s.loc, cond_ops, {});
    Region& body = op->regions[1];
    for (size_t i = 0; i < carried.size(); ++i) {
      body.args.push_back(fn_->new_value(inits[i]->type, carried[i]));
      frame_->env[carried[i]] = SVal::of(body.args[i]);
    }
    b().set_region(&body);
    exec_block(s.body);
    std::vector<Value*> yields;
    for (size_t i = 0; i < carried.size(); ++i) yields.push_back(carried_out(carried[i], inits[i]->type, s.loc));
    b().create(OpKind::Yield, s.loc, yields, {});
    --frame_->runtime_nesting;
    b().set_region(saved);
    frame_->env = before;
    for (size_t i = 0; i < carried.size(); ++i) {
      Value* res = fn_->new_value(inits[i]->type, carried[i]);
      res->def = op;
      op->results.push_back(res);
      frame_->env[carried[i]] = SVal::of(res);
    }
  }

  // ---- Values and conversions ----

  static std::string describe(const SVal& v) {
    switch (v.kind) {
      case SVal::Kind::Value: return v.v->type.is_tile() ? "a tile " + v.v->type.str() : "a scalar " + v.v->type.str();
      case SVal::Kind::Const:
        switch (v.c.kind) {
          case ConstValue::Kind::None: return "None";
          case ConstValue::Kind::DType: return "the dtype " + v.c.str();
          case ConstValue::Kind::Str: return "the string " + v.c.str();
          case ConstValue::Kind::Int: case ConstValue::Kind::Float: case ConstValue::Kind::Bool: return "the constant " + v.c.str();
        }
        return "a constant";
      case SVal::Kind::Tuple: return "a tuple of " + std::to_string(v.items.size());
      case SVal::Kind::Module: return "the module '" + v.name + "'";
      case SVal::Kind::Builtin: return std::string("the function '") + v.spec->name + "'";
      case SVal::Kind::Helper: return "the function '" + v.name + "'";
      case SVal::Kind::Method: return "the method '" + v.name + "'";
      case SVal::Kind::ConstexprType: return "tl.constexpr";
    }
    return "a value";
  }

  bool truthy(const SVal& v, const Loc& loc) {
    if (v.kind != SVal::Kind::Const) fail(loc, "expected a compile-time value, got " + describe(v));
    switch (v.c.kind) {
      case ConstValue::Kind::Int: return v.c.i != 0;
      case ConstValue::Kind::Float: return v.c.f != 0;
      case ConstValue::Kind::Bool: return v.c.b;
      case ConstValue::Kind::None: return false;
      case ConstValue::Kind::Str: return !v.c.s.empty();
      case ConstValue::Kind::DType: return true;
    }
    return false;
  }

  std::string const_str(const SVal& v, const Loc& loc) {
    if (!v.is_const(ConstValue::Kind::Str)) fail(loc, "expected a string, got " + describe(v));
    return v.c.s;
  }

  int64_t const_int(const SVal& v, const Loc& loc, const char* what) {
    if (v.is_const(ConstValue::Kind::Int)) return v.c.i;
    if (v.is_const(ConstValue::Kind::Bool)) return v.c.b;
    fail(loc, std::string(what) + " must be a constexpr integer, got " + describe(v));
  }

  DType const_dtype_arg(const SVal& v, const Loc& loc) {
    if (!v.is_const(ConstValue::Kind::DType) || v.dtype_is_ptr) fail(loc, "expected a dtype such as tl.float32, got " + describe(v));
    return v.c.dtype;
  }

  static DType const_dtype(const ConstValue& c) {
    switch (c.kind) {
      case ConstValue::Kind::Int:
        return c.i >= std::numeric_limits<int32_t>::min() && c.i <= std::numeric_limits<int32_t>::max() ? DType::I32 : DType::I64;
      case ConstValue::Kind::Float: return DType::F32;
      case ConstValue::Kind::Bool: return DType::I1;
      case ConstValue::Kind::None: case ConstValue::Kind::Str: case ConstValue::Kind::DType: return DType::I32;
    }
    return DType::I32;
  }

  Value* constant(const Type& t, const ConstValue& c, const Loc& loc) {
    if (t.is_ptr) fail(loc, "cannot use the constant " + c.str() + " as a pointer");
    Op* op = b().create(OpKind::Constant, loc, {}, {t});
    double f = c.kind == ConstValue::Kind::Float ? c.f : c.kind == ConstValue::Kind::Bool ? c.b : static_cast<double>(c.i);
    if (is_float(t.dtype)) {
      op->fval = f;
    } else if (t.dtype == DType::I1) {
      op->ival = f != 0;
    } else if (c.kind == ConstValue::Kind::Float) {
      if (!std::isfinite(f) || std::fabs(f) > 9.2e18) fail(loc, "constant " + c.str() + " does not fit " + dtype_name(t.dtype));
      op->ival = static_cast<int64_t>(f);
    } else {
      op->ival = c.kind == ConstValue::Kind::Bool ? c.b : c.i;
    }
    return op->result();
  }

  Value* materialize(const SVal& v, const Loc& loc) {
    if (v.is_value()) return v.v;
    if (v.is_number()) return constant(Type::scalar(const_dtype(v.c)), v.c, loc);
    fail(loc, "expected a number or a tile, got " + describe(v));
  }

  Value* cast(Value* v, DType t, const Loc& loc) {
    if (v->type.dtype == t && !v->type.is_ptr) return v;
    if (v->type.is_ptr) fail(loc, "cannot convert the pointer " + v->type.str() + " to " + dtype_name(t));
    return b().create(OpKind::Cast, loc, {v}, {v->type.with_dtype(t)})->result();
  }

  Value* broadcast_to(Value* v, const std::vector<int64_t>& shape, const Loc& loc) {
    const Type& t = v->type;
    if (t.shape == shape) return v;
    if (!t.is_tile()) return b().create(OpKind::Splat, loc, {v}, {t.with_shape(shape)})->result();
    auto joined = broadcast_shapes(t.shape, shape);
    if (!joined || *joined != shape) fail(loc, "cannot broadcast " + t.str() + " to shape " + shape_str(shape));
    while (v->type.shape.size() < shape.size()) {
      std::vector<int64_t> s = v->type.shape;
      s.insert(s.begin(), 1);
      Op* op = b().create(OpKind::ExpandDims, loc, {v}, {v->type.with_shape(s)});
      op->axis = 0;
      v = op->result();
    }
    if (v->type.shape == shape) return v;
    return b().create(OpKind::Broadcast, loc, {v}, {v->type.with_shape(shape)})->result();
  }

  // An SVal as an IR value of exactly type `t` (numbers become constants of that type).
  Value* convert(const SVal& v, const Type& t, const Loc& loc) {
    if (v.is_number()) return constant(t, v.c, loc);
    Value* x = materialize(v, loc);
    if (x->type.is_ptr != t.is_ptr || (t.is_ptr && x->type.dtype != t.dtype))
      fail(loc, "expected " + t.str() + ", got " + x->type.str());
    if (!t.is_ptr) x = cast(x, t.dtype, loc);
    return broadcast_to(x, t.shape, loc);
  }

  static std::vector<int64_t> shape_of(const SVal& v) { return v.is_value() ? v.v->type.shape : std::vector<int64_t>{}; }

  DType dtype_of(const SVal& v, const Loc& loc) {
    if (v.is_value()) return v.v->type.dtype;
    if (v.is_number()) return const_dtype(v.c);
    fail(loc, "expected a number or a tile, got " + describe(v));
  }

  std::vector<int64_t> joint_shape(const std::vector<const SVal*>& vs, const Loc& loc) {
    std::vector<int64_t> shape;
    for (const SVal* v : vs) {
      auto s = broadcast_shapes(shape, shape_of(*v));
      if (!s) fail(loc, "shapes " + shape_str(shape) + " and " + shape_str(shape_of(*v)) + " cannot be broadcast together");
      shape = *s;
    }
    return shape;
  }

  DType joint_dtype(const SVal& a, const SVal& c, const Loc& loc) {
    return promote(dtype_of(a, loc), !a.is_value(), dtype_of(c, loc), !c.is_value());
  }

  Value* to_bool(const SVal& v, const Loc& loc) {
    Value* x = materialize(v, loc);
    if (x->type.is_ptr) fail(loc, "a pointer cannot be used as a condition");
    if (x->type.dtype == DType::I1) return x;
    Value* zero = constant(x->type, ConstValue::of_int(0), loc);
    Op* op = b().create(OpKind::Compare, loc, {x, zero}, {x->type.with_dtype(DType::I1)});
    op->cmp = CmpKind::Ne;
    return op->result();
  }

  // ---- Constant folding of Python-level arithmetic on constexprs ----

  SVal fold_binary(BinOp op, const ConstValue& a, const ConstValue& c, const Loc& loc) {
    using K = ConstValue::Kind;
    auto num = [&](const ConstValue& v) { return v.kind == K::Float ? v.f : v.kind == K::Bool ? v.b : static_cast<double>(v.i); };
    auto ival = [&](const ConstValue& v) { return v.kind == K::Bool ? static_cast<int64_t>(v.b) : v.i; };
    bool is_num = [&] {
      for (const ConstValue* v : {&a, &c})
        if (v->kind != K::Int && v->kind != K::Float && v->kind != K::Bool) return false;
      return true;
    }();
    if (!is_num) {
      if (op == BinOp::Add && a.kind == K::Str && c.kind == K::Str) return SVal::of(ConstValue::of_str(a.s + c.s));
      fail(loc, std::string("unsupported operand types for '") + binop_spelling(op) + "': " + a.str() + " and " + c.str());
    }
    bool both_bool = a.kind == K::Bool && c.kind == K::Bool;
    if (a.kind == K::Float || c.kind == K::Float || op == BinOp::Div) {
      double x = num(a), y = num(c);
      switch (op) {
        case BinOp::Add: return SVal::of(ConstValue::of_float(x + y));
        case BinOp::Sub: return SVal::of(ConstValue::of_float(x - y));
        case BinOp::Mul: return SVal::of(ConstValue::of_float(x * y));
        case BinOp::Div:
          if (y == 0) fail(loc, "division by zero in a constant expression");
          return SVal::of(ConstValue::of_float(x / y));
        case BinOp::FloorDiv:
          if (y == 0) fail(loc, "division by zero in a constant expression");
          return SVal::of(ConstValue::of_float(std::floor(x / y)));
        case BinOp::Mod:
          if (y == 0) fail(loc, "modulo by zero in a constant expression");
          return SVal::of(ConstValue::of_float(x - std::floor(x / y) * y));
        case BinOp::Pow: return SVal::of(ConstValue::of_float(std::pow(x, y)));
        case BinOp::LShift: case BinOp::RShift: case BinOp::BitAnd: case BinOp::BitOr: case BinOp::BitXor: case BinOp::MatMul:
          fail(loc, std::string("unsupported operand types for '") + binop_spelling(op) + "': " + a.str() + " and " + c.str());
      }
    }
    int64_t x = ival(a), y = ival(c), r = 0;
    auto overflow = [&] { fail(loc, "constant expression " + a.str() + " " + binop_spelling(op) + " " + c.str() + " overflows 64 bits"); };
    switch (op) {
      case BinOp::Add: if (__builtin_add_overflow(x, y, &r)) overflow(); break;
      case BinOp::Sub: if (__builtin_sub_overflow(x, y, &r)) overflow(); break;
      case BinOp::Mul: if (__builtin_mul_overflow(x, y, &r)) overflow(); break;
      case BinOp::Div: break;
      case BinOp::FloorDiv:
      case BinOp::Mod: {
        if (y == 0) fail(loc, "division by zero in a constant expression");
        if (x == std::numeric_limits<int64_t>::min() && y == -1) overflow();
        int64_t q = x / y, m = x % y;
        if (m != 0 && ((m < 0) != (y < 0))) { --q; m += y; }  // Python rounds toward -inf
        r = op == BinOp::FloorDiv ? q : m;
        break;
      }
      case BinOp::Pow: {
        if (y < 0) return SVal::of(ConstValue::of_float(std::pow(static_cast<double>(x), static_cast<double>(y))));
        r = 1;
        for (int64_t i = 0; i < y; ++i) {
          if (__builtin_mul_overflow(r, x, &r)) overflow();
          if (r == 0 || r == 1) break;
        }
        break;
      }
      case BinOp::LShift:
        if (y < 0 || y >= 63 || (x != 0 && (x > (std::numeric_limits<int64_t>::max() >> y) || x < (std::numeric_limits<int64_t>::min() >> y)))) overflow();
        r = x << y;
        break;
      case BinOp::RShift: r = y >= 63 ? (x < 0 ? -1 : 0) : (y < 0 ? (overflow(), 0) : x >> y); break;
      case BinOp::BitAnd: r = x & y; if (both_bool) return SVal::of(ConstValue::of_bool(r)); break;
      case BinOp::BitOr: r = x | y; if (both_bool) return SVal::of(ConstValue::of_bool(r)); break;
      case BinOp::BitXor: r = x ^ y; if (both_bool) return SVal::of(ConstValue::of_bool(r)); break;
      case BinOp::MatMul: fail(loc, "'@' is not supported; use tl.dot");
    }
    return SVal::of(ConstValue::of_int(r));
  }

  // ---- Operators ----

  SVal binary(BinOp op, const SVal& a, const SVal& c, const Loc& loc) {
    if (a.kind == SVal::Kind::Const && c.kind == SVal::Kind::Const) return fold_binary(op, a.c, c.c, loc);
    if (a.kind == SVal::Kind::Tuple && c.kind == SVal::Kind::Tuple && op == BinOp::Add) {
      std::vector<SVal> items = a.items;
      items.insert(items.end(), c.items.begin(), c.items.end());
      return SVal::tuple(items);
    }
    for (const SVal* v : {&a, &c})
      if (!v->is_value() && !v->is_number())
        fail(loc, std::string("unsupported operand for '") + binop_spelling(op) + "': " + describe(*v));
    bool a_ptr = a.is_value() && a.v->type.is_ptr, c_ptr = c.is_value() && c.v->type.is_ptr;
    std::vector<int64_t> shape = joint_shape({&a, &c}, loc);
    if (a_ptr || c_ptr) {
      if (a_ptr && c_ptr) fail(loc, std::string("cannot apply '") + binop_spelling(op) + "' to two pointers");
      const SVal& ptr = a_ptr ? a : c;
      const SVal& off = a_ptr ? c : a;
      if ((op != BinOp::Add && op != BinOp::Sub) || (op == BinOp::Sub && c_ptr))
        fail(loc, std::string("pointers support only '+' and '-' of an integer offset, not '") + binop_spelling(op) + "'");
      DType od = dtype_of(off, loc);
      if (!is_int(od)) fail(loc, "a pointer offset must be an integer, got " + describe(off));
      if (od == DType::I1 || off.is_number()) od = off.is_number() ? const_dtype(off.c) : DType::I32;
      Value* offv = convert(off, Type::tile(od, shape), loc);
      if (op == BinOp::Sub) offv = b().create(OpKind::Unary, loc, {offv}, {offv->type})->result();
      Value* p = broadcast_to(ptr.v, shape, loc);
      return SVal::of(b().create(OpKind::AddPtr, loc, {p, offv}, {p->type})->result());
    }
    DType t = joint_dtype(a, c, loc);
    BinaryKind kind = BinaryKind::Add;
    bool floor_after = false;
    switch (op) {
      case BinOp::Add: kind = BinaryKind::Add; break;
      case BinOp::Sub: kind = BinaryKind::Sub; break;
      case BinOp::Mul: kind = BinaryKind::Mul; break;
      case BinOp::Div:
        kind = BinaryKind::Div;
        if (is_int(t)) t = DType::F32;
        break;
      case BinOp::FloorDiv:
        kind = BinaryKind::Div;
        floor_after = is_float(t);
        break;
      case BinOp::Mod: kind = BinaryKind::Rem; break;
      case BinOp::Pow: fail(loc, "'**' is only supported between constexprs; for tiles multiply, or use tl.exp2(y * tl.log2(x))");
      case BinOp::MatMul: fail(loc, "'@' is not supported; use tl.dot(a, b)");
      case BinOp::LShift: kind = BinaryKind::Shl; break;
      case BinOp::RShift: kind = BinaryKind::Shr; break;
      case BinOp::BitAnd: kind = BinaryKind::And; break;
      case BinOp::BitOr: kind = BinaryKind::Or; break;
      case BinOp::BitXor: kind = BinaryKind::Xor; break;
    }
    if ((kind == BinaryKind::Shl || kind == BinaryKind::Shr || kind == BinaryKind::And || kind == BinaryKind::Or ||
         kind == BinaryKind::Xor) && !is_int(t))
      fail(loc, std::string("'") + binop_spelling(op) + "' needs integer operands, got " + dtype_name(t));
    if (kind == BinaryKind::Rem && t == DType::I1) t = DType::I32;
    if ((kind == BinaryKind::Div || kind == BinaryKind::Rem) && c.is_number() && is_int(t) && c.c.kind == ConstValue::Kind::Int && c.c.i == 0)
      fail(loc, "integer division by zero");
    Type ty = Type::tile(t, shape);
    Value* x = convert(a, ty, loc);
    Value* y = convert(c, ty, loc);
    Op* o = b().create(OpKind::Binary, loc, {x, y}, {ty});
    o->binary = kind;
    Value* r = o->result();
    if (floor_after) {
      Op* f = b().create(OpKind::Unary, loc, {r}, {ty});
      f->unary = UnaryKind::Floor;
      r = f->result();
    }
    return SVal::of(r);
  }

  Value* elementwise(BinaryKind kind, const SVal& a, const SVal& c, const Loc& loc) {
    DType t = joint_dtype(a, c, loc);
    Type ty = Type::tile(t, joint_shape({&a, &c}, loc));
    Op* o = b().create(OpKind::Binary, loc, {convert(a, ty, loc), convert(c, ty, loc)}, {ty});
    o->binary = kind;
    return o->result();
  }

  SVal compare(CmpOp op, const SVal& a, const SVal& c, const Loc& loc) {
    if (op == CmpOp::Is || op == CmpOp::IsNot) {
      if (a.kind != SVal::Kind::Const || c.kind != SVal::Kind::Const)
        fail(loc, "'is' is only supported between constexprs (for example 'acc is None')");
      bool same = a.c.kind == c.c.kind && a.c.str() == c.c.str();
      return SVal::of(ConstValue::of_bool(op == CmpOp::Is ? same : !same));
    }
    if (op == CmpOp::In || op == CmpOp::NotIn) fail(loc, "'in' is not supported in kernels");
    if (a.kind == SVal::Kind::Const && c.kind == SVal::Kind::Const) {
      if (a.c.kind == ConstValue::Kind::DType || c.c.kind == ConstValue::Kind::DType ||
          a.c.kind == ConstValue::Kind::Str || c.c.kind == ConstValue::Kind::Str || a.c.kind == ConstValue::Kind::None ||
          c.c.kind == ConstValue::Kind::None) {
        bool eq = a.c.kind == c.c.kind && a.c.str() == c.c.str() && a.dtype_is_ptr == c.dtype_is_ptr;
        if (op == CmpOp::Eq) return SVal::of(ConstValue::of_bool(eq));
        if (op == CmpOp::Ne) return SVal::of(ConstValue::of_bool(!eq));
        fail(loc, std::string("cannot order ") + a.c.str() + " and " + c.c.str());
      }
      bool fl = a.c.kind == ConstValue::Kind::Float || c.c.kind == ConstValue::Kind::Float;
      double x = a.c.kind == ConstValue::Kind::Float ? a.c.f : a.c.kind == ConstValue::Kind::Bool ? a.c.b : static_cast<double>(a.c.i);
      double y = c.c.kind == ConstValue::Kind::Float ? c.c.f : c.c.kind == ConstValue::Kind::Bool ? c.c.b : static_cast<double>(c.c.i);
      int64_t xi = a.c.kind == ConstValue::Kind::Bool ? a.c.b : a.c.i, yi = c.c.kind == ConstValue::Kind::Bool ? c.c.b : c.c.i;
      auto cmp = [&](auto p, auto q) {
        switch (op) {
          case CmpOp::Eq: return p == q;
          case CmpOp::Ne: return p != q;
          case CmpOp::Lt: return p < q;
          case CmpOp::Le: return p <= q;
          case CmpOp::Gt: return p > q;
          case CmpOp::Ge: return p >= q;
          case CmpOp::Is: case CmpOp::IsNot: case CmpOp::In: case CmpOp::NotIn: return false;
        }
        return false;
      };
      return SVal::of(ConstValue::of_bool(fl ? cmp(x, y) : cmp(xi, yi)));
    }
    for (const SVal* v : {&a, &c})
      if (!v->is_value() && !v->is_number()) fail(loc, std::string("cannot compare ") + describe(*v));
    if ((a.is_value() && a.v->type.is_ptr) || (c.is_value() && c.v->type.is_ptr)) fail(loc, "comparing pointers is not supported");
    DType t = joint_dtype(a, c, loc);
    Type ty = Type::tile(t, joint_shape({&a, &c}, loc));
    Op* o = b().create(OpKind::Compare, loc, {convert(a, ty, loc), convert(c, ty, loc)}, {ty.with_dtype(DType::I1)});
    switch (op) {
      case CmpOp::Eq: o->cmp = CmpKind::Eq; break;
      case CmpOp::Ne: o->cmp = CmpKind::Ne; break;
      case CmpOp::Lt: o->cmp = CmpKind::Lt; break;
      case CmpOp::Le: o->cmp = CmpKind::Le; break;
      case CmpOp::Gt: o->cmp = CmpKind::Gt; break;
      case CmpOp::Ge: o->cmp = CmpKind::Ge; break;
      case CmpOp::Is: case CmpOp::IsNot: case CmpOp::In: case CmpOp::NotIn: break;
    }
    return SVal::of(o->result());
  }

  Value* unary_op(UnaryKind k, Value* x, const Loc& loc) {
    Op* o = b().create(OpKind::Unary, loc, {x}, {x->type});
    o->unary = k;
    return o->result();
  }

  SVal unary(UnaryOp op, const SVal& a, const Loc& loc) {
    if (a.kind == SVal::Kind::Const) {
      const ConstValue& c = a.c;
      switch (op) {
        case UnaryOp::Not: return SVal::of(ConstValue::of_bool(!truthy(a, loc)));
        case UnaryOp::Pos: return a;
        case UnaryOp::Neg:
          if (c.kind == ConstValue::Kind::Float) return SVal::of(ConstValue::of_float(-c.f));
          if (c.kind == ConstValue::Kind::Int || c.kind == ConstValue::Kind::Bool)
            return fold_binary(BinOp::Sub, ConstValue::of_int(0), c, loc);
          break;
        case UnaryOp::Invert:
          if (c.kind == ConstValue::Kind::Int || c.kind == ConstValue::Kind::Bool)
            return SVal::of(ConstValue::of_int(~(c.kind == ConstValue::Kind::Bool ? static_cast<int64_t>(c.b) : c.i)));
          break;
      }
      fail(loc, std::string("bad operand for unary '") + unaryop_spelling(op) + "': " + describe(a));
    }
    if (!a.is_value()) fail(loc, std::string("bad operand for unary '") + unaryop_spelling(op) + "': " + describe(a));
    Value* x = a.v;
    if (x->type.is_ptr) fail(loc, std::string("bad operand for unary '") + unaryop_spelling(op) + "': a pointer");
    switch (op) {
      case UnaryOp::Pos: return a;
      case UnaryOp::Neg: return SVal::of(unary_op(UnaryKind::Neg, x, loc));
      case UnaryOp::Invert:
        if (!is_int(x->type.dtype)) fail(loc, "'~' needs an integer operand, got " + x->type.str());
        return SVal::of(unary_op(UnaryKind::Not, x, loc));
      case UnaryOp::Not: return SVal::of(unary_op(UnaryKind::Not, to_bool(a, loc), loc));
    }
    return a;
  }

  // ---- Expressions ----

  SVal lookup(const std::string& name, const Loc& loc) {
    auto it = frame_->env.find(name);
    if (it != frame_->env.end()) return it->second;
    if (name == "tl" || name == "language") return module("tl");
    if (name == "tilec" || name == "triton") return module("tilec");
    if (name == "math" || name == "libdevice") return module("tl");
    if (const BuiltinSpec* spec = find_spec(python_builtin_specs(), name)) {
      SVal s;
      s.kind = SVal::Kind::Builtin;
      s.spec = spec;
      return s;
    }
    if (const TopLevelDef* d = find_def(name)) {
      SVal s;
      s.kind = SVal::Kind::Helper;
      s.name = d->name;
      return s;
    }
    // Any tl name used bare (after `from tilec.language import load`) resolves like tl.<name>.
    if (find_spec(builtin_specs(), name) || dtype_attr(name)) return module_attr("tl", name, loc);
    fail(loc, "undefined name '" + name + "'");
  }

  static SVal module(const std::string& name) {
    SVal s;
    s.kind = SVal::Kind::Module;
    s.name = name;
    return s;
  }

  static std::optional<DType> dtype_attr(const std::string& n) {
    static const std::pair<const char*, DType> kNames[] = {
        {"int1", DType::I1},      {"int8", DType::I8},       {"int16", DType::I16},  {"int32", DType::I32},
        {"int64", DType::I64},    {"uint8", DType::U8},      {"uint16", DType::U16}, {"uint32", DType::U32},
        {"uint64", DType::U64},   {"float16", DType::F16},   {"bfloat16", DType::BF16}, {"float32", DType::F32},
        {"float64", DType::F64},
    };
    for (const auto& [name, t] : kNames)
      if (n == name) return t;
    return std::nullopt;
  }

  SVal module_attr(const std::string& mod, const std::string& attr, const Loc& loc) {
    if (attr == "language" || attr == "math" || attr == "libdevice") return module("tl");
    if (attr == "constexpr") {
      SVal s;
      s.kind = SVal::Kind::ConstexprType;
      return s;
    }
    if (auto t = dtype_attr(attr)) return SVal::of(ConstValue::of_dtype(*t));
    if (const BuiltinSpec* spec = find_spec(builtin_specs(), attr)) {
      SVal s;
      s.kind = SVal::Kind::Builtin;
      s.spec = spec;
      return s;
    }
    if (attr.rfind("float8", 0) == 0) fail(loc, "'" + mod + "." + attr + "' (fp8) is not supported yet");
    fail(loc, "'" + mod + "' has no attribute '" + attr + "' usable in kernels");
  }

  SVal eval_attribute(const Expr& e) {
    SVal base = eval(*e.args[0]);
    const std::string& attr = e.name;
    switch (base.kind) {
      case SVal::Kind::Module: return module_attr(base.name, attr, e.loc);
      case SVal::Kind::Value: {
        const Type& t = base.v->type;
        if (attr == "dtype") {
          SVal d = SVal::of(ConstValue::of_dtype(t.dtype));
          d.dtype_is_ptr = t.is_ptr;
          return d;
        }
        if (attr == "shape") {
          std::vector<SVal> dims;
          for (int64_t d : t.shape) dims.push_back(SVal::of(ConstValue::of_int(d)));
          return SVal::tuple(dims);
        }
        if (attr == "numel") return SVal::of(ConstValue::of_int(t.numel()));
        if (attr == "T") {
          if (t.shape.size() != 2) fail(e.loc, ".T needs a 2-D tile, got " + t.str());
          return SVal::of(permute(base.v, {1, 0}, e.loc));
        }
        if (is_tile_method(attr)) {
          SVal m;
          m.kind = SVal::Kind::Method;
          m.name = attr;
          m.items = {base};
          return m;
        }
        fail(e.loc, "a tile has no attribute '" + attr + "'");
      }
      case SVal::Kind::Const:
        if (base.c.kind == ConstValue::Kind::DType) {
          if (attr == "element_ty") {
            if (!base.dtype_is_ptr) fail(e.loc, "'element_ty' is only defined on pointer dtypes");
            return SVal::of(ConstValue::of_dtype(base.c.dtype));
          }
          if (attr == "primitive_bitwidth" || attr == "int_bitwidth") return SVal::of(ConstValue::of_int(dtype_bits(base.c.dtype)));
          if (attr == "is_floating") {
            SVal m = SVal::of(ConstValue::of_bool(is_float(base.c.dtype) && !base.dtype_is_ptr));
            return m;
          }
        }
        if (attr == "value") return base;  // tl.constexpr(x).value
        fail(e.loc, describe(base) + " has no attribute '" + attr + "'");
      case SVal::Kind::Tuple: case SVal::Kind::Builtin: case SVal::Kind::Helper: case SVal::Kind::Method:
      case SVal::Kind::ConstexprType:
        fail(e.loc, describe(base) + " has no attribute '" + attr + "'");
    }
    fail(e.loc, "bad attribute");
  }

  SVal eval_subscript(const Expr& e) {
    SVal base = eval(*e.args[0]);
    const Expr& index = *e.args[1];
    if (base.kind == SVal::Kind::Tuple) {
      int64_t i = const_int(eval(index), index.loc, "a tuple index");
      int64_t n = static_cast<int64_t>(base.items.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) fail(index.loc, "tuple index " + std::to_string(i) + " out of range for a tuple of " + std::to_string(n));
      return base.items[i];
    }
    if (!base.is_value() || !base.v->type.is_tile()) fail(e.loc, "cannot index " + describe(base));
    std::vector<const Expr*> items;
    if (index.kind == ExprKind::Tuple) {
      for (const ExprPtr& a : index.args) items.push_back(a.get());
    } else {
      items.push_back(&index);
    }
    Value* v = base.v;
    size_t dim = 0;
    for (const Expr* it : items) {
      if (it->kind == ExprKind::None) {
        std::vector<int64_t> s = v->type.shape;
        s.insert(s.begin() + dim, 1);
        Op* op = b().create(OpKind::ExpandDims, it->loc, {v}, {v->type.with_shape(s)});
        op->axis = static_cast<int>(dim);
        v = op->result();
        ++dim;
        continue;
      }
      if (it->kind == ExprKind::Slice && !it->args[0] && !it->args[1] && !it->args[2]) {
        if (dim >= v->type.shape.size()) fail(it->loc, "too many indices for " + base.v->type.str());
        ++dim;
        continue;
      }
      fail(it->loc, "tiles can only be indexed with ':' and None (as in x[:, None]); integer indexing and slicing are not supported");
    }
    return SVal::of(v);
  }

  SVal eval(const Expr& e) {
    if (++depth_ > 500) fail(e.loc, "expression nested too deeply");
    struct Guard { int& d; ~Guard() { --d; } } guard{depth_};
    switch (e.kind) {
      case ExprKind::Name: return lookup(e.name, e.loc);
      case ExprKind::Int: {
        errno = 0;
        char* end = nullptr;
        unsigned long long v = std::strtoull(e.int_text.c_str(), &end, 10);
        if (errno != 0 || *end != '\0' || e.int_text.size() > 20 || v > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max()))
          fail(e.loc, "integer literal " + (e.int_text.size() > 24 ? e.int_text.substr(0, 20) + "..." : e.int_text) +
                          " is too large (kernel integers are at most 64-bit)");
        return SVal::of(ConstValue::of_int(static_cast<int64_t>(v)));
      }
      case ExprKind::Float: return SVal::of(ConstValue::of_float(e.float_value));
      case ExprKind::Bool: return SVal::of(ConstValue::of_bool(e.bool_value));
      case ExprKind::None: return SVal::of(ConstValue{});
      case ExprKind::Str: return SVal::of(ConstValue::of_str(e.name));
      case ExprKind::Attribute: return eval_attribute(e);
      case ExprKind::Subscript: return eval_subscript(e);
      case ExprKind::Slice: fail(e.loc, "a slice is only allowed inside a subscript");
      case ExprKind::Call: return eval_call(e);
      case ExprKind::Binary: return binary(e.bin_op, eval(*e.args[0]), eval(*e.args[1]), e.loc);
      case ExprKind::Unary: return unary(e.unary_op, eval(*e.args[0]), e.loc);
      case ExprKind::BoolOp: {
        SVal acc = eval(*e.args[0]);
        for (size_t i = 1; i < e.args.size(); ++i) {
          if (acc.kind == SVal::Kind::Const) {
            bool t = truthy(acc, e.args[i - 1]->loc);
            // Python short-circuit on constexprs: the deciding operand is the result.
            if (e.bool_op == BoolOpKind::And ? !t : t) return acc;
            acc = eval(*e.args[i]);
            continue;
          }
          SVal rhs = eval(*e.args[i]);
          if (rhs.kind == SVal::Kind::Const) {
            bool t = truthy(rhs, e.args[i]->loc);
            if (e.bool_op == BoolOpKind::And ? t : !t) continue;
            acc = rhs;
            continue;
          }
          Value* x = to_bool(acc, e.loc);
          Value* y = to_bool(rhs, e.loc);
          acc = SVal::of(elementwise(e.bool_op == BoolOpKind::And ? BinaryKind::And : BinaryKind::Or, SVal::of(x), SVal::of(y), e.loc));
        }
        return acc;
      }
      case ExprKind::Compare: {
        SVal left = eval(*e.args[0]);
        SVal result;
        for (size_t i = 0; i < e.cmp_ops.size(); ++i) {
          SVal right = eval(*e.args[i + 1]);
          SVal r = compare(e.cmp_ops[i], left, right, e.loc);
          if (i == 0) {
            result = r;
          } else if (result.kind == SVal::Kind::Const && r.kind == SVal::Kind::Const) {
            result = SVal::of(ConstValue::of_bool(truthy(result, e.loc) && truthy(r, e.loc)));
          } else {
            result = SVal::of(elementwise(BinaryKind::And, SVal::of(to_bool(result, e.loc)), SVal::of(to_bool(r, e.loc)), e.loc));
          }
          left = right;
        }
        return result;
      }
      case ExprKind::IfExp: {
        SVal cond = eval(*e.args[0]);
        if (cond.kind == SVal::Kind::Const) return eval(truthy(cond, e.args[0]->loc) ? *e.args[1] : *e.args[2]);
        return SVal::of(where(cond, eval(*e.args[1]), eval(*e.args[2]), e.loc));
      }
      case ExprKind::Tuple: {
        std::vector<SVal> items;
        for (const ExprPtr& a : e.args) items.push_back(eval(*a));
        return SVal::tuple(items);
      }
    }
    fail(e.loc, "unsupported expression");
  }

  // ---- Calls ----

  std::vector<std::optional<SVal>> bind_args(const BuiltinSpec& spec, std::vector<SVal> pos,
                                             std::vector<std::pair<std::string, SVal>> kw, const Loc& loc) {
    std::vector<std::optional<SVal>> out(spec.params.size());
    size_t np = spec.params.size();
    if (spec.varargs && pos.size() >= np) {
      std::vector<SVal> rest(pos.begin() + (np - 1), pos.end());
      pos.resize(np - 1);
      if (rest.size() == 1 && rest[0].kind == SVal::Kind::Tuple) pos.push_back(rest[0]);
      else pos.push_back(SVal::tuple(rest));
    }
    if (pos.size() > np)
      fail(loc, std::string(spec.name) + "() takes at most " + std::to_string(np) + " positional arguments but " +
                    std::to_string(pos.size()) + " were given");
    for (size_t i = 0; i < pos.size(); ++i) out[i] = pos[i];
    for (auto& [name, v] : kw) {
      size_t i = 0;
      while (i < np && name != spec.params[i]) ++i;
      if (i == np) fail(loc, std::string(spec.name) + "() got an unexpected keyword argument '" + name + "'");
      if (out[i]) fail(loc, std::string(spec.name) + "() got multiple values for argument '" + name + "'");
      out[i] = v;
    }
    for (int i = 0; i < spec.required; ++i)
      if (!out[i]) fail(loc, std::string(spec.name) + "() missing required argument '" + spec.params[i] + "'");
    // None passed explicitly means "not given", as in Triton's signatures.
    for (auto& o : out)
      if (o && o->is_none()) o.reset();
    return out;
  }

  std::vector<std::optional<SVal>> bind_call(const BuiltinSpec& spec, const Expr& call, std::vector<SVal> self) {
    std::vector<SVal> pos = std::move(self);
    for (size_t i = 1; i < call.args.size(); ++i) pos.push_back(eval(*call.args[i]));
    std::vector<std::pair<std::string, SVal>> kw;
    for (const Keyword& k : call.keywords) kw.emplace_back(k.name, eval(*k.value));
    return bind_args(spec, std::move(pos), std::move(kw), call.loc);
  }

  SVal eval_call(const Expr& e) {
    SVal callee = eval(*e.args[0]);
    switch (callee.kind) {
      case SVal::Kind::Builtin: return call_builtin(*callee.spec, bind_call(*callee.spec, e, {}), e.loc);
      case SVal::Kind::Method: {
        const BuiltinSpec* spec = find_spec(builtin_specs(), callee.name);
        return call_builtin(*spec, bind_call(*spec, e, {callee.items[0]}), e.loc);
      }
      case SVal::Kind::Helper: return call_helper(callee.name, e);
      case SVal::Kind::ConstexprType: {
        if (e.args.size() != 2) fail(e.loc, "tl.constexpr() takes one argument");
        SVal v = eval(*e.args[1]);
        if (v.kind != SVal::Kind::Const) fail(e.loc, "tl.constexpr() needs a compile-time value, got " + describe(v));
        return v;
      }
      case SVal::Kind::Const:
        if (callee.c.kind == ConstValue::Kind::DType && e.args.size() == 2) {  // tl.float32(x) casts
          SVal v = eval(*e.args[1]);
          return SVal::of(cast(materialize(v, e.loc), callee.c.dtype, e.loc));
        }
        [[fallthrough]];
      case SVal::Kind::Value: case SVal::Kind::Tuple: case SVal::Kind::Module:
        fail(e.loc, describe(callee) + " is not callable");
    }
    fail(e.loc, "bad call");
  }

  SVal call_helper(const std::string& name, const Expr& call) {
    const TopLevelDef* d = find_def(name);
    if (!d->is_jit) fail(call.loc, "'" + name + "' is not a @tilec.jit function; decorate it with @tilec.jit to call it from a kernel");
    for (const std::string& n : call_stack_)
      if (n == name) fail(call.loc, "recursive call to '" + name + "': helpers are inlined into the kernel, so recursion is not supported");
    if (call_stack_.size() >= 64) fail(call.loc, "helper calls nested more than 64 deep");
    const FunctionDef* def = parse_def(name, call.loc);
    std::vector<SVal> pos;
    for (size_t i = 1; i < call.args.size(); ++i) pos.push_back(eval(*call.args[i]));
    Frame frame;
    frame.is_helper = true;
    if (pos.size() > def->params.size())
      fail(call.loc, name + "() takes " + std::to_string(def->params.size()) + " arguments but " + std::to_string(pos.size()) + " were given");
    std::vector<bool> bound(def->params.size(), false);
    for (size_t i = 0; i < pos.size(); ++i) {
      frame.env[def->params[i].name] = pos[i];
      bound[i] = true;
    }
    for (const Keyword& k : call.keywords) {
      size_t i = 0;
      while (i < def->params.size() && def->params[i].name != k.name) ++i;
      if (i == def->params.size()) fail(k.loc, name + "() got an unexpected keyword argument '" + k.name + "'");
      if (bound[i]) fail(k.loc, name + "() got multiple values for argument '" + k.name + "'");
      frame.env[k.name] = eval(*k.value);
      bound[i] = true;
    }
    for (size_t i = 0; i < def->params.size(); ++i) {
      const Param& p = def->params[i];
      if (!bound[i]) {
        if (!p.default_value) fail(call.loc, name + "() missing required argument '" + p.name + "'");
        frame.env[p.name] = eval(*p.default_value);
      }
      if (is_constexpr_annotation(p.annotation.get()) && frame.env[p.name].kind != SVal::Kind::Const)
        fail(call.loc, "argument '" + p.name + "' of " + name + "() is tl.constexpr but got " + describe(frame.env[p.name]));
    }
    Frame* saved = frame_;
    frame_ = &frame;
    call_stack_.push_back(name);
    exec_block(def->body);
    call_stack_.pop_back();
    frame_ = saved;
    return frame.ret ? *frame.ret : SVal::of(ConstValue{});
  }

  // ---- Builtins ----

  Value* tile_arg(const std::optional<SVal>& v, const Loc& loc, const char* what) {
    if (!v) fail(loc, std::string(what) + " is required");
    return materialize(*v, loc);
  }

  std::vector<int64_t> shape_arg(const SVal& v, const Loc& loc) {
    std::vector<int64_t> shape;
    if (v.kind == SVal::Kind::Tuple) {
      for (const SVal& d : v.items) shape.push_back(const_int(d, loc, "a shape dimension"));
    } else {
      shape.push_back(const_int(v, loc, "a shape dimension"));
    }
    for (int64_t d : shape)
      if (!is_pow2(d)) fail(loc, "tile dimension " + std::to_string(d) + " in shape " + shape_str(shape) + " is not a power of two");
    check_tile_size(shape, loc);
    return shape;
  }

  void check_tile_size(const std::vector<int64_t>& shape, const Loc& loc) {
    int64_t n = 1;
    for (int64_t d : shape) {
      if (d > (int64_t{1} << 20) || (n *= d) > (int64_t{1} << 20))
        fail(loc, "tile of shape " + shape_str(shape) + " has more than 2^20 elements");
    }
  }

  Value* float_operand(const SVal& v, const Loc& loc) {
    Value* x = materialize(v, loc);
    if (x->type.is_ptr) fail(loc, "expected a number or a tile, got a pointer");
    return is_float(x->type.dtype) ? x : cast(x, DType::F32, loc);
  }

  Value* where(const SVal& cond, const SVal& x, const SVal& y, const Loc& loc) {
    Value* c = to_bool(cond, loc);
    SVal cs = SVal::of(c);
    std::vector<int64_t> shape = joint_shape({&cs, &x, &y}, loc);
    bool xp = x.is_value() && x.v->type.is_ptr, yp = y.is_value() && y.v->type.is_ptr;
    Type ty;
    if (xp || yp) {
      if (!(xp && yp) || x.v->type.dtype != y.v->type.dtype) fail(loc, "tl.where needs two pointers of one type or two numbers");
      ty = x.v->type.with_shape(shape);
    } else {
      ty = Type::tile(joint_dtype(x, y, loc), shape);
    }
    Value* xv = convert(x, ty, loc);
    Value* yv = convert(y, ty, loc);
    return b().create(OpKind::Select, loc, {broadcast_to(c, shape, loc), xv, yv}, {ty})->result();
  }

  Value* permute(Value* v, const std::vector<int64_t>& order, const Loc& loc) {
    const auto& s = v->type.shape;
    if (order.size() != s.size()) fail(loc, "permutation " + shape_str(order) + " does not match the rank of " + v->type.str());
    std::vector<bool> seen(s.size(), false);
    std::vector<int64_t> shape;
    for (int64_t o : order) {
      if (o < 0 || o >= static_cast<int64_t>(s.size()) || seen[o]) fail(loc, "invalid permutation " + shape_str(order));
      seen[o] = true;
      shape.push_back(s[o]);
    }
    bool identity = true;
    for (size_t i = 0; i < order.size(); ++i) identity = identity && order[i] == static_cast<int64_t>(i);
    if (identity) return v;
    Op* op = b().create(OpKind::Permute, loc, {v}, {v->type.with_shape(shape)});
    op->ints = order;
    return op->result();
  }

  Value* reshape(Value* v, const std::vector<int64_t>& shape, const Loc& loc) {
    if (v->type.shape == shape) return v;
    Type t = v->type.with_shape(shape);
    if (t.numel() != v->type.numel()) fail(loc, "cannot reshape " + v->type.str() + " to " + shape_str(shape) + ": element counts differ");
    if (!v->type.is_tile()) return b().create(OpKind::Splat, loc, {v}, {t})->result();
    return b().create(OpKind::Reshape, loc, {v}, {t})->result();
  }

  int norm_axis(int64_t axis, size_t rank, const Loc& loc) {
    int64_t r = static_cast<int64_t>(rank);
    if (axis < -r || axis >= r) fail(loc, "axis " + std::to_string(axis) + " is out of range for a tile of rank " + std::to_string(rank));
    return static_cast<int>(axis < 0 ? axis + r : axis);
  }

  SVal reduce(ReduceKind kind, const std::vector<std::optional<SVal>>& a, bool keep_dims, const Loc& loc,
              std::optional<DType> acc_dtype = std::nullopt) {
    Value* x = tile_arg(a[0], loc, "input");
    if (x->type.is_ptr) fail(loc, std::string(reduce_name(kind)) + " of pointers is not supported");
    if (!x->type.is_tile()) return SVal::of(x);
    if (acc_dtype) x = cast(x, *acc_dtype, loc);
    int axis;
    std::vector<int64_t> orig = x->type.shape;
    if (!a[1]) {
      x = reshape(x, {x->type.numel()}, loc);
      axis = 0;
    } else {
      axis = norm_axis(const_int(*a[1], loc, "axis"), x->type.shape.size(), loc);
    }
    bool arg = kind == ReduceKind::ArgMax || kind == ReduceKind::ArgMin;
    Type rt = Type::tile(arg ? DType::I32 : x->type.dtype, drop_dim(x->type.shape, axis));
    Op* op = b().create(OpKind::Reduce, loc, {x}, {rt});
    op->reduce = kind;
    op->axis = axis;
    Value* r = op->result();
    if (keep_dims) {
      if (!a[1]) {
        r = reshape(r, std::vector<int64_t>(orig.size(), 1), loc);
      } else {
        std::vector<int64_t> s = r->type.shape;
        s.insert(s.begin() + axis, 1);
        Op* e = b().create(OpKind::ExpandDims, loc, {r}, {r->type.with_shape(s)});
        e->axis = axis;
        r = e->result();
      }
    }
    return SVal::of(r);
  }

  static std::optional<DType> sum_dtype(DType t) {
    if (is_signed(t) && dtype_bits(t) < 32) return DType::I32;
    if (t == DType::I1) return DType::I32;
    if (is_unsigned(t) && dtype_bits(t) < 32) return DType::U32;
    return std::nullopt;
  }

  bool flag(const std::optional<SVal>& v, const Loc& loc) { return v && truthy(*v, loc); }

  Value* pointer_arg(const std::optional<SVal>& v, const Loc& loc) {
    Value* p = tile_arg(v, loc, "pointer");
    if (!p->type.is_ptr) fail(loc, "expected a pointer or a tile of pointers, got " + describe(*v));
    return p;
  }

  // Pointer, value and mask broadcast together, as tl.load/tl.store/atomics do.
  std::vector<int64_t> memory_shape(Value* ptr, const std::vector<const SVal*>& others, const Loc& loc) {
    SVal p = SVal::of(ptr);
    std::vector<const SVal*> all = {&p};
    for (const SVal* o : others)
      if (o) all.push_back(o);
    return joint_shape(all, loc);
  }

  SVal atomic(AtomicKind kind, const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    Value* ptr = pointer_arg(a[0], loc);
    std::vector<const SVal*> others = {&*a[1]};
    if (a[2]) others.push_back(&*a[2]);
    std::vector<int64_t> shape = memory_shape(ptr, others, loc);
    DType t = ptr->type.dtype;
    if (kind != AtomicKind::Xchg && (t == DType::I1 || t == DType::I8 || t == DType::U8 || t == DType::I16 || t == DType::U16 || t == DType::BF16 ||
                                      (t == DType::F16 && kind != AtomicKind::Add)))
      fail(loc, std::string("atomic_") + atomic_name(kind) + " on " + dtype_name(t) + " is not supported");
    std::vector<Value*> ops = {broadcast_to(ptr, shape, loc), convert(*a[1], Type::tile(t, shape), loc)};
    if (a[2]) ops.push_back(convert(SVal::of(to_bool(*a[2], loc)), Type::tile(DType::I1, shape), loc));
    Op* op = b().create(OpKind::AtomicRMW, loc, ops, {Type::tile(t, shape)});
    op->atomic = kind;
    op->has_mask = a[2].has_value();
    return SVal::of(op->result());
  }

  SVal call_builtin(const BuiltinSpec& spec, const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    auto unary_math = [&](UnaryKind k) { return SVal::of(unary_op(k, float_operand(*a[0], loc), loc)); };
    switch (spec.id) {
      case Builtin::ProgramId:
      case Builtin::NumPrograms: {
        int64_t axis = const_int(*a[0], loc, "axis");
        if (axis < 0 || axis > 2) fail(loc, std::string(spec.name) + " axis must be 0, 1 or 2, got " + std::to_string(axis));
        Op* op = b().create(spec.id == Builtin::ProgramId ? OpKind::ProgramId : OpKind::NumPrograms, loc, {}, {Type::scalar(DType::I32)});
        op->axis = static_cast<int>(axis);
        return SVal::of(op->result());
      }
      case Builtin::Arange: {
        int64_t start = const_int(*a[0], loc, "arange start"), end = const_int(*a[1], loc, "arange end");
        if (end <= start) fail(loc, "arange(" + std::to_string(start) + ", " + std::to_string(end) + ") is empty; end must be greater than start");
        if (!is_pow2(end - start))
          fail(loc, "arange(" + std::to_string(start) + ", " + std::to_string(end) + ") has " + std::to_string(end - start) +
                        " elements; tile sizes must be powers of two (round up and mask the tail)");
        check_tile_size({end - start}, loc);
        if (end > std::numeric_limits<int32_t>::max() || start < std::numeric_limits<int32_t>::min()) fail(loc, "arange bounds must fit in int32");
        Op* op = b().create(OpKind::Arange, loc, {}, {Type::tile(DType::I32, {end - start})});
        op->ints = {start, end};
        return SVal::of(op->result());
      }
      case Builtin::Zeros:
        return SVal::of(constant(Type::tile(const_dtype_arg(*a[1], loc), shape_arg(*a[0], loc)), ConstValue::of_int(0), loc));
      case Builtin::ZerosLike: {
        Value* x = tile_arg(a[0], loc, "input");
        if (x->type.is_ptr) fail(loc, "zeros_like of a pointer is not supported");
        return SVal::of(constant(x->type, ConstValue::of_int(0), loc));
      }
      case Builtin::Full: {
        if (!a[1]->is_number()) {
          Value* v = cast(materialize(*a[1], loc), const_dtype_arg(*a[2], loc), loc);
          if (v->type.is_tile()) fail(loc, "tl.full value must be a scalar");
          return SVal::of(broadcast_to(v, shape_arg(*a[0], loc), loc));
        }
        return SVal::of(constant(Type::tile(const_dtype_arg(*a[2], loc), shape_arg(*a[0], loc)), a[1]->c, loc));
      }
      case Builtin::Load: {
        Value* ptr = pointer_arg(a[0], loc);
        if (a[3] || a[4]) fail(loc, "block pointers (boundary_check/padding_option) are not supported; use a mask");
        if (!a[1] && a[2]) fail(loc, "tl.load 'other' needs a 'mask'");
        std::vector<const SVal*> others;
        if (a[1]) others.push_back(&*a[1]);
        if (a[2]) others.push_back(&*a[2]);
        std::vector<int64_t> shape = memory_shape(ptr, others, loc);
        std::vector<Value*> ops = {broadcast_to(ptr, shape, loc)};
        if (a[1]) ops.push_back(broadcast_to(to_bool(*a[1], loc), shape, loc));
        if (a[2]) ops.push_back(convert(*a[2], Type::tile(ptr->type.dtype, shape), loc));
        Op* op = b().create(OpKind::Load, loc, ops, {Type::tile(ptr->type.dtype, shape)});
        op->has_mask = a[1].has_value();
        op->has_other = a[2].has_value();
        return SVal::of(op->result());
      }
      case Builtin::Store: {
        Value* ptr = pointer_arg(a[0], loc);
        if (a[3]) fail(loc, "block pointers (boundary_check) are not supported; use a mask");
        std::vector<const SVal*> others = {&*a[1]};
        if (a[2]) others.push_back(&*a[2]);
        std::vector<int64_t> shape = memory_shape(ptr, others, loc);
        if (a[1]->is_value() && a[1]->v->type.is_ptr) fail(loc, "storing pointers is not supported");
        std::vector<Value*> ops = {broadcast_to(ptr, shape, loc), convert(*a[1], Type::tile(ptr->type.dtype, shape), loc)};
        if (a[2]) ops.push_back(broadcast_to(to_bool(*a[2], loc), shape, loc));
        Op* op = b().create(OpKind::Store, loc, ops, {});
        op->has_mask = a[2].has_value();
        return SVal::of(ConstValue{});
      }
      case Builtin::Where: return SVal::of(where(*a[0], *a[1], *a[2], loc));
      case Builtin::Cdiv: {
        SVal one = SVal::of(ConstValue::of_int(1));
        return binary(BinOp::FloorDiv, binary(BinOp::Sub, binary(BinOp::Add, *a[0], *a[1], loc), one, loc), *a[1], loc);
      }
      case Builtin::Dot: return dot(a, loc);
      case Builtin::Sum: {
        Value* x = tile_arg(a[0], loc, "input");
        std::optional<DType> acc = a[3] ? std::optional<DType>(const_dtype_arg(*a[3], loc)) : sum_dtype(x->type.dtype);
        return reduce(ReduceKind::Sum, {SVal::of(x), a[1]}, flag(a[2], loc), loc, acc);
      }
      case Builtin::Max:
      case Builtin::Min: {
        ReduceKind k = spec.id == Builtin::Max ? ReduceKind::Max : ReduceKind::Min;
        bool keep = flag(a[4], loc);
        if (flag(a[2], loc)) {
          SVal vals = reduce(k, {a[0], a[1]}, keep, loc);
          SVal idx = reduce(spec.id == Builtin::Max ? ReduceKind::ArgMax : ReduceKind::ArgMin, {a[0], a[1]}, keep, loc);
          return SVal::tuple({vals, idx});
        }
        return reduce(k, {a[0], a[1]}, keep, loc);
      }
      case Builtin::ArgMax:
      case Builtin::ArgMin:
        if (a[2] && !flag(a[2], loc)) fail(loc, "tie_break_left=False is not supported");
        return reduce(spec.id == Builtin::ArgMax ? ReduceKind::ArgMax : ReduceKind::ArgMin, {a[0], a[1]}, flag(a[3], loc), loc);
      case Builtin::CumSum: {
        Value* x = tile_arg(a[0], loc, "input");
        if (!x->type.is_tile()) fail(loc, "cumsum needs a tile");
        if (flag(a[2], loc)) fail(loc, "cumsum(reverse=True) is not supported");
        if (auto t = a[3] ? std::optional<DType>(const_dtype_arg(*a[3], loc)) : sum_dtype(x->type.dtype)) x = cast(x, *t, loc);
        Op* op = b().create(OpKind::Scan, loc, {x}, {x->type});
        op->scan = ScanKind::CumSum;
        op->axis = norm_axis(a[1] ? const_int(*a[1], loc, "axis") : 0, x->type.shape.size(), loc);
        return SVal::of(op->result());
      }
      case Builtin::Exp: return unary_math(UnaryKind::Exp);
      case Builtin::Exp2: return unary_math(UnaryKind::Exp2);
      case Builtin::Log: return unary_math(UnaryKind::Log);
      case Builtin::Log2: return unary_math(UnaryKind::Log2);
      case Builtin::Sqrt: return unary_math(UnaryKind::Sqrt);
      case Builtin::Rsqrt: return unary_math(UnaryKind::Rsqrt);
      case Builtin::Sin: return unary_math(UnaryKind::Sin);
      case Builtin::Cos: return unary_math(UnaryKind::Cos);
      case Builtin::Erf: return unary_math(UnaryKind::Erf);
      case Builtin::Floor: return unary_math(UnaryKind::Floor);
      case Builtin::Ceil: return unary_math(UnaryKind::Ceil);
      case Builtin::Abs:
      case Builtin::PyAbs: {
        if (a[0]->is_number()) return a[0]->c.kind == ConstValue::Kind::Float ? SVal::of(ConstValue::of_float(std::fabs(a[0]->c.f)))
                                                                              : unary(a[0]->c.i < 0 ? UnaryOp::Neg : UnaryOp::Pos, *a[0], loc);
        Value* x = tile_arg(a[0], loc, "x");
        if (x->type.is_ptr) fail(loc, "abs of a pointer");
        if (is_unsigned(x->type.dtype) || x->type.dtype == DType::I1) return SVal::of(x);
        return SVal::of(unary_op(UnaryKind::Abs, x, loc));
      }
      case Builtin::Sigmoid: {
        Value* x = float_operand(*a[0], loc);
        Value* e = unary_op(UnaryKind::Exp, unary_op(UnaryKind::Neg, x, loc), loc);
        SVal denom = binary(BinOp::Add, SVal::of(ConstValue::of_float(1.0)), SVal::of(e), loc);
        return binary(BinOp::Div, SVal::of(ConstValue::of_float(1.0)), denom, loc);
      }
      case Builtin::Maximum: return SVal::of(elementwise(BinaryKind::Max, *a[0], *a[1], loc));
      case Builtin::Minimum: return SVal::of(elementwise(BinaryKind::Min, *a[0], *a[1], loc));
      case Builtin::PyMin:
      case Builtin::PyMax: {
        const std::vector<SVal>& items = a[0]->items;
        if (items.empty()) fail(loc, std::string(spec.name) + "() needs at least one argument");
        SVal acc = items.size() == 1 && items[0].kind == SVal::Kind::Tuple ? items[0].items.at(0) : items[0];
        const std::vector<SVal>& rest = items.size() == 1 && items[0].kind == SVal::Kind::Tuple ? items[0].items : items;
        for (size_t i = 1; i < rest.size(); ++i) {
          if (acc.kind == SVal::Kind::Const && rest[i].kind == SVal::Kind::Const) {
            bool less = truthy(compare(CmpOp::Lt, rest[i], acc, loc), loc);
            if (spec.id == Builtin::PyMin ? less : !less && truthy(compare(CmpOp::Ne, rest[i], acc, loc), loc)) acc = rest[i];
          } else {
            acc = SVal::of(elementwise(spec.id == Builtin::PyMin ? BinaryKind::Min : BinaryKind::Max, acc, rest[i], loc));
          }
        }
        return acc;
      }
      case Builtin::Fma: {
        Type ty = Type::tile(promote(joint_dtype(*a[0], *a[1], loc), false, dtype_of(*a[2], loc), !a[2]->is_value()),
                             joint_shape({&*a[0], &*a[1], &*a[2]}, loc));
        if (!is_float(ty.dtype)) ty.dtype = DType::F32;
        return SVal::of(b().create(OpKind::Fma, loc, {convert(*a[0], ty, loc), convert(*a[1], ty, loc), convert(*a[2], ty, loc)}, {ty})->result());
      }
      case Builtin::Clamp: {
        Value* lo = elementwise(BinaryKind::Min, *a[0], *a[2], loc);
        return SVal::of(elementwise(BinaryKind::Max, SVal::of(lo), *a[1], loc));
      }
      case Builtin::BroadcastTo: {
        std::vector<int64_t> shape = shape_arg(*a[1], loc);
        return SVal::of(broadcast_to(tile_arg(a[0], loc, "input"), shape, loc));
      }
      case Builtin::ExpandDims: {
        Value* x = tile_arg(a[0], loc, "input");
        std::vector<int64_t> axes;
        if (a[1]->kind == SVal::Kind::Tuple) {
          for (const SVal& s : a[1]->items) axes.push_back(const_int(s, loc, "axis"));
        } else {
          axes.push_back(const_int(*a[1], loc, "axis"));
        }
        size_t rank = x->type.shape.size() + axes.size();
        for (int64_t& ax : axes) ax = norm_axis(ax, rank, loc);
        std::sort(axes.begin(), axes.end());
        for (int64_t ax : axes) {
          std::vector<int64_t> s = x->type.shape;
          s.insert(s.begin() + ax, 1);
          Op* op = b().create(OpKind::ExpandDims, loc, {x}, {x->type.with_shape(s)});
          op->axis = static_cast<int>(ax);
          x = op->result();
        }
        return SVal::of(x);
      }
      case Builtin::Reshape: {
        std::vector<int64_t> shape = shape_arg(*a[1], loc);
        return SVal::of(reshape(tile_arg(a[0], loc, "input"), shape, loc));
      }
      case Builtin::Trans:
      case Builtin::Permute: {
        Value* x = tile_arg(a[0], loc, "input");
        std::vector<int64_t> order;
        if (a[1] && !a[1]->items.empty()) {
          for (const SVal& s : a[1]->items) order.push_back(const_int(s, loc, "a dimension"));
        } else if (spec.id == Builtin::Trans) {
          for (size_t i = x->type.shape.size(); i-- > 0;) order.push_back(static_cast<int64_t>(i));
        } else {
          fail(loc, "permute needs the new order of dimensions");
        }
        return SVal::of(permute(x, order, loc));
      }
      case Builtin::Cast: {
        if (flag(a[3], loc)) fail(loc, "bitcast is not supported yet");
        DType t = const_dtype_arg(*a[1], loc);
        if (a[0]->is_number()) return SVal::of(constant(Type::scalar(t), a[0]->c, loc));
        return SVal::of(cast(tile_arg(a[0], loc, "input"), t, loc));
      }
      case Builtin::AtomicAdd: return atomic(AtomicKind::Add, a, loc);
      case Builtin::AtomicMax: return atomic(AtomicKind::Max, a, loc);
      case Builtin::AtomicMin: return atomic(AtomicKind::Min, a, loc);
      case Builtin::AtomicXchg: return atomic(AtomicKind::Xchg, a, loc);
      case Builtin::AtomicCas: {
        Value* ptr = pointer_arg(a[0], loc);
        std::vector<int64_t> shape = memory_shape(ptr, {&*a[1], &*a[2]}, loc);
        DType t = ptr->type.dtype;
        if (dtype_bits(t) < 32 && t != DType::F16) fail(loc, std::string("atomic_cas on ") + dtype_name(t) + " is not supported");
        Type ty = Type::tile(t, shape);
        Op* op = b().create(OpKind::AtomicCAS, loc, {broadcast_to(ptr, shape, loc), convert(*a[1], ty, loc), convert(*a[2], ty, loc)}, {ty});
        return SVal::of(op->result());
      }
      case Builtin::MultipleOf:
      case Builtin::MaxContiguous: {
        Value* x = tile_arg(a[0], loc, "input");
        std::vector<int64_t> values;
        if (a[1]->kind == SVal::Kind::Tuple) {
          for (const SVal& s : a[1]->items) values.push_back(const_int(s, loc, "a hint value"));
        } else {
          values.push_back(const_int(*a[1], loc, "a hint value"));
        }
        size_t rank = std::max<size_t>(1, x->type.shape.size());
        if (values.size() != rank) fail(loc, std::string(spec.name) + " needs one value per dimension (" + std::to_string(rank) + ")");
        for (int64_t v : values)
          if (v <= 0) fail(loc, std::string(spec.name) + " values must be positive");
        Op* op = b().create(OpKind::Hint, loc, {x}, {x->type});
        op->hint = spec.id == Builtin::MultipleOf ? HintKind::MultipleOf : HintKind::MaxContiguous;
        op->ints = values;
        return SVal::of(op->result());
      }
      case Builtin::StaticAssert: {
        if (a[0]->kind != SVal::Kind::Const) fail(loc, "tl.static_assert needs a compile-time condition, got " + describe(*a[0]));
        std::string msg = a[1] ? const_str(*a[1], loc) : "";
        if (!truthy(*a[0], loc)) fail(loc, "static assertion failed" + (msg.empty() ? "" : ": " + msg));
        return SVal::of(ConstValue{});
      }
      case Builtin::DeviceAssert:
        assert_(*a[0], a[1] ? const_str(*a[1], loc) : "", loc);
        return SVal::of(ConstValue{});
      case Builtin::TlRange:
      case Builtin::StaticRange:
      case Builtin::PyRange: fail(loc, std::string(spec.name) + "() can only be used as the iterable of a for loop");
      case Builtin::PyLen:
        if (a[0]->kind == SVal::Kind::Tuple) return SVal::of(ConstValue::of_int(static_cast<int64_t>(a[0]->items.size())));
        fail(loc, "len() needs a tuple, got " + describe(*a[0]));
      case Builtin::PyInt:
        if (a[0]->is_number()) return SVal::of(ConstValue::of_int(a[0]->c.kind == ConstValue::Kind::Float ? static_cast<int64_t>(a[0]->c.f) : const_int(*a[0], loc, "int()")));
        fail(loc, "int() needs a constexpr number; use .to(tl.int32) for tiles");
      case Builtin::PyFloat:
        if (a[0]->is_const(ConstValue::Kind::Str)) {
          const std::string& t = a[0]->c.s;
          if (t == "inf" || t == "+inf") return SVal::of(ConstValue::of_float(std::numeric_limits<double>::infinity()));
          if (t == "-inf") return SVal::of(ConstValue::of_float(-std::numeric_limits<double>::infinity()));
          if (t == "nan") return SVal::of(ConstValue::of_float(std::numeric_limits<double>::quiet_NaN()));
          fail(loc, "float() of the string '" + t + "' is not supported; use 'inf', '-inf' or 'nan'");
        }
        if (a[0]->is_number()) return SVal::of(ConstValue::of_float(a[0]->c.kind == ConstValue::Kind::Float ? a[0]->c.f : static_cast<double>(const_int(*a[0], loc, "float()"))));
        fail(loc, "float() needs a constexpr number; use .to(tl.float32) for tiles");
    }
    fail(loc, "unhandled builtin");
  }

  SVal dot(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    Value* x = tile_arg(a[0], loc, "input");
    Value* y = tile_arg(a[1], loc, "other");
    if (x->type.shape.size() != 2 || y->type.shape.size() != 2)
      fail(loc, "tl.dot needs 2-D tiles, got " + x->type.str() + " and " + y->type.str());
    if (x->type.shape[1] != y->type.shape[0])
      fail(loc, "tl.dot inner dimensions differ: " + x->type.str() + " @ " + y->type.str());
    if (x->type.is_ptr || y->type.is_ptr) fail(loc, "tl.dot of pointers");
    DType in = x->type.dtype;
    if (x->type.dtype != y->type.dtype) {
      in = promote(x->type.dtype, false, y->type.dtype, false);
      x = cast(x, in, loc);
      y = cast(y, in, loc);
    }
    DType out = is_float(in) ? (in == DType::F64 ? DType::F64 : DType::F32) : DType::I32;
    if (is_int(in) && dtype_bits(in) > 8) fail(loc, std::string("tl.dot on ") + dtype_name(in) + " is not supported (use int8, fp16, bf16, fp32 or fp64)");
    if (a[6]) out = const_dtype_arg(*a[6], loc);
    DotPrecision prec = in == DType::F32 ? DotPrecision::TF32 : DotPrecision::IEEE;
    if (a[4] && !truthy(*a[4], loc)) prec = DotPrecision::IEEE;
    if (a[3]) {
      std::string p = const_str(*a[3], loc);
      if (p == "ieee" || p == "tf32x3") prec = DotPrecision::IEEE;
      else if (p == "tf32") prec = in == DType::F32 ? DotPrecision::TF32 : DotPrecision::IEEE;
      else fail(loc, "input_precision must be 'tf32', 'tf32x3' or 'ieee', got '" + p + "'");
    }
    Type acc_t = Type::tile(out, {x->type.shape[0], y->type.shape[1]});
    Value* acc;
    if (a[2]) {
      acc = materialize(*a[2], loc);
      if (acc->type.shape != acc_t.shape) fail(loc, "tl.dot accumulator has shape " + shape_str(acc->type.shape) + ", expected " + shape_str(acc_t.shape));
      acc_t = acc->type;
    } else {
      acc = constant(acc_t, ConstValue::of_int(0), loc);
    }
    Op* op = b().create(OpKind::Dot, loc, {x, y, acc}, {acc_t});
    op->precision = prec;
    return SVal::of(op->result());
  }

  const SourceFile& file_;
  const Signature& sig_;
  Diagnostics& diags_;
  std::vector<TopLevelDef> defs_;
  std::map<std::string, std::unique_ptr<FunctionDef>> parsed_;
  std::unique_ptr<Function> fn_;
  std::optional<Builder> builder_;
  Frame* frame_ = nullptr;
  std::vector<std::string> call_stack_;
  int depth_ = 0;
};

}  // namespace

std::unique_ptr<Function> build_ir(const SourceFile& file, const std::string& kernel, const Signature& sig,
                                   Diagnostics& diags) {
  return IrGen(file, sig, diags).run(kernel);
}

}  // namespace tilec
