// Input: a call of a tl.* builtin (libdevice and tl.extra.cuda included) with its bound arguments.
// Output: the IR that implements it: math, reductions, scans, shape ops, dot, random, print, inline asm.
#include "tilec/ir_gen_impl.h"

namespace tilec::ir_gen {

namespace {

std::vector<int64_t> drop_dim(std::vector<int64_t> s, int axis) {
  s.erase(s.begin() + axis);
  return s;
}

}  // namespace

// ---- Builtins ----

Value* IrGen::tile_arg(const std::optional<SVal>& v, const Loc& loc, const char* what) {
  if (!v) fail(loc, std::string(what) + " is required");
  return materialize(*v, loc);
}

std::vector<int64_t> IrGen::shape_arg(const SVal& v, const Loc& loc) {
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

void IrGen::check_tile_size(const std::vector<int64_t>& shape, const Loc& loc) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d > (int64_t{1} << 20) || (n *= d) > (int64_t{1} << 20))
      fail(loc, "tile of shape " + shape_str(shape) + " has more than 2^20 elements");
  }
}

Value* IrGen::float_operand(const SVal& v, const Loc& loc) {
  Value* x = materialize(v, loc);
  if (x->type.is_ptr) fail(loc, "expected a number or a tile, got a pointer");
  return is_float(x->type.dtype) ? x : cast(x, DType::F32, loc);
}

Value* IrGen::where(const SVal& cond, const SVal& x, const SVal& y, const Loc& loc) {
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

Value* IrGen::permute(Value* v, const std::vector<int64_t>& order, const Loc& loc) {
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

Value* IrGen::reshape(Value* v, const std::vector<int64_t>& shape, const Loc& loc) {
  if (v->type.shape == shape) return v;
  Type t = v->type.with_shape(shape);
  if (t.numel() != v->type.numel()) fail(loc, "cannot reshape " + v->type.str() + " to " + shape_str(shape) + ": element counts differ");
  if (!v->type.is_tile()) return b().create(OpKind::Splat, loc, {v}, {t})->result();
  return b().create(OpKind::Reshape, loc, {v}, {t})->result();
}

int IrGen::norm_axis(int64_t axis, size_t rank, const Loc& loc) {
  int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) fail(loc, "axis " + std::to_string(axis) + " is out of range for a tile of rank " + std::to_string(rank));
  return static_cast<int>(axis < 0 ? axis + r : axis);
}

SVal IrGen::reduce(ReduceKind kind, const std::vector<std::optional<SVal>>& a, bool keep_dims, const Loc& loc,
                   std::optional<DType> acc_dtype) {
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

std::optional<DType> IrGen::sum_dtype(DType t) {
  if (is_signed(t) && dtype_bits(t) < 32) return DType::I32;
  if (t == DType::I1) return DType::I32;
  if (is_unsigned(t) && dtype_bits(t) < 32) return DType::U32;
  return std::nullopt;
}

bool IrGen::flag(const std::optional<SVal>& v, const Loc& loc) { return v && truthy(*v, loc); }

// ---- device_print and inline_asm_elementwise ----

// tl.device_print(prefix, *args, hex=False) and print(...) in a kernel: one Print op. The prefix
// is tidied as Triton's device_print does: with values it ends in ": " and starts with " ".
SVal IrGen::device_print(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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
SVal IrGen::inline_asm(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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
SVal IrGen::special_register(const char* fn, const char* ptx, const char* constraint, DType t, bool pure, const Loc& loc) {
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

SVal IrGen::call_builtin(const BuiltinSpec& spec, const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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

Value* IrGen::arange2(const Loc& loc) {
  Op* op = b().create(OpKind::Arange, loc, {}, {Type::tile(DType::I32, {2})});
  op->ints = {0, 2};
  return op->result();
}

// The two halves of a tile whose last dimension is 2. Each half is a sum over that dimension of
// one element and a zero (exact, NaN included); -0.0, which that sum turns into +0.0, is told
// apart by the sign of the matching sum of 1/x.
std::array<Value*, 2> IrGen::split_last(Value* x, const Loc& loc) {
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
Value* IrGen::join(const SVal& a, const SVal& c, const Loc& loc) {
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
Value* IrGen::move_axis_last(Value* x, int axis, bool inverse, const Loc& loc) {
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
Value* IrGen::binary_dims(Value* x, int axis, int* steps, const Loc& loc) {
  std::vector<int64_t> s = x->type.shape, out(s.begin(), s.begin() + axis);
  *steps = 0;
  for (int64_t n = s[axis]; n > 1; n /= 2) ++*steps;
  out.insert(out.end(), *steps, 2);
  out.insert(out.end(), s.begin() + axis + 1, s.end());
  return reshape(x, out, loc);
}

Value* IrGen::flip(Value* x, int dim, const Loc& loc) {
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

Value* IrGen::xor_reduce(Value* x, int axis, const Loc& loc) {
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

SVal IrGen::k(int64_t v) { return SVal::of(ConstValue::of_int(v)); }

// The high 32 bits of the 64-bit product of two 32-bit integers (signed for int32).
SVal IrGen::umulhi(const SVal& x, const SVal& y, const Loc& loc) {
  DType t = joint_dtype(x, y, loc);
  if (!is_int(t) || dtype_bits(t) != 32) fail(loc, std::string("umulhi needs int32 or uint32 operands, got ") + dtype_name(t));
  DType wide = t == DType::U32 ? DType::U64 : DType::I64;
  Type ty = Type::tile(t, joint_shape({&x, &y}, loc));
  Value* xw = cast(convert(x, ty, loc), wide, loc);
  Value* yw = cast(convert(y, ty, loc), wide, loc);
  SVal prod = binary(BinOp::Mul, SVal::of(xw), SVal::of(yw), loc);
  return SVal::of(cast(materialize(binary(BinOp::RShift, prod, k(32), loc), loc), t, loc));
}

std::array<SVal, 4> IrGen::philox(const SVal& seed_in, std::array<SVal, 4> c, const std::optional<SVal>& rounds_arg, const Loc& loc) {
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
std::array<SVal, 4> IrGen::randint4x(const SVal& seed, const SVal& offset, const std::optional<SVal>& rounds, const Loc& loc) {
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

SVal IrGen::uint_to_uniform_float(const SVal& x_in, const Loc& loc) {
  Value* x = materialize(x_in, loc);
  DType t = x->type.dtype;
  if (!is_int(t) || (dtype_bits(t) != 32 && dtype_bits(t) != 64)) fail(loc, "uint_to_uniform_float needs 32- or 64-bit integers, got " + x->type.str());
  bool narrow = dtype_bits(t) == 32;
  SVal xs = SVal::of(cast(x, narrow ? DType::I32 : DType::I64, loc));
  SVal neg = binary(BinOp::Sub, unary(UnaryOp::Neg, xs, loc), k(1), loc);
  SVal folded = SVal::of(where(compare(CmpOp::Lt, xs, k(0), loc), neg, xs, loc));
  return binary(BinOp::Mul, folded, SVal::of(ConstValue::of_float(narrow ? 4.6566127342e-10 : 1.0842020432385337e-19)), loc);
}

std::array<SVal, 2> IrGen::pair_uniform_to_normal(const SVal& u1_in, const SVal& u2, const Loc& loc) {
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
SVal IrGen::random_builtin(Builtin id, const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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

SVal IrGen::libdevice_call(const BuiltinSpec& spec, const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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

SVal IrGen::dot(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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

}  // namespace tilec::ir_gen
