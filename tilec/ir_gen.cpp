// Input: a Python module's text (plus the files of @jit helpers it imports), a kernel name, a
// Signature and a KernelTarget. Output: typed tile IR of the kernel: constexprs (target queries
// included) folded, constexpr `if`s pruned, static_range unrolled, helpers inlined, early returns
// turned into structured ifs, block pointers and tensor descriptors turned into pointer tiles and
// masks at each load and store, fp8 dot operands widened to fp16.
// Invariant: every emitted op has the Loc of the expression it comes from; the first error aborts.
#include "tilec/ir_gen.h"

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

#include "tilec/lexer.h"
#include "tilec/lower_loop_returns.h"
#include "tilec/libdevice.h"
#include "tilec/module_scan.h"
#include "tilec/parser.h"
#include "tilec/standard_library.h"

namespace tilec {
namespace {

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

const BuiltinSpec* find_spec(const std::vector<BuiltinSpec>& specs, const std::string& name);

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

std::vector<int64_t> drop_dim(std::vector<int64_t> s, int axis) {
  s.erase(s.begin() + axis);
  return s;
}

class IrGen {
 public:
  IrGen(const SourceFile& file, const std::vector<std::shared_ptr<const SourceFile>>& imported, const Signature& sig,
        const KernelTarget& target, Diagnostics& diags)
      : sig_(sig), target_(target), diags_(diags) {
    add_module(file);
    for (const auto& f : imported) add_module(*f);
    add_module(standard_library_source());
    std_module_ = modules_.size() - 1;
    mod_ = modules_[0].get();
  }

  std::unique_ptr<Function> run(const std::string& kernel) {
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

 private:
  [[noreturn]] void fail(const Loc& loc, const std::string& msg) {
    // An error inside the standard library's code is the caller's: it points at the tl.* call.
    if (std_call_ && loc.file == &standard_library_source()) diags_.error(std_call_->first, "tl." + std_call_->second + ": " + msg);
    else diags_.error(loc, msg);
    throw AbortStage{};
  }

  Builder& b() { return *builder_; }

  // ---- Finding and parsing functions of the module ----

  void add_module(const SourceFile& file) {
    auto m = std::make_unique<Module>();
    m->file = &file;
    m->defs = scan_module(file);
    m->globals = scan_constexpr_globals(file);
    m->imports = scan_imports(file);
    modules_.push_back(std::move(m));
  }

  size_t mod_index() const {
    size_t i = 0;
    while (modules_[i].get() != mod_) ++i;
    return i;
  }

  const TopLevelDef* find_def(const std::string& name) const {
    for (const TopLevelDef& d : mod_->defs)
      if (d.name == name) return &d;
    return nullptr;
  }

  const FunctionDef* parse_def(const std::string& name, const Loc& use) {
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

  // A host-side TensorDescriptor parameter: its base pointer, shape and strides arrive as runtime
  // arguments (the last stride is 1, checked at launch); then it is the descriptor that
  // tl.make_tensor_descriptor builds, with the same checks.
  SVal descriptor_param(const ArgSpec& spec, const Loc& loc) {
    auto arg = [&](Type t, const std::string& name, int divisibility) {
      Value* v = fn_->new_value(t, name);
      fn_->args.push_back(v);
      fn_->arg_info.push_back(ArgInfo{name, divisibility});
      return v;
    };
    BlockPtr p;
    p.descriptor = true;
    p.nan_padding = spec.nan_padding;
    p.block = spec.block;
    // Triton's rules, checked at launch: a 16-byte aligned base and strides. `:16` adds shape
    // entries divisible by 16, which make the bounds masks uniform over vectors.
    p.base = arg(Type::pointer(spec.dtype), spec.name, 16);
    size_t rank = p.block.size();
    check_tile_size(p.block, loc);
    if (p.block.back() * dtype_bytes(spec.dtype) < 16)
      fail(loc, "descriptor '" + spec.name + "' has a block_shape " + shape_str(p.block) + " of " +
                    std::to_string(p.block.back() * dtype_bytes(spec.dtype)) + " bytes in the last dim; Triton requires at least 16");
    if (p.nan_padding && !is_float(spec.dtype)) fail(loc, "descriptor '" + spec.name + "' pads with NaN but holds " + dtype_name(spec.dtype));
    int stride_div = static_cast<int>(std::max<int64_t>(1, 16 / dtype_bytes(spec.dtype)));
    for (size_t d = 0; d < rank; ++d)
      p.shape.push_back(arg(Type::scalar(DType::I64), spec.name + "_shape" + std::to_string(d), spec.divisibility));
    for (size_t d = 0; d + 1 < rank; ++d)
      p.strides.push_back(arg(Type::scalar(DType::I64), spec.name + "_stride" + std::to_string(d), stride_div));
    p.strides.push_back(constant(Type::scalar(DType::I64), ConstValue::of_int(1), loc));
    for (size_t d = 0; d < rank; ++d) {
      p.offsets.push_back(constant(Type::scalar(DType::I32), ConstValue::of_int(0), loc));
      p.order.push_back(static_cast<int64_t>(rank - 1 - d));
    }
    return SVal::block_ptr(std::move(p));
  }

  // ---- Statements ----

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

  void exec_block(const std::vector<StmtPtr>& body) { exec_seq(body, 0, {}); }

  void exec_seq(const std::vector<StmtPtr>& body, size_t start, const Continuation& cont) {
    for (size_t i = start; i < body.size(); ++i) {
      if (frame_->returned) return;
      const Stmt& s = *body[i];
      if (s.kind == StmtKind::If && contains_return(s.body, s.orelse)) {
        Continuation next = cont;
        next.insert(next.begin(), ContItem{&body, i + 1});
        SVal cond = pointer_truth(eval(*s.test));
        if (cond.kind == SVal::Kind::Const) exec_seq(truthy(cond, s.test->loc) ? s.body : s.orelse, 0, next);
        else exec_if_returning(s, cond, next);
        return;
      }
      if (s.kind == StmtKind::For && contains_return(s.body, {})) {
        if (std::optional<ContItem> loop = static_range_loop(s)) {
          // Unrolled with the rest of the function as each iteration's continuation.
          Continuation next = cont;
          next.insert(next.begin(), ContItem{&body, i + 1});
          next.insert(next.begin(), *loop);
          resume(next);
          return;
        }
      }
      if ((s.kind == StmtKind::For || s.kind == StmtKind::While) && contains_return(s.body, {})) {
        // Early exit from a runtime loop: a done flag (lower_loop_returns.cpp), whose final
        // `if flag: return` takes the rest of the function as its else branch.
        Continuation next = cont;
        next.insert(next.begin(), ContItem{&body, i + 1});
        exec_seq(lowered_loop(s), 0, next);
        return;
      }
      exec(s);
    }
    if (!cont.empty() && !frame_->returned) resume(cont);
  }

  void resume(const Continuation& cont) {
    const ContItem& c = cont.at(0);
    Continuation rest(cont.begin() + 1, cont.end());
    if (!c.loop) return exec_seq(*c.block, c.index, rest);
    if (c.step > 0 ? c.next >= c.end : c.next <= c.end) {
      if (!rest.empty()) resume(rest);
      return;
    }
    ContItem after = c;
    after.next += c.step;
    rest.insert(rest.begin(), after);
    frame_->env[c.loop->target->name] = SVal::of(ConstValue::of_int(c.next));
    exec_seq(c.loop->body, 0, rest);
  }

  // The iterations of a `for` over tl.static_range (nullopt for any other loop).
  std::optional<ContItem> static_range_loop(const Stmt& s) {
    const Expr& it = *s.iter;
    if (it.kind != ExprKind::Call) return std::nullopt;
    SVal callee = eval(*it.args[0]);
    if (callee.kind != SVal::Kind::Builtin || callee.spec->id != Builtin::StaticRange) return std::nullopt;
    RangeArgs r = range_args(bind_call(*callee.spec, it, {}), it.loc);
    if (r.lb.kind != SVal::Kind::Const || r.ub.kind != SVal::Kind::Const || r.step.kind != SVal::Kind::Const)
      fail(it.loc, "tl.static_range bounds must be constexpr");
    if (s.target->kind != ExprKind::Name) fail(s.target->loc, "the loop variable must be a single name");
    int64_t count = r.step.c.i > 0 ? (r.ub.c.i - r.lb.c.i + r.step.c.i - 1) / r.step.c.i : (r.lb.c.i - r.ub.c.i - r.step.c.i - 1) / -r.step.c.i;
    if (count > 4096) fail(it.loc, "tl.static_range unrolls to more than 4096 iterations; use tl.range");
    ContItem c;
    c.loop = &s;
    c.next = r.lb.c.i;
    c.end = r.ub.c.i;
    c.step = r.step.c.i;
    return c;
  }

  // The statements that run `loop` (whose body returns) with a done flag, made once per loop.
  const std::vector<StmtPtr>& lowered_loop(const Stmt& loop) {
    auto it = lowered_loops_.find(&loop);
    if (it != lowered_loops_.end()) return it->second;
    std::vector<StmtPtr> out;
    Loc error_loc;
    std::string error;
    if (!lower_loop_returns(loop, &next_flag_id_, &out, &error_loc, &error)) fail(error_loc, error);
    return lowered_loops_[&loop] = std::move(out);
  }

  // Whether a return sits in these blocks: in an `if`, or in a loop (tl.static_range loops unroll
  // around it; other loops are lowered to a done flag).
  static bool contains_return(const std::vector<StmtPtr>& a, const std::vector<StmtPtr>& b) {
    for (const auto* block : {&a, &b})
      for (const StmtPtr& s : *block) {
        if (s->kind == StmtKind::Return) return true;
        if ((s->kind == StmtKind::If || s->kind == StmtKind::For || s->kind == StmtKind::While) && contains_return(s->body, s->orelse))
          return true;
      }
    return false;
  }

  // A runtime `if` of which some path returns: each branch runs on to the function's end (through
  // `cont`), and the two return values meet as the If op's results.
  void exec_if_returning(const Stmt& s, const SVal& cond, const Continuation& cont) {
    Value* c = to_bool(cond, s.test->loc);
    if (c->type.is_tile()) fail(s.test->loc, "an 'if' condition must be a scalar, got " + c->type.str() + "; use tl.where for elementwise choices");
    Op* op = b().create(OpKind::If, s.loc, {c}, {});
    op->regions.resize(2);
    Region* saved = b().region();
    std::map<std::string, SVal> before = frame_->env;
    std::vector<SVal> rets;
    for (int branch = 0; branch < 2; ++branch) {
      frame_->env = before;
      frame_->returned = false;
      frame_->ret.reset();
      b().set_region(&op->regions[branch]);
      exec_seq(branch == 0 ? s.body : s.orelse, 0, cont);
      rets.push_back(frame_->ret ? *frame_->ret : SVal::of(ConstValue{}));
    }
    std::vector<SVal> then_items = rets[0].kind == SVal::Kind::Tuple ? rets[0].items : std::vector<SVal>{rets[0]};
    std::vector<SVal> else_items = rets[1].kind == SVal::Kind::Tuple ? rets[1].items : std::vector<SVal>{rets[1]};
    if (then_items.size() != else_items.size() || rets[0].kind != rets[1].kind)
      fail(s.loc, "the branches of this 'if' return " + describe(rets[0]) + " and " + describe(rets[1]));
    std::vector<SVal> merged(then_items.size());
    std::vector<size_t> runtime;
    std::vector<Type> types;
    for (size_t i = 0; i < then_items.size(); ++i) {
      const SVal &tv = then_items[i], &ev = else_items[i];
      if (tv.kind == SVal::Kind::Const && ev.kind == SVal::Kind::Const && tv.c.str() == ev.c.str()) {
        merged[i] = tv;
        continue;
      }
      if (!(tv.is_value() || tv.is_number()) || !(ev.is_value() || ev.is_number()))
        fail(s.loc, "the branches of this 'if' return " + describe(tv) + " and " + describe(ev));
      runtime.push_back(i);
      types.push_back(join_type("the return value", tv, ev, s.loc));
    }
    for (int branch = 0; branch < 2; ++branch) {
      b().set_region(&op->regions[branch]);
      std::vector<Value*> vals;
      for (size_t j = 0; j < runtime.size(); ++j)
        vals.push_back(convert(branch == 0 ? then_items[runtime[j]] : else_items[runtime[j]], types[j], s.loc));
      b().create(OpKind::Yield, s.loc, vals, {});
    }
    b().set_region(saved);
    for (size_t j = 0; j < runtime.size(); ++j) {
      Value* r = fn_->new_value(types[j], "ret");
      r->def = op;
      op->results.push_back(r);
      merged[runtime[j]] = SVal::of(r);
    }
    frame_->env = before;
    frame_->ret = rets[0].kind == SVal::Kind::Tuple ? SVal::tuple(merged) : merged[0];
    frame_->returned = true;
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
    op->str = msg.empty() ? (loc.file ? loc.file->path() : fn_->name) + ":" + std::to_string(loc.line) + ": device assertion failed" : msg;
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

  // Names assigned in `body` that hold numbers, tiles or block pointers before it: the loop-carried state.
  std::vector<std::string> carried_names(const std::vector<StmtPtr>& body) {
    std::set<std::string> assigned;
    collect_assigned(body, assigned);
    std::vector<std::string> out;
    for (const std::string& n : assigned) {
      auto it = frame_->env.find(n);
      if (it != frame_->env.end() && (it->second.is_value() || it->second.is_number() || it->second.kind == SVal::Kind::BlockPtr))
        out.push_back(n);
    }
    return out;
  }

  // The IR values a carried name occupies at loop entry: one for a number (made a runtime value)
  // or a tile, one per dim for a block pointer (its offsets).
  std::vector<Value*> carried_init(const std::string& name, const Loc& loc) {
    const SVal& v = frame_->env.at(name);
    if (v.kind == SVal::Kind::BlockPtr) return v.bp->offsets;
    return {materialize(v, loc)};
  }

  // The SVal of a carried name whose IR values are `vals` (as many as carried_init gave).
  static SVal carried_bind(const SVal& init, const std::vector<Value*>& vals) {
    if (init.kind != SVal::Kind::BlockPtr) return SVal::of(vals.at(0));
    BlockPtr p = *init.bp;
    p.offsets = vals;
    return SVal::block_ptr(std::move(p));
  }

  // Converts what the body left in `name` to the carried types `want`; `init` is its value at entry.
  std::vector<Value*> carried_out(const std::string& name, const SVal& init, const std::vector<Type>& want, const Loc& loc) {
    auto it = frame_->env.find(name);
    if (it == frame_->env.end()) fail(loc, "loop-carried variable '" + name + "' is no longer defined at the end of the loop body");
    const SVal& v = it->second;
    if (init.kind == SVal::Kind::BlockPtr) {
      if (v.kind != SVal::Kind::BlockPtr) fail(loc, "loop-carried variable '" + name + "' became " + describe(v));
      if (!same_block_ptr_frame(*v.bp, *init.bp))
        fail(loc, "block pointer '" + name + "' gets a new base, shape, strides, block shape or order inside the loop; "
                  "only tl.advance may change a loop-carried block pointer");
      return v.bp->offsets;
    }
    if (v.kind == SVal::Kind::Const && v.is_number()) return {constant(want.at(0), v.c, loc)};
    if (!v.is_value()) fail(loc, "loop-carried variable '" + name + "' became " + describe(v));
    Value* x = v.v;
    if (x->type == want.at(0)) return {x};
    if (x->type.element() == want[0].element() && broadcast_shapes(x->type.shape, want[0].shape) == want[0].shape)
      return {broadcast_to(x, want[0].shape, loc)};
    fail(loc, "loop-carried variable '" + name + "' has type " + want[0].str() + " before the loop but " + x->type.str() +
                  " at the end of the body; keep its type the same (use .to() or tl.broadcast_to)");
  }

  // Two block pointers that may differ only in their offsets.
  static bool same_block_ptr_frame(const BlockPtr& a, const BlockPtr& c) {
    return a.base == c.base && a.shape == c.shape && a.strides == c.strides && a.block == c.block && a.order == c.order;
  }

  // The loop-carried state of a for/while loop: each name's value at entry and its IR slots.
  struct Carried {
    std::vector<std::string> names;
    std::vector<SVal> inits;
    std::vector<Value*> values;              // every slot's value at entry
    std::vector<std::vector<size_t>> slots;  // per name: indices into `values`
  };

  Carried carried_state(const std::vector<StmtPtr>& body, const std::string& exclude, const Loc& loc) {
    Carried c;
    for (const std::string& n : carried_names(body)) {
      if (n == exclude) continue;
      c.names.push_back(n);
      c.inits.push_back(frame_->env.at(n));
      c.slots.emplace_back();
      for (Value* v : carried_init(n, loc)) {
        c.slots.back().push_back(c.values.size());
        c.values.push_back(v);
      }
    }
    return c;
  }

  // Binds every carried name to `vals` (one per slot: region arguments or op results).
  void bind_carried(const Carried& c, const std::vector<Value*>& vals) {
    for (size_t i = 0; i < c.names.size(); ++i) {
      std::vector<Value*> mine;
      for (size_t k : c.slots[i]) mine.push_back(vals.at(k));
      frame_->env[c.names[i]] = carried_bind(c.inits[i], mine);
    }
  }

  // New values of the slots' types, named after their variables.
  std::vector<Value*> carried_values(const Carried& c) {
    std::vector<Value*> out(c.values.size());
    for (size_t i = 0; i < c.names.size(); ++i)
      for (size_t k : c.slots[i]) out[k] = fn_->new_value(c.values[k]->type, c.names[i]);
    return out;
  }

  // What the body leaves in the carried names, one value per slot.
  std::vector<Value*> carried_yields(const Carried& c, const Loc& loc) {
    std::vector<Value*> out;
    for (size_t i = 0; i < c.names.size(); ++i) {
      std::vector<Type> want;
      for (size_t k : c.slots[i]) want.push_back(c.values[k]->type);
      for (Value* v : carried_out(c.names[i], c.inits[i], want, loc)) out.push_back(v);
    }
    return out;
  }

  // A scalar pointer is always truthy (`if bias_ptr:` tests for None, which is a constexpr).
  static SVal pointer_truth(SVal v) {
    if (v.is_value() && v.v->type.is_ptr && !v.v->type.is_tile()) return SVal::of(ConstValue::of_bool(true));
    return v;
  }

  void exec_if(const Stmt& s) {
    SVal cond = pointer_truth(eval(*s.test));
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
    b().set_region(&op->regions[0]);
    exec_block(s.body);
    std::map<std::string, SVal> then_env = frame_->env;
    frame_->env = before;
    b().set_region(&op->regions[1]);
    exec_block(s.orelse);
    std::map<std::string, SVal> else_env = frame_->env;

    std::set<std::string> assigned;
    collect_assigned(s.body, assigned);
    collect_assigned(s.orelse, assigned);
    std::vector<std::string> results;
    std::vector<int> dims;  // -1: the variable's value; d >= 0: offset d of a block pointer
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
      if (tv.kind == SVal::Kind::BlockPtr && ev.kind == SVal::Kind::BlockPtr) {
        if (!same_block_ptr_frame(*tv.bp, *ev.bp))
          fail(s.loc, "block pointer '" + n + "' gets a new base, shape, strides, block shape or order in a branch of this 'if'; "
                      "only tl.advance may differ between the branches");
        if (tv.bp->offsets == ev.bp->offsets) {
          frame_->env[n] = tv;
          continue;
        }
        for (size_t d = 0; d < tv.bp->offsets.size(); ++d) {
          results.push_back(n);
          dims.push_back(static_cast<int>(d));
          types.push_back(tv.bp->offsets[d]->type);
        }
        continue;
      }
      if (!(tv.is_value() || tv.is_number()) || !(ev.is_value() || ev.is_number()))
        fail(s.loc, "variable '" + n + "' is " + describe(tv) + " in one branch and " + describe(ev) + " in the other");
      Type ty = join_type(n, tv, ev, s.loc);
      results.push_back(n);
      dims.push_back(-1);
      types.push_back(ty);
    }
    auto branch_value = [&](const std::map<std::string, SVal>& env, size_t i) {
      const SVal& v = env.at(results[i]);
      return dims[i] < 0 ? convert(v, types[i], s.loc) : v.bp->offsets[dims[i]];
    };
    std::vector<Value*> then_vals, else_vals;
    b().set_region(&op->regions[0]);
    for (size_t i = 0; i < results.size(); ++i) then_vals.push_back(branch_value(then_env, i));
    b().create(OpKind::Yield, s.loc, then_vals, {});
    b().set_region(&op->regions[1]);
    for (size_t i = 0; i < results.size(); ++i) else_vals.push_back(branch_value(else_env, i));
    b().create(OpKind::Yield, s.loc, else_vals, {});
    b().set_region(saved);
    for (size_t i = 0; i < results.size(); ++i) {
      Value* r = fn_->new_value(types[i], results[i]);
      r->def = op;
      op->results.push_back(r);
      if (dims[i] < 0) {
        frame_->env[results[i]] = SVal::of(r);
      } else {
        BlockPtr p = *then_env.at(results[i]).bp;
        if (dims[i] > 0) p.offsets = frame_->env.at(results[i]).bp->offsets;
        p.offsets[dims[i]] = r;
        frame_->env[results[i]] = SVal::block_ptr(std::move(p));
      }
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
    int64_t num_stages = 0;
    if (callee.spec->id == Builtin::TlRange) {
      // num_stages is honoured by the GPU software pipeliner; the other loop options are not.
      if (args.size() > 3 && args[3] && !args[3]->is_none()) {
        if (!args[3]->is_const(ConstValue::Kind::Int) || args[3]->c.i < 1 || args[3]->c.i > 8)
          fail(it.loc, "tl.range num_stages must be a constexpr integer between 1 and 8");
        num_stages = args[3]->c.i;
      }
      const char* unsupported[] = {"loop_unroll_factor", "flatten", "warp_specialize"};
      for (size_t i = 4; i < args.size() && i < 7; ++i)
        if (args[i] && !args[i]->is_none())
          fail(it.loc, std::string("tl.range(") + unsupported[i - 4] + "=...) is not supported by tilec; remove the argument");
    }
    DType ity = DType::I32;
    for (const SVal* v : {&r.lb, &r.ub, &r.step}) {
      if (v->is_value()) ity = promote(ity, false, v->v->type.dtype, false);
      else if (v->c.i > std::numeric_limits<int32_t>::max() || v->c.i < std::numeric_limits<int32_t>::min()) ity = DType::I64;
    }
    Value* lb = convert(r.lb, Type::scalar(ity), it.loc);
    Value* ub = convert(r.ub, Type::scalar(ity), it.loc);
    Value* step = convert(r.step, Type::scalar(ity), it.loc);
    Carried carried = carried_state(s.body, s.target->name, s.loc);
    std::vector<Value*> operands = {lb, ub, step};
    operands.insert(operands.end(), carried.values.begin(), carried.values.end());
    Op* op = b().create(OpKind::For, s.loc, operands, {});
    op->ival = num_stages;
    op->regions.resize(1);
    Region& body = op->regions[0];
    body.args.push_back(fn_->new_value(Type::scalar(ity), s.target->name));
    std::vector<Value*> carried_args = carried_values(carried);
    body.args.insert(body.args.end(), carried_args.begin(), carried_args.end());
    std::map<std::string, SVal> before = frame_->env;
    frame_->env[s.target->name] = SVal::of(body.args[0]);
    bind_carried(carried, carried_args);
    Region* saved = b().region();
    b().set_region(&body);
    exec_block(s.body);
    std::vector<Value*> yields = carried_yields(carried, s.loc);
    std::vector<bool> kept = drop_invariant_offsets(carried, carried_args, yields, body);
    std::vector<Value*> kept_args, kept_yields;
    for (size_t k = 0; k < kept.size(); ++k) {
      if (!kept[k]) continue;
      kept_args.push_back(carried_args[k]);
      kept_yields.push_back(yields[k]);
    }
    op->operands.resize(3);
    body.args.resize(1);
    for (size_t k = 0; k < kept.size(); ++k)
      if (kept[k]) op->operands.push_back(carried.values[k]);
    body.args.insert(body.args.end(), kept_args.begin(), kept_args.end());
    b().create(OpKind::Yield, s.loc, kept_yields, {});
    b().set_region(saved);
    frame_->env = before;
    std::vector<Value*> results = carried_values(carried);
    for (size_t k = 0; k < kept.size(); ++k) {
      if (!kept[k]) {
        results[k] = carried.values[k];
        continue;
      }
      results[k]->def = op;
      op->results.push_back(results[k]);
    }
    bind_carried(carried, results);
  }

  // Block-pointer offsets that a for loop's body leaves as they were (advanced by 0 or not at all)
  // are not carried: their uses in the body (and in the other yields) become the value at entry.
  // Returns, per slot, whether it stays carried.
  std::vector<bool> drop_invariant_offsets(const Carried& c, const std::vector<Value*>& args, std::vector<Value*>& yields,
                                           Region& body) {
    std::vector<bool> kept(args.size(), true);
    std::map<Value*, Value*> repl;
    for (size_t i = 0; i < c.names.size(); ++i) {
      if (c.inits[i].kind != SVal::Kind::BlockPtr) continue;
      for (size_t k : c.slots[i])
        if (yields[k] == args[k]) {
          kept[k] = false;
          repl[args[k]] = c.values[k];
        }
    }
    if (repl.empty()) return kept;
    auto subst = [&](Value*& v) {
      auto it = repl.find(v);
      if (it != repl.end()) v = it->second;
    };
    walk_ops(body, [&](Op* op) {
      for (Value*& v : op->operands) subst(v);
    });
    for (Value*& v : yields) subst(v);
    return kept;
  }

  void exec_while(const Stmt& s) {
    Carried carried = carried_state(s.body, "", s.loc);
    Op* op = b().create(OpKind::While, s.loc, carried.values, {});
    op->regions.resize(2);
    std::map<std::string, SVal> before = frame_->env;
    Region* saved = b().region();
    Region& cond_region = op->regions[0];
    cond_region.args = carried_values(carried);
    bind_carried(carried, cond_region.args);
    b().set_region(&cond_region);
    SVal cond = eval(*s.test);
    Value* c = to_bool(cond, s.test->loc);
    if (c->type.is_tile()) fail(s.test->loc, "a 'while' condition must be a scalar, got " + c->type.str());
    std::vector<Value*> cond_ops = {c};
    cond_ops.insert(cond_ops.end(), cond_region.args.begin(), cond_region.args.end());
    b().create(OpKind::Condition, s.loc, cond_ops, {});
    Region& body = op->regions[1];
    body.args = carried_values(carried);
    bind_carried(carried, body.args);
    b().set_region(&body);
    exec_block(s.body);
    b().create(OpKind::Yield, s.loc, carried_yields(carried, s.loc), {});
    b().set_region(saved);
    frame_->env = before;
    std::vector<Value*> results = carried_values(carried);
    for (Value* res : results) {
      res->def = op;
      op->results.push_back(res);
    }
    bind_carried(carried, results);
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
      case SVal::Kind::BlockPtr:
        return std::string(v.bp->descriptor ? "a tensor descriptor of " : "a block pointer to ") +
               Type::tile(v.bp->base->type.dtype, v.bp->block).str() + " blocks";
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
    if (v.kind == SVal::Kind::BlockPtr)
      fail(loc, "expected a number or a tile, got " + describe(v) + "; only tl.load, tl.store and tl.advance take a block pointer");
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
  Value* min_max(BinaryKind kind, const SVal& x, const SVal& y, const std::optional<SVal>& propagate, const Loc& loc) {
    Value* m = elementwise(kind, x, y, loc);
    int64_t mode = propagate ? const_int(*propagate, loc, "propagate_nan") : 0;
    if (mode != 0 && mode != 0xFFFF) fail(loc, "propagate_nan must be tl.PropagateNan.NONE or tl.PropagateNan.ALL");
    if (mode == 0 || !is_float(m->type.dtype)) return m;
    Value* xv = convert(x, m->type, loc);
    Value* yv = convert(y, m->type, loc);
    SVal inner = SVal::of(where(compare(CmpOp::Ne, SVal::of(yv), SVal::of(yv), loc), SVal::of(yv), SVal::of(m), loc));
    return where(compare(CmpOp::Ne, SVal::of(xv), SVal::of(xv), loc), SVal::of(xv), inner, loc);
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
  static std::optional<bool> dtype_query(const std::string& q, const SVal& d) {
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
  std::optional<SVal> constexpr_global(const std::string& name, const Loc& use) {
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
  std::optional<SVal> imported(const std::string& name, const Loc& loc) {
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
  std::optional<SVal> imported_helper(const std::string& target) {
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
        {"float64", DType::F64},  {"float8e5", DType::F8E5}, {"float8e4nv", DType::F8E4},
    };
    for (const auto& [name, t] : kNames)
      if (n == name) return t;
    return std::nullopt;
  }

  SVal module_attr(const std::string& mod, const std::string& attr, const Loc& loc) {
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
  std::optional<SVal> standard_function(const std::string& name) const {
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

  SVal eval_attribute(const Expr& e) {
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

  std::vector<std::optional<SVal>> bind_args(const BuiltinSpec& spec, std::vector<SVal> pos,
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
  SVal call_helper(const SVal& callee, const Expr& call, std::vector<SVal> self = {}) {
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
    if (is_fp8(t) || (kind != AtomicKind::Xchg && (t == DType::I1 || t == DType::I8 || t == DType::U8 || t == DType::I16 || t == DType::U16 ||
                                                   t == DType::BF16 || (t == DType::F16 && kind != AtomicKind::Add))))
      fail(loc, std::string("atomic_") + atomic_name(kind) + " on " + dtype_name(t) + " is not supported");
    bool bitwise = kind == AtomicKind::And || kind == AtomicKind::Or || kind == AtomicKind::Xor;
    if (bitwise && !is_int(t))
      fail(loc, std::string("atomic_") + atomic_name(kind) + " needs 32- or 64-bit integers, got " + dtype_name(t));
    std::vector<Value*> ops = {broadcast_to(ptr, shape, loc), convert(*a[1], Type::tile(t, shape), loc)};
    if (a[2]) ops.push_back(convert(SVal::of(to_bool(*a[2], loc)), Type::tile(DType::I1, shape), loc));
    Op* op = b().create(OpKind::AtomicRMW, loc, ops, {Type::tile(t, shape)});
    op->atomic = kind;
    op->has_mask = a[2].has_value();
    set_memory_order(op, a[3], a[4], loc);
    return SVal::of(op->result());
  }

  // sem= and scope= of tl.atomic_* take Triton's values; None keeps Triton's defaults.
  void set_memory_order(Op* op, const std::optional<SVal>& sem, const std::optional<SVal>& scope, const Loc& loc) {
    static const std::pair<const char*, MemSem> sems[] = {
        {"relaxed", MemSem::Relaxed}, {"acquire", MemSem::Acquire}, {"release", MemSem::Release}, {"acq_rel", MemSem::AcqRel}};
    static const std::pair<const char*, MemScope> scopes[] = {{"gpu", MemScope::Gpu}, {"cta", MemScope::Cta}, {"sys", MemScope::Sys}};
    auto pick = [&](const std::optional<SVal>& v, const char* what, const auto& table, auto& out) {
      if (!v || v->is_none()) return;
      if (!v->is_const(ConstValue::Kind::Str)) fail(loc, std::string("atomic ") + what + "= must be a string, got " + describe(*v));
      for (const auto& [name, value] : table)
        if (v->c.s == name) {
          out = value;
          return;
        }
      std::string allowed;
      for (const auto& [name, value] : table) allowed += std::string(allowed.empty() ? "" : ", ") + "\"" + name + "\"";
      fail(loc, std::string("atomic ") + what + "=\"" + v->c.s + "\" is not one of Triton's: " + allowed);
    };
    pick(sem, "sem", sems, op->sem);
    pick(scope, "scope", scopes, op->scope);
  }

  // tl.load's cache_modifier=, eviction_policy=, volatile= (arguments 5-7) and tl.store's
  // cache_modifier=, eviction_policy= (4-5), checked against the values Triton accepts and kept on
  // the op. The CUDA printer turns them into PTX qualifiers; the CPU printer has no cache control
  // to apply them to (README: accepted there as no-ops). PTX has no load or store that takes both
  // a cache modifier and an L1 eviction priority (ptxas rejects `ld.global.cg.L1::evict_first`),
  // nor a volatile load with either, so those combinations are errors.
  void set_memory_hints(Op* op, const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    bool load = op->kind == OpKind::Load;
    const char* fn = load ? "tl.load" : "tl.store";
    size_t first = load ? 5 : 4;
    if (a[first]) {
      if (!a[first]->is_const(ConstValue::Kind::Str)) fail(loc, std::string(fn) + " cache_modifier must be a string, got " + describe(*a[first]));
      const std::string& c = a[first]->c.s;
      static const std::vector<std::pair<std::string, CacheModifier>> loads = {
          {".ca", CacheModifier::CA}, {".cg", CacheModifier::CG}, {".cv", CacheModifier::CV}};
      static const std::vector<std::pair<std::string, CacheModifier>> stores = {
          {".wb", CacheModifier::WB}, {".cg", CacheModifier::CG}, {".cs", CacheModifier::CS}, {".wt", CacheModifier::WT}};
      bool found = c.empty();
      for (const auto& [name, kind] : load ? loads : stores)
        if (name == c) {
          op->cache = kind;
          found = true;
        }
      if (!found)
        fail(loc, std::string(fn) + " cache_modifier='" + c + "' is not supported; use " +
                      (load ? "'.ca', '.cg' or '.cv'" : "'.wb', '.cg', '.cs' or '.wt'") + " (or '' for the default)");
    }
    if (a[first + 1]) {
      if (!a[first + 1]->is_const(ConstValue::Kind::Str))
        fail(loc, std::string(fn) + " eviction_policy must be a string, got " + describe(*a[first + 1]));
      const std::string& e = a[first + 1]->c.s;
      if (e == "evict_first") op->evict = EvictionPolicy::EvictFirst;
      else if (e == "evict_last") op->evict = EvictionPolicy::EvictLast;
      else if (!e.empty())
        fail(loc, std::string(fn) + " eviction_policy='" + e + "' is not supported; use 'evict_first' or 'evict_last' (or '' for the default)");
    }
    if (load && a[7]) op->is_volatile = truthy(*a[7], loc);
    if (op->cache != CacheModifier::None && op->evict != EvictionPolicy::Normal)
      fail(loc, std::string(fn) + " cannot take both cache_modifier='" + cache_modifier_name(op->cache) + "' and eviction_policy='" +
                    eviction_policy_name(op->evict) + "': no PTX " + (load ? "load" : "store") + " combines a cache operator with an L1 eviction priority; keep one");
    if (op->is_volatile && (op->cache != CacheModifier::None || op->evict != EvictionPolicy::Normal))
      fail(loc, "a volatile tl.load takes no cache_modifier or eviction_policy (PTX ld.volatile has neither)");
  }

  // ---- device_print and inline_asm_elementwise ----

  // tl.device_print(prefix, *args, hex=False) and print(...) in a kernel: one Print op. The prefix
  // is tidied as Triton's device_print does: with values it ends in ": " and starts with " ".
  SVal device_print(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    if (!a[0]->is_const(ConstValue::Kind::Str))
      fail(loc, "device_print needs a string prefix as its first argument, got " + describe(*a[0]) + "; write tl.device_print(\"x\", x)");
    std::string prefix = a[0]->c.s;
    for (char c : prefix)
      if (c < 0x20 || c > 0x7e) fail(loc, "device_print prefix must be printable ASCII without newlines");
    std::vector<Value*> vals;
    if (a[1])
      for (const SVal& v : a[1]->items) {
        if (v.kind == SVal::Kind::Const && !v.is_number())
          fail(loc, "device_print prints numbers, tiles and pointers, got " + describe(v) + "; put text in the prefix");
        vals.push_back(materialize(v, loc));
      }
    if (vals.size() > 64) fail(loc, "device_print takes at most 64 values");
    if (!vals.empty()) {
      if (prefix.empty() || prefix.back() != ' ') prefix += " ";
      if (prefix.size() < 2 || prefix.compare(prefix.size() - 2, 2, ": ") != 0) prefix = prefix.substr(0, prefix.size() - 1) + ": ";
      if (prefix.size() > 2 && prefix[0] != ' ') prefix = " " + prefix;
    }
    Op* op = b().create(OpKind::Print, loc, vals, {});
    op->str = prefix;
    op->ival = flag(a[3], loc) ? 1 : 0;
    return SVal::of(ConstValue{});
  }

  // tl.inline_asm_elementwise(asm, constraints, args, dtype, is_pure, pack): the args broadcast to
  // one shape; one result per dtype. The PTX runs on the GPU only (the CPU printer rejects it).
  SVal inline_asm(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    std::string text = const_str(*a[0], loc), constraints = const_str(*a[1], loc);
    std::vector<SVal> args = a[2]->kind == SVal::Kind::Tuple ? a[2]->items : std::vector<SVal>{*a[2]};
    std::vector<DType> dtypes;
    for (const SVal& d : a[3]->kind == SVal::Kind::Tuple ? a[3]->items : std::vector<SVal>{*a[3]}) dtypes.push_back(const_dtype_arg(d, loc));
    if (dtypes.empty()) fail(loc, "inline_asm_elementwise needs at least one result dtype");
    bool pure = truthy(*a[4], loc);
    int64_t pack = const_int(*a[5], loc, "pack");
    if (pack != 1 && pack != 2 && pack != 4) fail(loc, "inline_asm_elementwise pack must be 1, 2 or 4, got " + std::to_string(pack));
    std::vector<const SVal*> ptrs;
    for (const SVal& v : args) {
      if (v.is_value() && v.v->type.is_ptr) fail(loc, "inline_asm_elementwise arguments must be numbers or tiles of numbers, got " + describe(v));
      ptrs.push_back(&v);
    }
    std::vector<int64_t> shape = args.empty() ? std::vector<int64_t>{} : joint_shape(ptrs, loc);
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    if (numel % pack) fail(loc, "inline_asm_elementwise pack=" + std::to_string(pack) + " does not divide the " + std::to_string(numel) + " elements");
    // Registers per asm instance: elements narrower than 32 bits share a register (up to `pack`).
    auto regs = [&](DType t) {
      int bits = dtype_bits(t);
      int64_t per = bits < 32 ? std::min<int64_t>(32 / std::max(bits, 8), pack) : 1;
      return pack / per;
    };
    std::vector<Value*> operands;
    int64_t inputs = 0, outputs = 0;
    for (const SVal& v : args) {
      Value* x = materialize(v, loc);
      operands.push_back(shape.empty() ? x : broadcast_to(x, shape, loc));
      inputs += regs(x->type.dtype);
    }
    for (DType t : dtypes) outputs += regs(t);
    int64_t outs_given = 0, ins_given = 0;
    size_t start = 0;
    while (start <= constraints.size()) {
      size_t comma = constraints.find(',', start);
      std::string c = constraints.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      start = comma == std::string::npos ? constraints.size() + 1 : comma + 1;
      if (c.empty() && constraints.empty()) break;
      bool out = !c.empty() && c[0] == '=';
      std::string letter = out ? c.substr(1) : c;
      if (letter != "r" && letter != "h" && letter != "l" && letter != "f" && letter != "d" && letter != "c")
        fail(loc, "inline_asm_elementwise constraint '" + c + "' is not supported; use r, h, l, f, d or c (outputs with '=')");
      if (out && ins_given) fail(loc, "inline_asm_elementwise constraints list outputs ('=...') before inputs");
      (out ? outs_given : ins_given) += 1;
    }
    if (outs_given != outputs || ins_given != inputs)
      fail(loc, "inline_asm_elementwise constraints '" + constraints + "' give " + std::to_string(outs_given) + " outputs and " +
                    std::to_string(ins_given) + " inputs, but " + std::to_string(dtypes.size()) + " result dtype(s) and " +
                    std::to_string(args.size()) + " argument(s) with pack=" + std::to_string(pack) + " need " + std::to_string(outputs) +
                    " and " + std::to_string(inputs));
    std::vector<Type> types;
    for (DType t : dtypes) types.push_back(shape.empty() ? Type::scalar(t) : Type::tile(t, shape));
    Op* op = b().create(OpKind::InlineAsm, loc, operands, types);
    op->str = text;
    op->aux = constraints;
    op->ival = pack;
    op->ints = {pure ? 1 : 0};
    if (op->results.size() == 1) return SVal::of(op->result());
    std::vector<SVal> rs;
    for (Value* r : op->results) rs.push_back(SVal::of(r));
    return SVal::tuple(rs);
  }

  // tl.extra.cuda.globaltimer() / smid(): a PTX special register read through inline asm, as
  // Triton reads it. The CPU backend has no global timer register: an error that names the function.
  SVal special_register(const char* fn, const char* ptx, const char* constraint, DType t, bool pure, const Loc& loc) {
    if (!target_.cuda)
      fail(loc, std::string("tl.extra.cuda.") + fn + "() reads a GPU special register and is not available on the CPU backend; "
                "guard it with `if tl.target_info.is_cuda():`");
    Op* op = b().create(OpKind::InlineAsm, loc, {}, {Type::scalar(t)});
    op->str = ptx;
    op->aux = constraint;
    op->ival = 1;
    op->ints = {pure ? 1 : 0};
    return SVal::of(op->result());
  }

  // ---- Block pointers ----

  // The items of a per-dim argument of tl.make_block_ptr/tl.advance (a tuple, or one value for 1-D).
  static std::vector<SVal> dim_items(const SVal& v) { return v.kind == SVal::Kind::Tuple ? v.items : std::vector<SVal>{v}; }

  // A shape, stride or offset entry as a scalar of `t`: i64 for shapes and strides, i32 for offsets
  // (an int64 offset is an error, as in Triton).
  Value* block_ptr_scalar(const SVal& v, DType t, const char* what, const Loc& loc) {
    if (v.is_const(ConstValue::Kind::Int) || v.is_const(ConstValue::Kind::Bool)) {
      int64_t x = const_int(v, loc, what);
      if (t == DType::I32 && (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max()))
        fail(loc, std::string("block pointer ") + what + " " + std::to_string(x) + " does not fit in int32");
      return constant(Type::scalar(t), ConstValue::of_int(x), loc);
    }
    if (!v.is_value() || v.v->type.is_tile() || v.v->type.is_ptr || !is_int(v.v->type.dtype))
      fail(loc, std::string("block pointer ") + what + " must be an integer scalar, got " + describe(v));
    if (t == DType::I32 && (v.v->type.dtype == DType::I64 || v.v->type.dtype == DType::U64))
      fail(loc, std::string("block pointer ") + what + " must be 32-bit, got " + describe(v) + "; add .to(tl.int32)");
    return cast(v.v, t, loc);
  }

  std::vector<Value*> block_ptr_scalars(const SVal& v, DType t, const char* param, size_t rank, const Loc& loc,
                                        const char* fn = "tl.make_block_ptr") {
    std::vector<SVal> items = dim_items(v);
    if (items.size() != rank)
      fail(loc, std::string(fn) + " " + param + " has " + std::to_string(items.size()) + " entries but block_shape has " +
                    std::to_string(rank));
    std::vector<Value*> out;
    for (const SVal& x : items) out.push_back(block_ptr_scalar(x, t, param, loc));
    return out;
  }

  SVal make_block_ptr(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    BlockPtr p;
    if (!a[0]->is_value() || !a[0]->v->type.is_ptr || a[0]->v->type.is_tile())
      fail(loc, "tl.make_block_ptr base must be a scalar pointer, got " + describe(*a[0]));
    p.base = a[0]->v;
    for (const SVal& d : dim_items(*a[4])) p.block.push_back(const_int(d, loc, "a block_shape entry"));
    if (p.block.empty()) fail(loc, "tl.make_block_ptr block_shape is empty");
    for (int64_t d : p.block)
      if (!is_pow2(d)) fail(loc, "block_shape " + shape_str(p.block) + " has the dimension " + std::to_string(d) + ", which is not a power of two");
    check_tile_size(p.block, loc);
    size_t rank = p.block.size();
    p.shape = block_ptr_scalars(*a[1], DType::I64, "shape", rank, loc);
    p.strides = block_ptr_scalars(*a[2], DType::I64, "strides", rank, loc);
    p.offsets = block_ptr_scalars(*a[3], DType::I32, "offsets", rank, loc);
    // order names the dims from fastest to slowest: a layout hint that does not change the values.
    for (const SVal& d : dim_items(*a[5])) p.order.push_back(const_int(d, loc, "an order entry"));
    std::vector<int64_t> sorted = p.order;
    std::sort(sorted.begin(), sorted.end());
    bool permutation = sorted.size() == rank;
    for (size_t i = 0; permutation && i < rank; ++i) permutation = sorted[i] == static_cast<int64_t>(i);
    if (!permutation)
      fail(loc, "tl.make_block_ptr order " + shape_str(p.order) + " is not a permutation of the " + std::to_string(rank) + " dims");
    return SVal::block_ptr(std::move(p));
  }

  // tl.make_tensor_descriptor(base, shape, strides, block_shape, padding_option="zero"), with
  // Triton's checks: a contiguous last dim (stride 1) of at least 16 bytes per block row.
  SVal make_tensor_descriptor(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    const char* fn = "tl.make_tensor_descriptor";
    BlockPtr p;
    p.descriptor = true;
    if (!a[0]->is_value() || !a[0]->v->type.is_ptr || a[0]->v->type.is_tile())
      fail(loc, std::string(fn) + " base must be a scalar pointer, got " + describe(*a[0]));
    p.base = a[0]->v;
    for (const SVal& d : dim_items(*a[3])) p.block.push_back(const_int(d, loc, "a block_shape entry"));
    size_t rank = p.block.size();
    if (rank < 1 || rank > 5) fail(loc, std::string(fn) + " needs 1 to 5 dims, got a block_shape of " + std::to_string(rank));
    for (int64_t d : p.block)
      if (!is_pow2(d)) fail(loc, "block_shape " + shape_str(p.block) + " has the dimension " + std::to_string(d) + ", which is not a power of two");
    check_tile_size(p.block, loc);
    DType t = p.base->type.dtype;
    if (p.block.back() * dtype_bytes(t) < 16)
      fail(loc, std::string(fn) + " block_shape " + shape_str(p.block) + " has " + std::to_string(p.block.back() * dtype_bytes(t)) +
                    " bytes in the last dim; Triton requires at least 16");
    std::vector<SVal> strides = dim_items(*a[2]);
    if (!strides.empty() && strides.back().is_const(ConstValue::Kind::Int) && strides.back().c.i != 1)
      fail(loc, std::string(fn) + " needs the last dim contiguous (stride 1), got stride " + std::to_string(strides.back().c.i));
    p.shape = block_ptr_scalars(*a[1], DType::I64, "shape", rank, loc, fn);
    p.strides = block_ptr_scalars(*a[2], DType::I64, "strides", rank, loc, fn);
    for (size_t d = 0; d < rank; ++d) {
      p.offsets.push_back(constant(Type::scalar(DType::I32), ConstValue::of_int(0), loc));
      p.order.push_back(static_cast<int64_t>(rank - 1 - d));
    }
    std::string padding = a[4] ? const_str(*a[4], loc) : "zero";
    if (padding != "zero" && padding != "nan") fail(loc, "padding_option='" + padding + "' is not supported; use \"zero\" or \"nan\"");
    if (padding == "nan" && !is_float(t)) fail(loc, "padding_option='nan' needs a float tensor, got " + describe(*a[0]));
    p.nan_padding = padding == "nan";
    return SVal::block_ptr(std::move(p));
  }

  // A descriptor with the offsets of one desc.load/desc.store: every dim bounds-checked. Returns
  // the pointer tile and mask, and in *fields the descriptor operands the op carries after them
  // (base, shape, strides, offsets: what a TMA copy of the GPU backend reads).
  std::pair<Value*, Value*> descriptor_access(const std::optional<SVal>& desc, const SVal& offsets, const char* fn,
                                               const Loc& loc, std::vector<Value*>* fields) {
    if (desc->kind != SVal::Kind::BlockPtr || !desc->bp->descriptor)
      fail(loc, std::string(fn) + " needs a tensor descriptor from tl.make_tensor_descriptor, got " + describe(*desc));
    BlockPtr p = *desc->bp;
    p.offsets = block_ptr_scalars(offsets, DType::I32, "offsets", p.block.size(), loc, fn);
    std::vector<int64_t> all(p.block.size());
    for (size_t d = 0; d < all.size(); ++d) all[d] = static_cast<int64_t>(d);
    *fields = {p.base};
    for (const std::vector<Value*>* f : {&p.shape, &p.strides, &p.offsets}) fields->insert(fields->end(), f->begin(), f->end());
    return block_access(p, all, loc);
  }

  SVal load_descriptor(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    std::vector<Value*> fields;
    auto [ptrs, mask] = descriptor_access(a[0], *a[1], "desc.load", loc, &fields);
    const BlockPtr& p = *a[0]->bp;
    Type t = Type::tile(p.base->type.dtype, p.block);
    std::vector<Value*> ops = {ptrs, mask};
    if (p.nan_padding) ops.push_back(constant(t, ConstValue::of_float(std::numeric_limits<double>::quiet_NaN()), loc));
    ops.insert(ops.end(), fields.begin(), fields.end());
    Op* op = b().create(OpKind::Load, loc, ops, {t});
    op->has_mask = true;
    op->has_other = p.nan_padding;
    op->desc_rank = static_cast<int>(p.block.size());
    return SVal::of(op->result());
  }

  // desc.store(offsets, value): the value is converted to the descriptor's dtype, as in Triton.
  void store_descriptor(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    const BlockPtr& p = *a[0]->bp;
    Type want = Type::tile(p.base->type.dtype, p.block);
    const SVal& v = *a[2];
    if (!v.is_number() && (!v.is_value() || v.v->type.is_ptr || (v.v->type.is_tile() && v.v->type.shape != p.block)))
      fail(loc, "desc.store needs a value of shape " + shape_str(p.block) + ", got " + describe(v));
    std::vector<Value*> fields;
    auto [ptrs, mask] = descriptor_access(a[0], *a[1], "desc.store", loc, &fields);
    std::vector<Value*> ops = {ptrs, convert(v, want, loc), mask};
    ops.insert(ops.end(), fields.begin(), fields.end());
    Op* op = b().create(OpKind::Store, loc, ops, {});
    op->has_mask = true;
    op->desc_rank = static_cast<int>(p.block.size());
  }

  SVal advance(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    if (a[0]->kind != SVal::Kind::BlockPtr || a[0]->bp->descriptor) fail(loc, "tl.advance needs a block pointer from tl.make_block_ptr, got " + describe(*a[0]));
    BlockPtr p = *a[0]->bp;
    std::vector<SVal> items = dim_items(*a[1]);
    if (items.size() != p.block.size())
      fail(loc, "tl.advance got " + std::to_string(items.size()) + " offsets for a block pointer of rank " + std::to_string(p.block.size()));
    for (size_t d = 0; d < items.size(); ++d) {
      if (items[d].is_const(ConstValue::Kind::Int) && items[d].c.i == 0) continue;  // keeps the offset a loop can leave unchanged
      Value* delta = block_ptr_scalar(items[d], DType::I32, "offsets", loc);
      p.offsets[d] = binary(BinOp::Add, SVal::of(p.offsets[d]), SVal::of(delta), loc).v;
    }
    return SVal::block_ptr(std::move(p));
  }

  // The dims named by boundary_check (an int or a tuple of ints; empty or None: none), sorted.
  std::vector<int64_t> boundary_dims(const std::optional<SVal>& v, size_t rank, const Loc& loc) {
    std::vector<int64_t> dims;
    if (!v) return dims;
    for (const SVal& d : dim_items(*v)) {
      int64_t x = const_int(d, loc, "a boundary_check entry");
      if (x < 0 || x >= static_cast<int64_t>(rank))
        fail(loc, "boundary_check entry " + std::to_string(x) + " is not a dim of a block pointer of rank " + std::to_string(rank));
      if (std::find(dims.begin(), dims.end(), x) != dims.end()) fail(loc, "boundary_check names the dim " + std::to_string(x) + " twice");
      dims.push_back(x);
    }
    std::sort(dims.begin(), dims.end());
    return dims;
  }

  // A block pointer as a pointer tile of its block shape and, when `checked` names dims, the mask
  // 0 <= offsets[d] + i < shape[d] over those dims (nullptr otherwise).
  std::pair<Value*, Value*> block_access(const BlockPtr& p, const std::vector<int64_t>& checked, const Loc& loc) {
    size_t rank = p.block.size();
    SVal offs, mask;
    for (size_t d = 0; d < rank; ++d) {
      Op* ar = b().create(OpKind::Arange, loc, {}, {Type::tile(DType::I32, {p.block[d]})});
      ar->ints = {0, p.block[d]};
      Value* pos = cast(binary(BinOp::Add, SVal::of(p.offsets[d]), SVal::of(ar->result()), loc).v, DType::I64, loc);
      for (size_t j = 0; j < rank; ++j) {  // pos along dim d, size 1 along the others
        if (j == d) continue;
        std::vector<int64_t> s = pos->type.shape;
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(j), 1);
        Op* e = b().create(OpKind::ExpandDims, loc, {pos}, {pos->type.with_shape(s)});
        e->axis = static_cast<int>(j);
        pos = e->result();
      }
      const Op* stride = p.strides[d]->def;
      bool unit = stride && stride->kind == OpKind::Constant && stride->ival == 1;  // the common contiguous dim
      SVal term = unit ? SVal::of(pos) : binary(BinOp::Mul, SVal::of(pos), SVal::of(p.strides[d]), loc);
      offs = d == 0 ? term : binary(BinOp::Add, offs, term, loc);
      if (std::find(checked.begin(), checked.end(), static_cast<int64_t>(d)) == checked.end()) continue;
      SVal in = SVal::of(elementwise(BinaryKind::And, compare(CmpOp::Ge, SVal::of(pos), SVal::of(ConstValue::of_int(0)), loc),
                                     compare(CmpOp::Lt, SVal::of(pos), SVal::of(p.shape[d]), loc), loc));
      mask = mask.kind == SVal::Kind::Value ? SVal::of(elementwise(BinaryKind::And, mask, in, loc)) : in;
    }
    Value* ptrs = broadcast_to(binary(BinOp::Add, SVal::of(p.base), offs, loc).v, p.block, loc);
    Value* m = mask.kind == SVal::Kind::Value ? broadcast_to(mask.v, p.block, loc) : nullptr;
    return {ptrs, m};
  }

  // tl.load(block_ptr, boundary_check=, padding_option=): out-of-bounds elements of checked dims
  // read 0 ("zero" and the default "") or NaN ("nan", floats only).
  SVal load_block(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    const BlockPtr& p = *a[0]->bp;
    if (a[1] || a[2]) fail(loc, "tl.load of a block pointer takes no 'mask' or 'other'; use boundary_check= and padding_option=");
    std::string padding = a[4] ? const_str(*a[4], loc) : "";
    DType t = p.base->type.dtype;
    if (padding != "" && padding != "zero" && padding != "nan")
      fail(loc, "padding_option='" + padding + "' is not supported; use \"zero\", \"nan\" or \"\"");
    if (padding == "nan" && !is_float(t)) fail(loc, "padding_option='nan' needs a float block pointer, got " + describe(*a[0]));
    auto [ptrs, mask] = block_access(p, boundary_dims(a[3], p.block.size(), loc), loc);
    std::vector<Value*> ops = {ptrs};
    if (mask) ops.push_back(mask);
    bool nan = mask && padding == "nan";
    if (nan) ops.push_back(constant(Type::tile(t, p.block), ConstValue::of_float(std::numeric_limits<double>::quiet_NaN()), loc));
    Op* op = b().create(OpKind::Load, loc, ops, {Type::tile(t, p.block)});
    op->has_mask = mask != nullptr;
    op->has_other = nan;
    set_memory_hints(op, a, loc);
    return SVal::of(op->result());
  }

  // tl.store(block_ptr, value, boundary_check=): the value is a tile of the block's shape and
  // element type, or a number; out-of-bounds elements of checked dims are not written.
  void store_block(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    const BlockPtr& p = *a[0]->bp;
    if (a[2]) fail(loc, "tl.store to a block pointer takes no 'mask'; use boundary_check=");
    Type want = Type::tile(p.base->type.dtype, p.block);
    const SVal& v = *a[1];
    if (!v.is_number()) {
      if (!v.is_value() || v.v->type.is_ptr) fail(loc, "tl.store to a block pointer needs a value of " + want.str() + ", got " + describe(v));
      if (v.v->type.dtype != want.dtype || (v.v->type.is_tile() && v.v->type.shape != want.shape))
        fail(loc, "tl.store to a block pointer of " + want.str() + " needs a value of that shape and element type, got " + describe(v) +
                      (v.v->type.dtype != want.dtype ? "; convert it with .to() first" : ""));
    }
    auto [ptrs, mask] = block_access(p, boundary_dims(a[3], p.block.size(), loc), loc);
    std::vector<Value*> ops = {ptrs, convert(v, want, loc)};
    if (mask) ops.push_back(mask);
    Op* op = b().create(OpKind::Store, loc, ops, {});
    op->has_mask = mask != nullptr;
    set_memory_hints(op, a, loc);
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
        if (a[0]->kind == SVal::Kind::BlockPtr && a[0]->bp->descriptor)
          fail(loc, "tl.load of a tensor descriptor: use desc.load([offsets...]) or tl.load_tensor_descriptor(desc, offsets)");
        if (a[0]->kind == SVal::Kind::BlockPtr) return load_block(a, loc);
        Value* ptr = pointer_arg(a[0], loc);
        if ((a[3] && !dim_items(*a[3]).empty()) || (a[4] && const_str(*a[4], loc) != ""))
          fail(loc, "boundary_check= and padding_option= need a block pointer from tl.make_block_ptr; use a mask with a tile of pointers");
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
        set_memory_hints(op, a, loc);
        return SVal::of(op->result());
      }
      case Builtin::Store: {
        if (a[0]->kind == SVal::Kind::BlockPtr && a[0]->bp->descriptor)
          fail(loc, "tl.store to a tensor descriptor: use desc.store([offsets...], value) or tl.store_tensor_descriptor(desc, offsets, value)");
        if (a[0]->kind == SVal::Kind::BlockPtr) {
          store_block(a, loc);
          return SVal::of(ConstValue{});
        }
        Value* ptr = pointer_arg(a[0], loc);
        if (a[3] && !dim_items(*a[3]).empty())
          fail(loc, "boundary_check= needs a block pointer from tl.make_block_ptr; use a mask with a tile of pointers");
        std::vector<const SVal*> others = {&*a[1]};
        if (a[2]) others.push_back(&*a[2]);
        std::vector<int64_t> shape = memory_shape(ptr, others, loc);
        if (a[1]->is_value() && a[1]->v->type.is_ptr) fail(loc, "storing pointers is not supported");
        std::vector<Value*> ops = {broadcast_to(ptr, shape, loc), convert(*a[1], Type::tile(ptr->type.dtype, shape), loc)};
        if (a[2]) ops.push_back(broadcast_to(to_bool(*a[2], loc), shape, loc));
        Op* op = b().create(OpKind::Store, loc, ops, {});
        op->has_mask = a[2].has_value();
        set_memory_hints(op, a, loc);
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
        // tie_break_left=False lets Triton return any index of a tie; the left-most is one of them.
        if (a[2]) flag(a[2], loc);
        return reduce(spec.id == Builtin::ArgMax ? ReduceKind::ArgMax : ReduceKind::ArgMin, {a[0], a[1]}, flag(a[3], loc), loc);
      case Builtin::CumSum:
      case Builtin::CumProd: {
        Value* x = tile_arg(a[0], loc, "input");
        if (!x->type.is_tile() || x->type.is_ptr) fail(loc, std::string(spec.name) + " needs a tile of numbers");
        bool reverse = flag(a[2], loc);
        if (spec.id == Builtin::CumSum) {
          if (auto t = a[3] ? std::optional<DType>(const_dtype_arg(*a[3], loc)) : sum_dtype(x->type.dtype)) x = cast(x, *t, loc);
        }
        int axis = norm_axis(a[1] ? const_int(*a[1], loc, "axis") : 0, x->type.shape.size(), loc);
        auto scan = [&](Value* in) {
          Op* op = b().create(OpKind::Scan, loc, {in}, {in->type});
          op->scan = spec.id == Builtin::CumSum ? ScanKind::CumSum : ScanKind::CumProd;
          op->axis = axis;
          return op->result();
        };
        // An integer suffix sum is the row's total less the prefix before each element: exact in
        // wrapping arithmetic, and a reduction costs far less than the two flips below.
        if (reverse && spec.id == Builtin::CumSum && is_int(x->type.dtype) && x->type.dtype != DType::I1) {
          SVal total = reduce(ReduceKind::Sum, {SVal::of(x), SVal::of(ConstValue::of_int(axis))}, true, loc);
          SVal before = binary(BinOp::Sub, SVal::of(scan(x)), SVal::of(x), loc);
          return binary(BinOp::Sub, total, before, loc);
        }
        // reverse=True scans from the end: flipped in, scanned, flipped back.
        if (reverse) x = flip(x, axis, loc);
        Value* r = scan(x);
        return SVal::of(reverse ? flip(r, axis, loc) : r);
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
      case Builtin::Maximum: return SVal::of(min_max(BinaryKind::Max, *a[0], *a[1], a[2], loc));
      case Builtin::Minimum: return SVal::of(min_max(BinaryKind::Min, *a[0], *a[1], a[2], loc));
      case Builtin::NextPow2: {
        int64_t n = const_int(*a[0], loc, "next_power_of_2's argument"), p = 1;
        while (p < n) {
          if (p > (int64_t{1} << 61)) fail(loc, "next_power_of_2(" + std::to_string(n) + ") overflows 64 bits");
          p <<= 1;
        }
        return SVal::of(ConstValue::of_int(p));
      }
      case Builtin::Umulhi: return umulhi(*a[0], *a[1], loc);
      case Builtin::Split: {
        std::array<Value*, 2> parts = split_last(tile_arg(a[0], loc, "a"), loc);
        return SVal::tuple({SVal::of(parts[0]), SVal::of(parts[1])});
      }
      case Builtin::Join: return SVal::of(join(*a[0], *a[1], loc));
      case Builtin::Flip: {
        Value* x = tile_arg(a[0], loc, "x");
        if (!x->type.is_tile()) fail(loc, "flip needs a tile");
        size_t rank = x->type.shape.size();
        int dim = norm_axis(a[1] ? const_int(*a[1], loc, "dim") : static_cast<int64_t>(rank) - 1, rank, loc);
        return SVal::of(flip(x, dim, loc));
      }
      case Builtin::XorSum: {
        Value* x = tile_arg(a[0], loc, "input");
        if (!is_int(x->type.dtype) || x->type.is_ptr || x->type.dtype == DType::I1) fail(loc, "xor_sum needs a tile of integers, got " + x->type.str());
        if (!x->type.is_tile()) return SVal::of(x);
        std::vector<int64_t> orig = x->type.shape;
        int axis = 0;
        if (!a[1]) x = reshape(x, {x->type.numel()}, loc);
        else axis = norm_axis(const_int(*a[1], loc, "axis"), orig.size(), loc);
        Value* r = xor_reduce(x, axis, loc);
        if (flag(a[2], loc)) {
          std::vector<int64_t> kept = orig;
          if (a[1]) kept[axis] = 1;
          else kept.assign(orig.size(), 1);
          r = reshape(r, kept, loc);
        }
        return SVal::of(r);
      }
      case Builtin::DebugBarrier:
        b().create(OpKind::Barrier, loc, {}, {});
        return SVal::of(ConstValue{});
      case Builtin::IsCuda: return SVal::of(ConstValue::of_bool(target_.cuda));
      case Builtin::IsHip: return SVal::of(ConstValue::of_bool(false));
      case Builtin::CudaCapabilityGeq: {
        int64_t major = const_int(*a[0], loc, "major"), minor = a[1] ? const_int(*a[1], loc, "minor") : 0;
        return SVal::of(ConstValue::of_bool(target_.cuda && target_.arch >= major * 10 + minor));
      }
      case Builtin::NumWarps: return SVal::of(ConstValue::of_int(target_.num_warps));
      case Builtin::NumThreads: return SVal::of(ConstValue::of_int(32 * target_.num_warps));
      case Builtin::GlobalTimer: return special_register(spec.name, "mov.u64 $0, %globaltimer;", "=l", DType::I64, false, loc);
      case Builtin::SmId:
        // The CPU backend is one "SM": its programs share no per-core state a kernel could use.
        if (!target_.cuda) return SVal::of(constant(Type::scalar(DType::I32), ConstValue::of_int(0), loc));
        return special_register(spec.name, "mov.u32 $0, %smid;", "=r", DType::I32, true, loc);
      case Builtin::ConvertCustomFloat8:
        fail(loc, std::string("tl.extra.cuda.") + spec.name + " converts Triton's fp8e4b15, which tilec does not support; use "
                  "tl.float8e4nv or tl.float8e5 with .to()");
      case Builtin::StaticPrint: {
        std::string text;
        if (a[0])
          for (const SVal& v : a[0]->items) text += (text.empty() ? "" : " ") + (v.kind == SVal::Kind::Const ? v.c.str() : describe(v));
        std::fprintf(stderr, "%s\n", text.c_str());
        return SVal::of(ConstValue{});
      }
      case Builtin::DevicePrint: return device_print(a, loc);
      case Builtin::InlineAsm: return inline_asm(a, loc);
      case Builtin::Libdevice: return libdevice_call(spec, a, loc);
      case Builtin::Rand: case Builtin::Randn: case Builtin::Randint: case Builtin::Randint4x: case Builtin::Rand4x:
      case Builtin::Randn4x: case Builtin::UintToUniformFloat: case Builtin::PairUniformToNormal: case Builtin::Philox:
        return random_builtin(spec.id, a, loc);
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
        Value* lo = min_max(BinaryKind::Min, *a[0], *a[2], a[3], loc);
        return SVal::of(min_max(BinaryKind::Max, SVal::of(lo), *a[1], a[3], loc));
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
        DType t = const_dtype_arg(*a[1], loc);
        if (flag(a[3], loc)) {
          // Between integers of one width a conversion keeps the bits (two's complement).
          DType from = dtype_of(*a[0], loc);
          if (!is_int(from) || !is_int(t) || dtype_bits(from) != dtype_bits(t) || from == DType::I1 || t == DType::I1)
            fail(loc, std::string("bitcast from ") + dtype_name(from) + " to " + dtype_name(t) +
                          " is not supported (only between integer types of one width)");
        }
        if (a[2] && !a[2]->is_none()) {
          // Both backends round float narrowing to nearest even, Triton's default ("rtne").
          std::string mode = const_str(*a[2], loc);
          DType from = dtype_of(*a[0], loc);
          if (!is_float(from) || !is_float(t) || dtype_bits(t) >= dtype_bits(from))
            fail(loc, std::string("fp_downcast_rounding is only for narrowing float conversions, not ") + dtype_name(from) + " to " +
                          dtype_name(t));
          if (mode != "rtne")
            fail(loc, "fp_downcast_rounding='" + mode + "' is not supported; tilec rounds to nearest even ('rtne')");
        }
        if (a[0]->is_number()) return SVal::of(constant(Type::scalar(t), a[0]->c, loc));
        return SVal::of(cast(tile_arg(a[0], loc, "input"), t, loc));
      }
      case Builtin::AtomicAdd: return atomic(AtomicKind::Add, a, loc);
      case Builtin::AtomicMax: return atomic(AtomicKind::Max, a, loc);
      case Builtin::AtomicMin: return atomic(AtomicKind::Min, a, loc);
      case Builtin::AtomicXchg: return atomic(AtomicKind::Xchg, a, loc);
      case Builtin::AtomicAnd: return atomic(AtomicKind::And, a, loc);
      case Builtin::AtomicOr: return atomic(AtomicKind::Or, a, loc);
      case Builtin::AtomicXor: return atomic(AtomicKind::Xor, a, loc);
      case Builtin::AtomicCas: {
        Value* ptr = pointer_arg(a[0], loc);
        std::vector<int64_t> shape = memory_shape(ptr, {&*a[1], &*a[2]}, loc);
        DType t = ptr->type.dtype;
        if (dtype_bits(t) < 32 && t != DType::F16) fail(loc, std::string("atomic_cas on ") + dtype_name(t) + " is not supported");
        Type ty = Type::tile(t, shape);
        Op* op = b().create(OpKind::AtomicCAS, loc, {broadcast_to(ptr, shape, loc), convert(*a[1], ty, loc), convert(*a[2], ty, loc)}, {ty});
        set_memory_order(op, a[3], a[4], loc);
        return SVal::of(op->result());
      }
      case Builtin::MakeBlockPtr: return make_block_ptr(a, loc);
      case Builtin::MakeTensorDescriptor: return make_tensor_descriptor(a, loc);
      case Builtin::LoadTensorDescriptor: return load_descriptor(a, loc);
      case Builtin::StoreTensorDescriptor:
        store_descriptor(a, loc);
        return SVal::of(ConstValue{});
      case Builtin::Advance: return advance(a, loc);
      case Builtin::MultipleOf:
      case Builtin::MaxContiguous:
      case Builtin::MaxConstancy: {
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
        op->hint = spec.id == Builtin::MultipleOf ? HintKind::MultipleOf
                   : spec.id == Builtin::MaxContiguous ? HintKind::MaxContiguous : HintKind::MaxConstancy;
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
      case Builtin::IsTuple: return SVal::of(ConstValue::of_bool(a[0]->kind == SVal::Kind::Tuple));
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

  // ---- split, join, flip and xor_sum, built from reshape/permute/select/reduce ----

  Value* arange2(const Loc& loc) {
    Op* op = b().create(OpKind::Arange, loc, {}, {Type::tile(DType::I32, {2})});
    op->ints = {0, 2};
    return op->result();
  }

  // The two halves of a tile whose last dimension is 2. Each half is a sum over that dimension of
  // one element and a zero (exact, NaN included); -0.0, which that sum turns into +0.0, is told
  // apart by the sign of the matching sum of 1/x.
  std::array<Value*, 2> split_last(Value* x, const Loc& loc) {
    const std::vector<int64_t>& s = x->type.shape;
    if (s.empty() || s.back() != 2) fail(loc, "split needs a tile whose last dimension is 2, got " + x->type.str());
    if (x->type.is_ptr) fail(loc, "split of a tile of pointers is not supported");
    DType t = x->type.dtype;
    Value* xv = t == DType::I1 ? cast(x, DType::I8, loc) : x;
    std::array<Value*, 2> out{};
    for (int k = 0; k < 2; ++k) {
      SVal mask = compare(CmpOp::Eq, SVal::of(arange2(loc)), SVal::of(ConstValue::of_int(k)), loc);
      SVal zero = SVal::of(is_float(t) ? ConstValue::of_float(0.0) : ConstValue::of_int(0));
      Value* picked = where(mask, SVal::of(xv), zero, loc);
      Value* half = materialize(reduce(ReduceKind::Sum, {SVal::of(picked), SVal::of(ConstValue::of_int(-1))}, false, loc), loc);
      if (is_float(t)) {
        // 1/x is -inf exactly for -0.0: its sum over the pair gives the zero's sign back.
        SVal recip = binary(BinOp::Div, SVal::of(ConstValue::of_float(1.0)), SVal::of(xv), loc);
        Value* rsum = materialize(reduce(ReduceKind::Sum, {SVal::of(where(mask, recip, zero, loc)), SVal::of(ConstValue::of_int(-1))}, false, loc), loc);
        SVal neg_zero = SVal::of(elementwise(BinaryKind::And, compare(CmpOp::Eq, SVal::of(half), zero, loc), compare(CmpOp::Lt, SVal::of(rsum), zero, loc), loc));
        half = where(neg_zero, SVal::of(ConstValue::of_float(-0.0)), SVal::of(half), loc);
      }
      out[k] = t == DType::I1 ? cast(half, DType::I1, loc) : half;
    }
    return out;
  }

  // A new last dimension of 2 holding a and b (broadcast together first).
  Value* join(const SVal& a, const SVal& c, const Loc& loc) {
    for (const SVal* v : {&a, &c})
      if (v->is_value() && v->v->type.is_ptr) fail(loc, "join of pointers is not supported");
    Type ty = Type::tile(joint_dtype(a, c, loc), joint_shape({&a, &c}, loc));
    std::vector<int64_t> s1 = ty.shape, s2 = ty.shape;
    s1.push_back(1);
    s2.push_back(2);
    Value* x = broadcast_to(reshape(convert(a, ty, loc), s1, loc), s2, loc);
    Value* y = broadcast_to(reshape(convert(c, ty, loc), s1, loc), s2, loc);
    SVal first = compare(CmpOp::Eq, SVal::of(arange2(loc)), SVal::of(ConstValue::of_int(0)), loc);
    return where(first, SVal::of(x), SVal::of(y), loc);
  }

  // Moves dimension `axis` last (forward) or back from last to `axis` (inverse).
  Value* move_axis_last(Value* x, int axis, bool inverse, const Loc& loc) {
    int r = static_cast<int>(x->type.shape.size());
    std::vector<int64_t> order;
    if (!inverse) {
      for (int d = 0; d < r; ++d)
        if (d != axis) order.push_back(d);
      order.push_back(axis);
    } else {
      for (int d = 0; d < r - 1; ++d) {
        if (d == axis) order.push_back(r - 1);
        order.push_back(d);
      }
      if (axis == r - 1) order.push_back(r - 1);
    }
    return permute(x, order, loc);
  }

  // The dimension of power-of-two size n becomes log2(n) dimensions of 2 (most significant first).
  Value* binary_dims(Value* x, int axis, int* steps, const Loc& loc) {
    std::vector<int64_t> s = x->type.shape, out(s.begin(), s.begin() + axis);
    *steps = 0;
    for (int64_t n = s[axis]; n > 1; n /= 2) ++*steps;
    out.insert(out.end(), *steps, 2);
    out.insert(out.end(), s.begin() + axis + 1, s.end());
    return reshape(x, out, loc);
  }

  Value* flip(Value* x, int dim, const Loc& loc) {
    std::vector<int64_t> orig = x->type.shape;
    int steps = 0;
    Value* y = binary_dims(x, dim, &steps, loc);
    for (int i = 0; i < steps; ++i) {
      Value* last = move_axis_last(y, dim + i, false, loc);
      std::array<Value*, 2> halves = split_last(last, loc);
      y = move_axis_last(join(SVal::of(halves[1]), SVal::of(halves[0]), loc), dim + i, true, loc);
    }
    return reshape(y, orig, loc);
  }

  Value* xor_reduce(Value* x, int axis, const Loc& loc) {
    int steps = 0;
    Value* y = binary_dims(x, axis, &steps, loc);
    if (steps == 0) {
      // A dim of 1: its one element is the xor, and a one-element sum yields it exactly in the
      // reduced shape (a scalar from rank 1, which a reshape cannot make).
      Op* op = b().create(OpKind::Reduce, loc, {x}, {Type::tile(x->type.dtype, drop_dim(x->type.shape, axis))});
      op->reduce = ReduceKind::Sum;
      op->axis = axis;
      return op->result();
    }
    for (int i = 0; i < steps; ++i) {
      std::array<Value*, 2> halves = split_last(move_axis_last(y, axis, false, loc), loc);
      y = materialize(binary(BinOp::BitXor, SVal::of(halves[0]), SVal::of(halves[1]), loc), loc);
    }
    return y;
  }

  // ---- Philox random numbers, bit-identical to triton.language.random (Philox-4x32) ----

  SVal k(int64_t v) { return SVal::of(ConstValue::of_int(v)); }

  // The high 32 bits of the 64-bit product of two 32-bit integers (signed for int32).
  SVal umulhi(const SVal& x, const SVal& y, const Loc& loc) {
    DType t = joint_dtype(x, y, loc);
    if (!is_int(t) || dtype_bits(t) != 32) fail(loc, std::string("umulhi needs int32 or uint32 operands, got ") + dtype_name(t));
    DType wide = t == DType::U32 ? DType::U64 : DType::I64;
    Type ty = Type::tile(t, joint_shape({&x, &y}, loc));
    Value* xw = cast(convert(x, ty, loc), wide, loc);
    Value* yw = cast(convert(y, ty, loc), wide, loc);
    SVal prod = binary(BinOp::Mul, SVal::of(xw), SVal::of(yw), loc);
    return SVal::of(cast(materialize(binary(BinOp::RShift, prod, k(32), loc), loc), t, loc));
  }

  std::array<SVal, 4> philox(const SVal& seed_in, std::array<SVal, 4> c, const std::optional<SVal>& rounds_arg, const Loc& loc) {
    int64_t rounds = rounds_arg ? const_int(*rounds_arg, loc, "n_rounds") : 10;
    if (rounds < 0 || rounds > 64) fail(loc, "n_rounds must be between 0 and 64");
    Value* seed = materialize(seed_in, loc);
    if (seed->type.is_tile() || seed->type.is_ptr || !is_int(seed->type.dtype)) fail(loc, "the seed must be an integer scalar, got " + seed->type.str());
    SVal s = SVal::of(cast(seed, DType::U64, loc));
    for (SVal& ci : c) {
      DType d = dtype_of(ci, loc);
      if (!is_int(d) || dtype_bits(d) != 32)
        fail(loc, std::string("tl.philox counters must be 32-bit integers, got ") + dtype_name(d) +
                      "; the 64-bit Philox variant is not supported (tl.rand/tl.randint take int64 offsets)");
      ci = SVal::of(cast(materialize(ci, loc), DType::U32, loc));  // a bitcast: same width
    }
    SVal k0 = SVal::of(cast(materialize(binary(BinOp::BitAnd, s, k(0xffffffff), loc), loc), DType::U32, loc));
    SVal k1 = SVal::of(cast(materialize(binary(BinOp::BitAnd, binary(BinOp::RShift, s, k(32), loc), k(0xffffffff), loc), loc), DType::U32, loc));
    const int64_t kKeyA = 0x9E3779B9, kKeyB = 0xBB67AE85, kRoundA = 0xD2511F53, kRoundB = 0xCD9E8D57;
    for (int64_t r = 0; r < rounds; ++r) {
      SVal c0 = c[0], c2 = c[2];
      c[0] = binary(BinOp::BitXor, binary(BinOp::BitXor, umulhi(k(kRoundB), c2, loc), c[1], loc), k0, loc);
      c[2] = binary(BinOp::BitXor, binary(BinOp::BitXor, umulhi(k(kRoundA), c0, loc), c[3], loc), k1, loc);
      c[1] = binary(BinOp::Mul, k(kRoundB), c2, loc);
      c[3] = binary(BinOp::Mul, k(kRoundA), c0, loc);
      k0 = binary(BinOp::Add, k0, k(kKeyA), loc);
      k1 = binary(BinOp::Add, k1, k(kKeyB), loc);
    }
    return c;
  }

  // A 64-bit offset (int64/uint64) is split into counters c0 = its low and c1 = its high 32 bits, as
  // Triton's randint4x does; a 32-bit offset leaves c1 zero.
  std::array<SVal, 4> randint4x(const SVal& seed, const SVal& offset, const std::optional<SVal>& rounds, const Loc& loc) {
    DType d = dtype_of(offset, loc);
    if (!is_int(d) || (dtype_bits(d) != 32 && dtype_bits(d) != 64))
      fail(loc, std::string("random offsets must be 32- or 64-bit integers, got ") + dtype_name(d));
    if (dtype_bits(d) == 64) {
      Value* off = materialize(offset, loc);
      SVal lo = SVal::of(cast(off, DType::U32, loc));
      SVal hi = SVal::of(cast(materialize(binary(BinOp::RShift, SVal::of(cast(off, DType::U64, loc)), k(32), loc), loc), DType::U32, loc));
      SVal zero = binary(BinOp::Mul, lo, k(0), loc);
      return philox(seed, {lo, hi, zero, zero}, rounds, loc);
    }
    SVal zero = binary(BinOp::Mul, offset, k(0), loc);
    return philox(seed, {offset, zero, zero, zero}, rounds, loc);
  }

  SVal uint_to_uniform_float(const SVal& x_in, const Loc& loc) {
    Value* x = materialize(x_in, loc);
    DType t = x->type.dtype;
    if (!is_int(t) || (dtype_bits(t) != 32 && dtype_bits(t) != 64)) fail(loc, "uint_to_uniform_float needs 32- or 64-bit integers, got " + x->type.str());
    bool narrow = dtype_bits(t) == 32;
    SVal xs = SVal::of(cast(x, narrow ? DType::I32 : DType::I64, loc));
    SVal neg = binary(BinOp::Sub, unary(UnaryOp::Neg, xs, loc), k(1), loc);
    SVal folded = SVal::of(where(compare(CmpOp::Lt, xs, k(0), loc), neg, xs, loc));
    return binary(BinOp::Mul, folded, SVal::of(ConstValue::of_float(narrow ? 4.6566127342e-10 : 1.0842020432385337e-19)), loc);
  }

  std::array<SVal, 2> pair_uniform_to_normal(const SVal& u1_in, const SVal& u2, const Loc& loc) {
    SVal u1 = SVal::of(elementwise(BinaryKind::Max, SVal::of(ConstValue::of_float(1.0e-7)), u1_in, loc));
    SVal th = binary(BinOp::Mul, SVal::of(ConstValue::of_float(6.283185307179586)), u2, loc);
    SVal lg = SVal::of(unary_op(UnaryKind::Log, float_operand(u1, loc), loc));
    // Triton's math.sqrt here is approximate (libdevice.sqrt); log, cos and sin round as CUDA's
    // logf/cosf/sinf do for the normal operands they get, so only sqrt needs Triton's spelling.
    SVal r = libdevice_call(*find_libdevice_spec("sqrt"), {binary(BinOp::Mul, SVal::of(ConstValue::of_float(-2.0)), lg, loc)}, loc);
    Value* thv = float_operand(th, loc);
    return {binary(BinOp::Mul, r, SVal::of(unary_op(UnaryKind::Cos, thv, loc)), loc),
            binary(BinOp::Mul, r, SVal::of(unary_op(UnaryKind::Sin, thv, loc)), loc)};
  }

  // tl.philox, randint, randint4x, rand, rand4x, randn, randn4x, uint_to_uniform_float, pair_uniform_to_normal.
  SVal random_builtin(Builtin id, const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    if (id == Builtin::Philox) {
      std::array<SVal, 4> c = philox(*a[0], {*a[1], *a[2], *a[3], *a[4]}, a[5], loc);
      return SVal::tuple({c[0], c[1], c[2], c[3]});
    }
    if (id == Builtin::UintToUniformFloat) return uint_to_uniform_float(*a[0], loc);
    if (id == Builtin::PairUniformToNormal) {
      std::array<SVal, 2> n = pair_uniform_to_normal(*a[0], *a[1], loc);
      return SVal::tuple({n[0], n[1]});
    }
    std::array<SVal, 4> c = randint4x(*a[0], *a[1], a[2], loc);
    if (id == Builtin::Randint) return c[0];
    if (id == Builtin::Randint4x) return SVal::tuple({c[0], c[1], c[2], c[3]});
    if (id == Builtin::Rand) return uint_to_uniform_float(c[0], loc);
    std::vector<SVal> u;
    for (const SVal& ci : c) u.push_back(uint_to_uniform_float(ci, loc));
    if (id == Builtin::Rand4x) return SVal::tuple(u);
    std::array<SVal, 2> n1 = pair_uniform_to_normal(u[0], u[1], loc);
    if (id == Builtin::Randn) return n1[0];
    std::array<SVal, 2> n2 = pair_uniform_to_normal(u[2], u[3], loc);
    return SVal::tuple({n1[0], n1[1], n2[0], n2[1]});
  }

  SVal libdevice_call(const BuiltinSpec& spec, const std::vector<std::optional<SVal>>& a, const Loc& loc) {
    const LibdeviceFn* f = find_libdevice(spec.name);
    std::vector<const SVal*> ops;
    DType t = DType::F32;
    bool first = true, weak = true;
    for (int i = 0; i < f->arity; ++i) {
      const SVal& v = *a[i];
      if (v.is_value() && v.v->type.is_ptr) fail(loc, std::string("libdevice.") + f->name + " of a pointer");
      DType d = dtype_of(v, loc);
      t = first ? d : promote(t, weak, d, !v.is_value());
      weak = weak && !v.is_value();
      first = false;
      ops.push_back(&v);
    }
    if (!is_float(t)) t = DType::F32;
    if (t == DType::F64 && !f->cuda_f64) fail(loc, std::string("libdevice.") + f->name + " has no fp64 version; cast the operands to tl.float32");
    if (t != DType::F64 && !f->cuda_f32) fail(loc, std::string("libdevice.") + f->name + " only takes fp64 operands, got " + dtype_name(t));
    Type ty = Type::tile(t, joint_shape(ops, loc));
    std::vector<Value*> operands;
    for (const SVal* v : ops) operands.push_back(convert(*v, ty, loc));
    Op* op = b().create(OpKind::Libdevice, loc, operands, {f->result == LibdeviceResult::I32 ? ty.with_dtype(DType::I32) : ty});
    op->str = f->name;
    return SVal::of(op->result());
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
    if (is_fp8(in) && !(target_.cuda && target_.arch >= 89)) {
      // Without fp8 tensor cores (the CPU, GPUs before sm_89) fp8 widens exactly to fp16, so the
      // fp16 paths multiply; the fp32 accumulation is what Triton's fp8 mma does too.
      in = DType::F16;
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

}  // namespace

std::unique_ptr<Function> build_ir(const SourceFile& file, const std::string& kernel, const Signature& sig,
                                   const KernelTarget& target, Diagnostics& diags,
                                   const std::vector<std::shared_ptr<const SourceFile>>& imported) {
  return IrGen(file, imported, sig, target, diags).run(kernel);
}

}  // namespace tilec
