// Input: tl.load/tl.store/atomic arguments, block pointers and tensor descriptors. Output: pointer tiles,
// masks and memory-op attributes (order, scope, cache hints); block pointers and descriptors stay compile-time records.
#include "tilec/ir_gen_impl.h"

namespace tilec::ir_gen {

// ---- Pointers, atomics and memory hints ----

Value* IrGen::pointer_arg(const std::optional<SVal>& v, const Loc& loc) {
  Value* p = tile_arg(v, loc, "pointer");
  if (!p->type.is_ptr) fail(loc, "expected a pointer or a tile of pointers, got " + describe(*v));
  return p;
}

// Pointer, value and mask broadcast together, as tl.load/tl.store/atomics do.
std::vector<int64_t> IrGen::memory_shape(Value* ptr, const std::vector<const SVal*>& others, const Loc& loc) {
  SVal p = SVal::of(ptr);
  std::vector<const SVal*> all = {&p};
  for (const SVal* o : others)
    if (o) all.push_back(o);
  return joint_shape(all, loc);
}

SVal IrGen::atomic(AtomicKind kind, const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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
void IrGen::set_memory_order(Op* op, const std::optional<SVal>& sem, const std::optional<SVal>& scope, const Loc& loc) {
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
void IrGen::set_memory_hints(Op* op, const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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

// ---- Block pointers ----

// The items of a per-dim argument of tl.make_block_ptr/tl.advance (a tuple, or one value for 1-D).
std::vector<SVal> IrGen::dim_items(const SVal& v) { return v.kind == SVal::Kind::Tuple ? v.items : std::vector<SVal>{v}; }

// A shape, stride or offset entry as a scalar of `t`: i64 for shapes and strides, i32 for offsets
// (an int64 offset is an error, as in Triton).
Value* IrGen::block_ptr_scalar(const SVal& v, DType t, const char* what, const Loc& loc) {
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

std::vector<Value*> IrGen::block_ptr_scalars(const SVal& v, DType t, const char* param, size_t rank, const Loc& loc,
                                             const char* fn) {
  std::vector<SVal> items = dim_items(v);
  if (items.size() != rank)
    fail(loc, std::string(fn) + " " + param + " has " + std::to_string(items.size()) + " entries but block_shape has " +
                  std::to_string(rank));
  std::vector<Value*> out;
  for (const SVal& x : items) out.push_back(block_ptr_scalar(x, t, param, loc));
  return out;
}

SVal IrGen::make_block_ptr(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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
SVal IrGen::make_tensor_descriptor(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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

// A host-side TensorDescriptor parameter: its base pointer, shape and strides arrive as runtime
// arguments (the last stride is 1, checked at launch); then it is the descriptor that
// tl.make_tensor_descriptor builds, with the same checks.
SVal IrGen::descriptor_param(const ArgSpec& spec, const Loc& loc) {
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

// A descriptor with the offsets of one desc.load/desc.store: every dim bounds-checked. Returns
// the pointer tile and mask, and in *fields the descriptor operands the op carries after them
// (base, shape, strides, offsets: what a TMA copy of the GPU backend reads).
std::pair<Value*, Value*> IrGen::descriptor_access(const std::optional<SVal>& desc, const SVal& offsets, const char* fn,
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

SVal IrGen::load_descriptor(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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
void IrGen::store_descriptor(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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

SVal IrGen::advance(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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
std::vector<int64_t> IrGen::boundary_dims(const std::optional<SVal>& v, size_t rank, const Loc& loc) {
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
std::pair<Value*, Value*> IrGen::block_access(const BlockPtr& p, const std::vector<int64_t>& checked, const Loc& loc) {
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
SVal IrGen::load_block(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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
void IrGen::store_block(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
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

}  // namespace tilec::ir_gen
