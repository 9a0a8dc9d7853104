// Input: a Python module's text (plus the files of @jit helpers it imports), a kernel name, a
// Signature and a KernelTarget. Output: typed tile IR of the kernel: constexprs (target queries
// included) folded, constexpr `if`s pruned, static_range unrolled, helpers inlined, early returns
// turned into structured ifs, block pointers and tensor descriptors turned into pointer tiles and
// masks at each load and store, fp8 dot operands widened to fp16.
// Invariant: every emitted op has the Loc of the expression it comes from; the first error aborts.
#include "tilec/ir_gen.h"

#include "tilec/ir_gen_impl.h"

namespace tilec::ir_gen {

namespace {

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
      {"atomic_and", Builtin::AtomicAnd, {"pointer", "val", "mask", "sem", "scope"}, 2, false},
      {"atomic_or", Builtin::AtomicOr, {"pointer", "val", "mask", "sem", "scope"}, 2, false},
      {"atomic_xor", Builtin::AtomicXor, {"pointer", "val", "mask", "sem", "scope"}, 2, false},
      {"atomic_cas", Builtin::AtomicCas, {"pointer", "cmp", "val", "sem", "scope"}, 3, false},
      {"multiple_of", Builtin::MultipleOf, {"input", "values"}, 2, false},
      {"max_contiguous", Builtin::MaxContiguous, {"input", "values"}, 2, false},
      {"max_constancy", Builtin::MaxConstancy, {"input", "values"}, 2, false},
      {"static_assert", Builtin::StaticAssert, {"cond", "msg"}, 1, false},
      {"device_assert", Builtin::DeviceAssert, {"cond", "msg", "mask"}, 1, false},
      {"range", Builtin::TlRange, {"arg1", "arg2", "step", "num_stages", "loop_unroll_factor", "flatten", "warp_specialize"}, 1, false},
      {"static_range", Builtin::StaticRange, {"arg1", "arg2", "step"}, 1, false},
      {"next_power_of_2", Builtin::NextPow2, {"n"}, 1, false},
      {"cumprod", Builtin::CumProd, {"input", "axis", "reverse"}, 1, false},
      {"split", Builtin::Split, {"a"}, 1, false},
      {"join", Builtin::Join, {"a", "b"}, 2, false},
      {"flip", Builtin::Flip, {"x", "dim"}, 1, false},
      {"xor_sum", Builtin::XorSum, {"input", "axis", "keep_dims"}, 1, false},
      {"umulhi", Builtin::Umulhi, {"x", "y"}, 2, false},
      {"debug_barrier", Builtin::DebugBarrier, {}, 0, false},
      {"static_print", Builtin::StaticPrint, {"values"}, 0, true},
      {"device_print", Builtin::DevicePrint, {"prefix", "args", "*", "hex"}, 1, true},
      {"inline_asm_elementwise", Builtin::InlineAsm, {"asm", "constraints", "args", "dtype", "is_pure", "pack"}, 6, false},
      {"philox", Builtin::Philox, {"seed", "c0", "c1", "c2", "c3", "n_rounds"}, 5, false},
      {"rand", Builtin::Rand, {"seed", "offset", "n_rounds"}, 2, false},
      {"randn", Builtin::Randn, {"seed", "offset", "n_rounds"}, 2, false},
      {"randint", Builtin::Randint, {"seed", "offset", "n_rounds"}, 2, false},
      {"randint4x", Builtin::Randint4x, {"seed", "offset", "n_rounds"}, 2, false},
      {"rand4x", Builtin::Rand4x, {"seed", "offset", "n_rounds"}, 2, false},
      {"randn4x", Builtin::Randn4x, {"seed", "offset", "n_rounds"}, 2, false},
      {"uint_to_uniform_float", Builtin::UintToUniformFloat, {"x"}, 1, false},
      {"pair_uniform_to_normal", Builtin::PairUniformToNormal, {"u1", "u2"}, 2, false},
      {"make_block_ptr", Builtin::MakeBlockPtr, {"base", "shape", "strides", "offsets", "block_shape", "order"}, 6, false},
      {"advance", Builtin::Advance, {"base", "offsets"}, 2, false},
      {"make_tensor_descriptor", Builtin::MakeTensorDescriptor, {"base", "shape", "strides", "block_shape", "padding_option"}, 4, false},
      {"load_tensor_descriptor", Builtin::LoadTensorDescriptor, {"desc", "offsets"}, 2, false},
      {"store_tensor_descriptor", Builtin::StoreTensorDescriptor, {"desc", "offsets", "value"}, 3, false},
      // triton.language.target_info: constexprs of the kernel's target (tilec has no HIP backend).
      {"is_cuda", Builtin::IsCuda, {}, 0, false},
      {"is_hip", Builtin::IsHip, {}, 0, false},
      {"is_hip_cdna3", Builtin::IsHip, {}, 0, false},
      {"is_hip_cdna4", Builtin::IsHip, {}, 0, false},
      {"cuda_capability_geq", Builtin::CudaCapabilityGeq, {"major", "minor"}, 1, false},
      // triton.language.extra.cuda
      {"num_warps", Builtin::NumWarps, {}, 0, false},
      {"num_threads", Builtin::NumThreads, {}, 0, false},
      {"globaltimer", Builtin::GlobalTimer, {}, 0, false},
      {"smid", Builtin::SmId, {}, 0, false},
      {"convert_custom_float8_sm80", Builtin::ConvertCustomFloat8, {"arg", "dst_ty", "fp_downcast_rounding"}, 2, false},
      {"convert_custom_float8_sm70", Builtin::ConvertCustomFloat8, {"arg", "dst_ty", "fp_downcast_rounding"}, 2, false},
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
      {"print", Builtin::DevicePrint, {"prefix", "args", "*", "hex"}, 1, true},  // Triton: print is device_print
  };
  return specs;
}

// Names only the standard library's own code sees (it needs to tell a tuple from a tile).
const std::vector<BuiltinSpec>& standard_library_specs() {
  static const std::vector<BuiltinSpec> specs = {
      {"_is_tuple", Builtin::IsTuple, {"x"}, 1, false},
  };
  return specs;
}

// Tile methods that behave as the tl function of the same name with the tile first.
bool is_tile_method(const std::string& name) {
  static const std::set<std::string> methods = {
      "to", "sum", "max", "min", "argmax", "argmin", "cumsum", "exp", "exp2", "log", "log2", "sqrt", "rsqrt",
      "abs", "sin", "cos", "sigmoid", "erf", "floor", "ceil", "broadcast_to", "expand_dims", "reshape", "view",
      "trans", "permute", "cast", "cumprod", "split", "flip", "xor_sum",
      // Triton's tensor methods that the standard library implements:
      "sort", "topk", "gather", "histogram", "reduce", "reduce_or", "associative_scan", "ravel", "softmax"};
  return methods.count(name) > 0;
}

const BuiltinSpec* find_spec(const std::vector<BuiltinSpec>& specs, const std::string& name) {
  for (const BuiltinSpec& s : specs)
    if (name == s.name) return &s;
  return nullptr;
}

}  // namespace

// One spec per libdevice_table() row (tl.math.tanh, libdevice.pow, ...), parameters arg0..argN.
const BuiltinSpec* find_libdevice_spec(const std::string& name) {
  static const std::vector<BuiltinSpec> specs = [] {
    std::vector<BuiltinSpec> out;
    static const char* const kArgs[] = {"arg0", "arg1", "arg2"};
    for (const LibdeviceFn& f : libdevice_table())
      out.push_back(BuiltinSpec{f.name, Builtin::Libdevice, std::vector<const char*>(kArgs, kArgs + f.arity), f.arity, false});
    return out;
  }();
  return find_spec(specs, name);
}

IrGen::IrGen(const SourceFile& file, const std::vector<std::shared_ptr<const SourceFile>>& imported, const Signature& sig,
             const KernelTarget& target, Diagnostics& diags)
    : sig_(sig), target_(target), diags_(diags) {
  add_module(file);
  for (const auto& f : imported) add_module(*f);
  add_module(standard_library_source());
  std_module_ = modules_.size() - 1;
  mod_ = modules_[0].get();
}

std::unique_ptr<Function> IrGen::run(const std::string& kernel) {
  try {
    const FunctionDef* def = parse_def(kernel, Loc{mod_->file, 1, 1});
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

[[noreturn]] void IrGen::fail(const Loc& loc, const std::string& msg) {
  // An error inside the standard library's code is the caller's: it points at the tl.* call.
  if (std_call_ && loc.file == &standard_library_source()) diags_.error(std_call_->first, "tl." + std_call_->second + ": " + msg);
  else diags_.error(loc, msg);
  throw AbortStage{};
}

// ---- Finding and parsing functions of the module ----

void IrGen::add_module(const SourceFile& file) {
  auto m = std::make_unique<Module>();
  m->file = &file;
  m->defs = scan_module(file);
  m->globals = scan_constexpr_globals(file);
  m->imports = scan_imports(file);
  modules_.push_back(std::move(m));
}

size_t IrGen::mod_index() const {
  size_t i = 0;
  while (modules_[i].get() != mod_) ++i;
  return i;
}

const TopLevelDef* IrGen::find_def(const std::string& name) const {
  for (const TopLevelDef& d : mod_->defs)
    if (d.name == name) return &d;
  return nullptr;
}

const FunctionDef* IrGen::parse_def(const std::string& name, const Loc& use) {
  auto it = mod_->parsed.find(name);
  if (it != mod_->parsed.end()) return it->second.get();
  const TopLevelDef* d = find_def(name);
  if (!d) fail(use, "no top-level function named '" + name + "' in " + mod_->file->path());
  std::vector<Token> tokens = lex(*mod_->file, d->first_line, d->last_line, diags_);
  if (diags_.has_errors()) throw AbortStage{};
  std::unique_ptr<FunctionDef> fn = parse_function(tokens, diags_);
  if (!fn || diags_.has_errors()) throw AbortStage{};
  return (mod_->parsed[name] = std::move(fn)).get();
}

bool IrGen::is_constexpr_annotation(const Expr* ann) {
  if (!ann) return false;
  if (ann->kind == ExprKind::Name) return ann->name == "constexpr";
  if (ann->kind == ExprKind::Attribute) return ann->name == "constexpr";
  if (ann->kind == ExprKind::Str) return ann->name.find("constexpr") != std::string::npos;
  return false;
}

void IrGen::bind_kernel_params(const FunctionDef& def) {
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
    if (spec->kind == ArgKind::Descriptor) {
      frame_->env[p.name] = descriptor_param(*spec, p.loc);
      continue;
    }
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

// ---- Values and conversions ----

std::string IrGen::describe(const SVal& v) {
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
    case SVal::Kind::BlockPtr:
      return std::string(v.bp->descriptor ? "a tensor descriptor of " : "a block pointer to ") +
             Type::tile(v.bp->base->type.dtype, v.bp->block).str() + " blocks";
  }
  return "a value";
}

bool IrGen::truthy(const SVal& v, const Loc& loc) {
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

std::string IrGen::const_str(const SVal& v, const Loc& loc) {
  if (!v.is_const(ConstValue::Kind::Str)) fail(loc, "expected a string, got " + describe(v));
  return v.c.s;
}

int64_t IrGen::const_int(const SVal& v, const Loc& loc, const char* what) {
  if (v.is_const(ConstValue::Kind::Int)) return v.c.i;
  if (v.is_const(ConstValue::Kind::Bool)) return v.c.b;
  fail(loc, std::string(what) + " must be a constexpr integer, got " + describe(v));
}

DType IrGen::const_dtype_arg(const SVal& v, const Loc& loc) {
  if (!v.is_const(ConstValue::Kind::DType) || v.dtype_is_ptr) fail(loc, "expected a dtype such as tl.float32, got " + describe(v));
  return v.c.dtype;
}

DType IrGen::const_dtype(const ConstValue& c) {
  switch (c.kind) {
    case ConstValue::Kind::Int:
      return c.i >= std::numeric_limits<int32_t>::min() && c.i <= std::numeric_limits<int32_t>::max() ? DType::I32 : DType::I64;
    case ConstValue::Kind::Float: return DType::F32;
    case ConstValue::Kind::Bool: return DType::I1;
    case ConstValue::Kind::None: case ConstValue::Kind::Str: case ConstValue::Kind::DType: return DType::I32;
  }
  return DType::I32;
}

Value* IrGen::constant(const Type& t, const ConstValue& c, const Loc& loc) {
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

Value* IrGen::materialize(const SVal& v, const Loc& loc) {
  if (v.is_value()) return v.v;
  if (v.is_number()) return constant(Type::scalar(const_dtype(v.c)), v.c, loc);
  if (v.kind == SVal::Kind::BlockPtr)
    fail(loc, "expected a number or a tile, got " + describe(v) + "; only tl.load, tl.store and tl.advance take a block pointer");
  fail(loc, "expected a number or a tile, got " + describe(v));
}

Value* IrGen::cast(Value* v, DType t, const Loc& loc) {
  if (v->type.dtype == t && !v->type.is_ptr) return v;
  if (v->type.is_ptr) fail(loc, "cannot convert the pointer " + v->type.str() + " to " + dtype_name(t));
  return b().create(OpKind::Cast, loc, {v}, {v->type.with_dtype(t)})->result();
}

Value* IrGen::broadcast_to(Value* v, const std::vector<int64_t>& shape, const Loc& loc) {
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
Value* IrGen::convert(const SVal& v, const Type& t, const Loc& loc) {
  if (v.is_number()) return constant(t, v.c, loc);
  Value* x = materialize(v, loc);
  if (x->type.is_ptr != t.is_ptr || (t.is_ptr && x->type.dtype != t.dtype))
    fail(loc, "expected " + t.str() + ", got " + x->type.str());
  if (!t.is_ptr) x = cast(x, t.dtype, loc);
  return broadcast_to(x, t.shape, loc);
}

std::vector<int64_t> IrGen::shape_of(const SVal& v) { return v.is_value() ? v.v->type.shape : std::vector<int64_t>{}; }

DType IrGen::dtype_of(const SVal& v, const Loc& loc) {
  if (v.is_value()) return v.v->type.dtype;
  if (v.is_number()) return const_dtype(v.c);
  fail(loc, "expected a number or a tile, got " + describe(v));
}

std::vector<int64_t> IrGen::joint_shape(const std::vector<const SVal*>& vs, const Loc& loc) {
  std::vector<int64_t> shape;
  for (const SVal* v : vs) {
    auto s = broadcast_shapes(shape, shape_of(*v));
    if (!s) fail(loc, "shapes " + shape_str(shape) + " and " + shape_str(shape_of(*v)) + " cannot be broadcast together");
    shape = *s;
  }
  return shape;
}

DType IrGen::joint_dtype(const SVal& a, const SVal& c, const Loc& loc) {
  return promote(dtype_of(a, loc), !a.is_value(), dtype_of(c, loc), !c.is_value());
}

Value* IrGen::to_bool(const SVal& v, const Loc& loc) {
  Value* x = materialize(v, loc);
  if (x->type.is_ptr) fail(loc, "a pointer cannot be used as a condition");
  if (x->type.dtype == DType::I1) return x;
  Value* zero = constant(x->type, ConstValue::of_int(0), loc);
  Op* op = b().create(OpKind::Compare, loc, {x, zero}, {x->type.with_dtype(DType::I1)});
  op->cmp = CmpKind::Ne;
  return op->result();
}

// ---- Constant folding of Python-level arithmetic on constexprs ----

SVal IrGen::fold_binary(BinOp op, const ConstValue& a, const ConstValue& c, const Loc& loc) {
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

SVal IrGen::binary(BinOp op, const SVal& a, const SVal& c, const Loc& loc) {
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
  // Float `//` floors a correctly rounded quotient (x // x is 1): the exact division, since the
  // GPU's `/` is Triton's approximate one.
  Op* o = b().create(floor_after ? OpKind::Libdevice : OpKind::Binary, loc, {x, y}, {ty});
  if (floor_after) o->str = "div_rn";
  o->binary = kind;
  Value* r = o->result();
  if (floor_after) {
    Op* f = b().create(OpKind::Unary, loc, {r}, {ty});
    f->unary = UnaryKind::Floor;
    r = f->result();
  }
  return SVal::of(r);
}

// tl.maximum/minimum: propagate_nan=tl.PropagateNan.ALL makes a NaN in either operand win.
Value* IrGen::min_max(BinaryKind kind, const SVal& x, const SVal& y, const std::optional<SVal>& propagate, const Loc& loc) {
  Value* m = elementwise(kind, x, y, loc);
  int64_t mode = propagate ? const_int(*propagate, loc, "propagate_nan") : 0;
  if (mode != 0 && mode != 0xFFFF) fail(loc, "propagate_nan must be tl.PropagateNan.NONE or tl.PropagateNan.ALL");
  if (mode == 0 || !is_float(m->type.dtype)) return m;
  Value* xv = convert(x, m->type, loc);
  Value* yv = convert(y, m->type, loc);
  SVal inner = SVal::of(where(compare(CmpOp::Ne, SVal::of(yv), SVal::of(yv), loc), SVal::of(yv), SVal::of(m), loc));
  return where(compare(CmpOp::Ne, SVal::of(xv), SVal::of(xv), loc), SVal::of(xv), inner, loc);
}

Value* IrGen::elementwise(BinaryKind kind, const SVal& a, const SVal& c, const Loc& loc) {
  DType t = joint_dtype(a, c, loc);
  Type ty = Type::tile(t, joint_shape({&a, &c}, loc));
  Op* o = b().create(OpKind::Binary, loc, {convert(a, ty, loc), convert(c, ty, loc)}, {ty});
  o->binary = kind;
  return o->result();
}

SVal IrGen::compare(CmpOp op, const SVal& a, const SVal& c, const Loc& loc) {
  if (op == CmpOp::Is || op == CmpOp::IsNot) {
    // A runtime value (a tensor argument, a tile) is never None.
    if ((a.is_value() && c.is_none()) || (a.is_none() && c.is_value()))
      return SVal::of(ConstValue::of_bool(op == CmpOp::IsNot));
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

Value* IrGen::unary_op(UnaryKind k, Value* x, const Loc& loc) {
  Op* o = b().create(OpKind::Unary, loc, {x}, {x->type});
  o->unary = k;
  return o->result();
}

SVal IrGen::unary(UnaryOp op, const SVal& a, const Loc& loc) {
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

SVal IrGen::lookup(const std::string& name, const Loc& loc) {
  auto it = frame_->env.find(name);
  if (it != frame_->env.end()) return it->second;
  if (std::optional<SVal> g = constexpr_global(name, loc)) return *g;
  if (std::optional<SVal> m = imported(name, loc)) return *m;
  if (name == "tl" || name == "language") return module("tl");
  if (name == "tilec" || name == "triton") return module("tilec");
  if (name == "math" || name == "libdevice") return module("tl");
  const BuiltinSpec* spec = find_spec(python_builtin_specs(), name);
  if (!spec && mod_ == modules_[std_module_].get()) spec = find_spec(standard_library_specs(), name);
  if (spec) {
    SVal s;
    s.kind = SVal::Kind::Builtin;
    s.spec = spec;
    return s;
  }
  if (const TopLevelDef* d = find_def(name)) {
    SVal s;
    s.kind = SVal::Kind::Helper;
    s.name = d->name;
    s.module = mod_index();
    return s;
  }
  // Any tl name used bare (after `from tilec.language import load`) resolves like tl.<name>.
  if (find_spec(builtin_specs(), name) || find_libdevice_spec(name) || dtype_attr(name) || name == "PropagateNan" ||
      standard_function(name))
    return module_attr("tl", name, loc);
  fail(loc, "undefined name '" + name + "'");
}

// dtype.is_xxx() predicates of Triton's dtype class; nullopt for other names.
std::optional<bool> IrGen::dtype_query(const std::string& q, const SVal& d) {
  DType t = d.c.dtype;
  if (q == "is_ptr") return d.dtype_is_ptr && !d.dtype_is_block;
  if (q == "is_block") return d.dtype_is_block;
  bool known = q.rfind("is_", 0) == 0;
  if (known && (d.dtype_is_ptr || d.dtype_is_block)) return false;
  static const std::pair<const char*, DType> kExact[] = {
      {"is_int1", DType::I1},   {"is_bool", DType::I1},    {"is_int8", DType::I8},     {"is_int16", DType::I16},
      {"is_int32", DType::I32}, {"is_int64", DType::I64},  {"is_uint8", DType::U8},    {"is_uint16", DType::U16},
      {"is_uint32", DType::U32}, {"is_uint64", DType::U64}, {"is_fp16", DType::F16},   {"is_bf16", DType::BF16},
      {"is_fp32", DType::F32},  {"is_fp64", DType::F64},   {"is_fp8e5", DType::F8E5}, {"is_fp8e4nv", DType::F8E4},
  };
  for (const auto& [name, dt] : kExact)
    if (q == name) return t == dt;
  if (q == "is_floating") return is_float(t);
  if (q == "is_standard_floating") return is_float(t) && !is_fp8(t);
  if (q == "is_fp8") return is_fp8(t);
  if (q == "is_int") return is_int(t);
  if (q == "is_int_signed") return is_signed(t);
  if (q == "is_int_unsigned") return is_unsigned(t) || t == DType::I1;
  if (q == "is_fp8e4b15") return false;  // not a tilec dtype (see dtype_attr)
  return std::nullopt;
}

// A module-level `NAME = tl.constexpr(...)` (or `NAME: tl.constexpr = ...`), evaluated once in
// module scope: it may use literals, tl names and other constexpr globals.
std::optional<SVal> IrGen::constexpr_global(const std::string& name, const Loc& use) {
  auto done = mod_->global_values.find(name);
  if (done != mod_->global_values.end()) return done->second;
  const TopLevelConstexpr* g = nullptr;
  for (const TopLevelConstexpr& c : mod_->globals)
    if (c.name == name) g = &c;  // the last assignment in the module wins, as in Python
  if (!g) return std::nullopt;
  if (mod_->evaluating_globals.count(name)) fail(use, "constexpr global '" + name + "' is defined in terms of itself");
  std::vector<Token> tokens = lex(*mod_->file, g->first_line, g->last_line, diags_);
  if (diags_.has_errors()) throw AbortStage{};
  StmtPtr s = parse_module_statement(tokens, diags_);
  if (!s || diags_.has_errors()) throw AbortStage{};
  if ((s->kind != StmtKind::Assign && s->kind != StmtKind::AnnAssign) || !s->value)
    fail(s->loc, "module-level constexpr '" + name + "' must be a plain assignment");
  mod_->evaluating_globals.insert(name);
  Frame module_frame;
  Frame* saved = frame_;
  frame_ = &module_frame;
  SVal v = eval(*s->value);
  frame_ = saved;
  mod_->evaluating_globals.erase(name);
  if (v.kind != SVal::Kind::Const && v.kind != SVal::Kind::Tuple)
    fail(s->value->loc, "module-level constexpr '" + name + "' must be a compile-time value, got " + describe(v));
  return mod_->global_values[name] = v;
}

// A name bound by a top-level import of tilec/triton: `import triton.language.extra.libdevice
// as ld`, `from tilec.language import math as tlm`, `from triton.language.extra.cuda.libdevice
// import tanh as fast_tanh`. Modules are the tl namespace; a function is its tl builtin.
std::optional<SVal> IrGen::imported(const std::string& name, const Loc& loc) {
  const TopLevelImport* found = nullptr;
  for (const TopLevelImport& i : mod_->imports)
    if (i.alias == name) found = &i;
  if (!found) return std::nullopt;
  const std::string& t = found->target;
  std::string root = t.substr(0, t.find('.'));
  if (root != "triton" && root != "tilec") return imported_helper(t);
  if (t == root) return module("tilec");
  std::string last = t.substr(t.rfind('.') + 1);
  if (find_spec(builtin_specs(), last) || find_libdevice_spec(last) || dtype_attr(last) || last == "PropagateNan" || last == "constexpr" ||
      standard_function(last))
    return module_attr("tl", last, loc);
  if (last == "next_power_of_2" || last == "cdiv") return module_attr("tilec", last, loc);
  return module("tl");
}

// `from .utils import helper [as h]`: the @jit def `helper` of an imported file, preferring the
// file whose path ends like the import's module (utils.py, utils/__init__.py).
std::optional<SVal> IrGen::imported_helper(const std::string& target) {
  size_t dot = target.rfind('.');
  if (dot == std::string::npos) return std::nullopt;
  std::string def = target.substr(dot + 1), mod = target.substr(0, dot);
  while (!mod.empty() && mod[0] == '.') mod.erase(0, 1);
  std::replace(mod.begin(), mod.end(), '.', '/');
  std::optional<SVal> best;
  bool best_matches = false;
  for (size_t i = 0; i < modules_.size(); ++i) {
    if (modules_[i].get() == mod_ || i == std_module_) continue;
    for (const TopLevelDef& d : modules_[i]->defs) {
      if (d.name != def) continue;
      const std::string& path = modules_[i]->file->path();
      bool matches = !mod.empty() && (path.size() >= mod.size() + 3 && path.compare(path.size() - mod.size() - 3, mod.size() + 3, mod + ".py") == 0);
      matches = matches || (!mod.empty() && path.find(mod + "/__init__.py") != std::string::npos);
      if (!best || (matches && !best_matches)) {
        SVal s;
        s.kind = SVal::Kind::Helper;
        s.name = def;
        s.module = i;
        best = s;
        best_matches = matches;
      }
    }
  }
  return best;
}

SVal IrGen::module(const std::string& name) {
  SVal s;
  s.kind = SVal::Kind::Module;
  s.name = name;
  return s;
}

std::optional<DType> IrGen::dtype_attr(const std::string& n) {
  static const std::pair<const char*, DType> kNames[] = {
      {"int1", DType::I1},      {"int8", DType::I8},       {"int16", DType::I16},  {"int32", DType::I32},
      {"int64", DType::I64},    {"uint8", DType::U8},      {"uint16", DType::U16}, {"uint32", DType::U32},
      {"uint64", DType::U64},   {"float16", DType::F16},   {"bfloat16", DType::BF16}, {"float32", DType::F32},
      {"float64", DType::F64},  {"float8e5", DType::F8E5}, {"float8e4nv", DType::F8E4},
  };
  for (const auto& [name, t] : kNames)
    if (n == name) return t;
  return std::nullopt;
}

SVal IrGen::module_attr(const std::string& mod, const std::string& attr, const Loc& loc) {
  if (mod == "PropagateNan") {
    if (attr == "NONE") return SVal::of(ConstValue::of_int(0));
    if (attr == "ALL") return SVal::of(ConstValue::of_int(0xFFFF));
    fail(loc, "tl.PropagateNan has no member '" + attr + "'");
  }
  if (attr == "PropagateNan") return module("PropagateNan");
  if (attr == "language" || attr == "math" || attr == "libdevice" || attr == "extra" || attr == "cuda" || attr == "core" ||
      attr == "standard" || attr == "random" || attr == "target_info")
    return module("tl");
  if (attr == "constexpr") {
    SVal s;
    s.kind = SVal::Kind::ConstexprType;
    return s;
  }
  if (auto t = dtype_attr(attr)) return SVal::of(ConstValue::of_dtype(*t));
  if (attr == "TRITON_MAX_TENSOR_NUMEL") return SVal::of(ConstValue::of_int(int64_t{1} << 20));  // tilec's limit too
  const BuiltinSpec* spec = find_spec(builtin_specs(), attr);
  if (!spec) spec = find_libdevice_spec(attr);
  if (spec) {
    SVal s;
    s.kind = SVal::Kind::Builtin;
    s.spec = spec;
    return s;
  }
  if (std::optional<SVal> f = standard_function(attr)) return *f;
  if (attr.rfind("float8", 0) == 0)
    fail(loc, "'" + mod + "." + attr + "' is not supported: tilec's fp8 types are tl.float8e5 (e5m2) and tl.float8e4nv (e4m3fn)" +
                  (attr == "float8e4b15" ? "; Triton itself converts fp8e4b15 with sm_70/sm_80 inline PTX and deprecates it on sm_90" : ""));
  if (is_triton_language_name(attr))
    fail(loc, "tl." + attr + " (part of Triton's triton.language) is not implemented by tilec");
  fail(loc, "'" + mod + "' has no attribute '" + attr + "' usable in kernels");
}

// A @jit function of the standard library (tl.sort, tl.reduce, ...), inlined like a user helper.
std::optional<SVal> IrGen::standard_function(const std::string& name) const {
  for (const TopLevelDef& d : modules_[std_module_]->defs)
    if (d.name == name && name[0] != '_') {
      SVal s;
      s.kind = SVal::Kind::Helper;
      s.name = name;
      s.module = std_module_;
      return s;
    }
  return std::nullopt;
}

SVal IrGen::eval_attribute(const Expr& e) {
  SVal base = eval(*e.args[0]);
  const std::string& attr = e.name;
  switch (base.kind) {
    case SVal::Kind::Module: return module_attr(base.name, attr, e.loc);
    case SVal::Kind::Value: {
      const Type& t = base.v->type;
      if (attr == "dtype" || attr == "type") {
        SVal d = SVal::of(ConstValue::of_dtype(t.dtype));
        d.dtype_is_ptr = t.is_ptr;
        d.dtype_is_block = attr == "type" && t.is_tile();
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
        if (attr == "element_ty" || attr == "scalar") {
          SVal elem = SVal::of(ConstValue::of_dtype(base.c.dtype));
          if (base.dtype_is_block) {
            elem.dtype_is_ptr = base.dtype_is_ptr;
            return elem;
          }
          if (attr == "scalar") {
            elem.dtype_is_ptr = base.dtype_is_ptr;
            return elem;
          }
          if (!base.dtype_is_ptr) fail(e.loc, "'element_ty' is only defined on pointer and tile types, not on " + base.c.str());
          return elem;
        }
        if (base.dtype_is_ptr || base.dtype_is_block) {
          if (attr == "is_ptr" || attr == "is_block") {
            SVal m;
            m.kind = SVal::Kind::Method;
            m.name = attr;
            m.items = {base};
            return m;
          }
          if (dtype_query(attr, base)) {
            SVal m;
            m.kind = SVal::Kind::Method;
            m.name = attr;
            m.items = {base};
            return m;
          }
          fail(e.loc, describe(base) + " (a " + (base.dtype_is_block ? "tile" : "pointer") + " type) has no attribute '" + attr +
                          "'; use .element_ty first");
        }
        if (attr == "primitive_bitwidth" || attr == "int_bitwidth") return SVal::of(ConstValue::of_int(dtype_bits(base.c.dtype)));
        if (attr == "fp_mantissa_width") {
          int w = 0;
          switch (base.c.dtype) {
            case DType::F8E5: w = 2; break;
            case DType::F8E4: w = 3; break;
            case DType::F16: w = 10; break;
            case DType::BF16: w = 7; break;
            case DType::F32: w = 23; break;
            case DType::F64: w = 52; break;
            case DType::I1: case DType::I8: case DType::I16: case DType::I32: case DType::I64:
            case DType::U8: case DType::U16: case DType::U32: case DType::U64:
              fail(e.loc, "fp_mantissa_width of the integer type " + base.c.str());
          }
          return SVal::of(ConstValue::of_int(w));
        }
        if (attr == "name") return SVal::of(ConstValue::of_str(base.c.str().substr(3)));
        if (dtype_query(attr, base)) {
          SVal m;
          m.kind = SVal::Kind::Method;
          m.name = attr;
          m.items = {base};
          return m;
        }
      }
      if (attr == "value") return base;  // tl.constexpr(x).value
      fail(e.loc, describe(base) + " has no attribute '" + attr + "'");
    case SVal::Kind::BlockPtr:
      if (base.bp->descriptor) {
        if (attr == "load" || attr == "store") {
          SVal m;
          m.kind = SVal::Kind::Method;
          m.name = attr == "load" ? "load_tensor_descriptor" : "store_tensor_descriptor";
          m.items = {base};
          return m;
        }
        if (attr == "block_shape") {
          std::vector<SVal> dims;
          for (int64_t d : base.bp->block) dims.push_back(SVal::of(ConstValue::of_int(d)));
          return SVal::tuple(dims);
        }
        if (attr == "dtype") return SVal::of(ConstValue::of_dtype(base.bp->base->type.dtype));
      }
      fail(e.loc, describe(base) + " has no attribute '" + attr + "'");
    case SVal::Kind::Tuple: case SVal::Kind::Builtin: case SVal::Kind::Helper: case SVal::Kind::Method:
    case SVal::Kind::ConstexprType:
      fail(e.loc, describe(base) + " has no attribute '" + attr + "'");
  }
  fail(e.loc, "bad attribute");
}

SVal IrGen::eval_subscript(const Expr& e) {
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

SVal IrGen::eval(const Expr& e) {
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
    case ExprKind::Unary:
      return unary(e.unary_op, e.unary_op == UnaryOp::Not ? pointer_truth(eval(*e.args[0])) : eval(*e.args[0]), e.loc);
    case ExprKind::BoolOp: {
      SVal acc = pointer_truth(eval(*e.args[0]));
      for (size_t i = 1; i < e.args.size(); ++i) {
        if (acc.kind == SVal::Kind::Const) {
          bool t = truthy(acc, e.args[i - 1]->loc);
          // Python short-circuit on constexprs: the deciding operand is the result.
          if (e.bool_op == BoolOpKind::And ? !t : t) return acc;
          acc = pointer_truth(eval(*e.args[i]));
          continue;
        }
        SVal rhs = pointer_truth(eval(*e.args[i]));
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
      SVal cond = pointer_truth(eval(*e.args[0]));
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

std::vector<std::optional<SVal>> IrGen::bind_args(const BuiltinSpec& spec, std::vector<SVal> pos,
                                                  std::vector<std::pair<std::string, SVal>> kw, const Loc& loc) {
  std::vector<std::optional<SVal>> out(spec.params.size());
  size_t np = spec.params.size();
  for (size_t i = 0; i < spec.params.size(); ++i)
    if (std::string(spec.params[i]) == "*") np = i;  // the keyword-only params follow
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
    while (i < spec.params.size() && (name != spec.params[i] || name == "*")) ++i;
    if (i == spec.params.size()) fail(loc, std::string(spec.name) + "() got an unexpected keyword argument '" + name + "'");
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

std::vector<std::optional<SVal>> IrGen::bind_call(const BuiltinSpec& spec, const Expr& call, std::vector<SVal> self) {
  std::vector<SVal> pos = std::move(self);
  for (size_t i = 1; i < call.args.size(); ++i) pos.push_back(eval(*call.args[i]));
  std::vector<std::pair<std::string, SVal>> kw;
  for (const Keyword& k : call.keywords) kw.emplace_back(k.name, eval(*k.value));
  return bind_args(spec, std::move(pos), std::move(kw), call.loc);
}

SVal IrGen::eval_call(const Expr& e) {
  SVal callee = eval(*e.args[0]);
  switch (callee.kind) {
    case SVal::Kind::Builtin: return call_builtin(*callee.spec, bind_call(*callee.spec, e, {}), e.loc);
    case SVal::Kind::Method: {
      if (callee.items[0].is_const(ConstValue::Kind::DType)) {
        if (e.args.size() != 1 || !e.keywords.empty()) fail(e.loc, "dtype." + callee.name + "() takes no arguments");
        return SVal::of(ConstValue::of_bool(*dtype_query(callee.name, callee.items[0])));
      }
      const BuiltinSpec* spec = find_spec(builtin_specs(), callee.name);
      if (!spec) return call_helper(*standard_function(callee.name), e, {callee.items[0]});
      return call_builtin(*spec, bind_call(*spec, e, {callee.items[0]}), e.loc);
    }
    case SVal::Kind::Helper: return call_helper(callee, e);
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
    case SVal::Kind::Value: case SVal::Kind::Tuple: case SVal::Kind::Module: case SVal::Kind::BlockPtr:
      fail(e.loc, describe(callee) + " is not callable");
  }
  fail(e.loc, "bad call");
}

// `self`: a method call's tile (x.sort()), bound before the call's own arguments.
SVal IrGen::call_helper(const SVal& callee, const Expr& call, std::vector<SVal> self) {
  const std::string& name = callee.name;
  Module* caller = mod_;
  mod_ = modules_.at(callee.module).get();
  const TopLevelDef* d = find_def(name);
  const FunctionDef* def = d && d->is_jit ? parse_def(name, call.loc) : nullptr;
  mod_ = caller;
  if (!d->is_jit) fail(call.loc, "'" + name + "' is not a @tilec.jit function; decorate it with @tilec.jit to call it from a kernel");
  for (const std::string& n : call_stack_)
    if (n == name) fail(call.loc, "recursive call to '" + name + "': helpers are inlined into the kernel, so recursion is not supported");
  if (call_stack_.size() >= 64) fail(call.loc, "helper calls nested more than 64 deep");
  std::vector<SVal> pos = std::move(self);
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
  mod_ = modules_.at(callee.module).get();  // defaults and the body see the helper's own file
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
  std::optional<std::pair<Loc, std::string>> saved_std_call = std_call_;
  if (callee.module == std_module_ && caller != modules_[std_module_].get()) std_call_.emplace(call.loc, name);
  exec_block(def->body);
  std_call_ = saved_std_call;
  call_stack_.pop_back();
  frame_ = saved;
  mod_ = caller;
  return frame.ret ? *frame.ret : SVal::of(ConstValue{});
}

}  // namespace tilec::ir_gen

namespace tilec {

std::unique_ptr<Function> build_ir(const SourceFile& file, const std::string& kernel, const Signature& sig,
                                   const KernelTarget& target, Diagnostics& diags,
                                   const std::vector<std::shared_ptr<const SourceFile>>& imported) {
  return ir_gen::IrGen(file, imported, sig, target, diags).run(kernel);
}

}  // namespace tilec
