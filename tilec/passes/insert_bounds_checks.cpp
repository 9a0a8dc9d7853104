// Input: an optimized, verified Function (debug mode only). Output: the same with one i64 extent
// argument per pointer argument appended, and every load, store and atomic guarded by existing ops:
// lanes outside [base, base + extent) of every argument the pointer may derive from are masked off
// (a compare-and-swap runs only when all its lanes are in bounds) and fail an Assert carrying the
// pointer, base and extent, so that no backend reads or writes out of bounds and each can report
// the element offset. Invariant: the IR stays verifiable; nothing changes for in-bounds accesses.
#include "tilec/passes.h"

namespace tilec {
namespace {

class BoundsChecker {
 public:
  explicit BoundsChecker(Function& fn) : fn_(fn), provenance_(pointer_args(fn)) {
    size_t n = fn.args.size();
    extent_.assign(n, nullptr);
    for (size_t i = 0; i < n; ++i) {
      if (!fn.args[i]->type.is_ptr) continue;
      std::string name = fn.arg_info[i].name + "_extent";
      extent_[i] = fn.new_value(Type::scalar(DType::I64), name);
      fn.args.push_back(extent_[i]);
      fn.arg_info.push_back(ArgInfo{name, 1});
    }
  }

  void run(Region& r) {
    std::vector<Op*> ops;
    ops.reserve(r.ops.size());
    for (Op* op : r.ops) {
      for (Region& sub : op->regions) run(sub);
      bool access = op->kind == OpKind::Load || op->kind == OpKind::Store || op->kind == OpKind::AtomicRMW ||
                    op->kind == OpKind::AtomicCAS;
      if (!access) {
        ops.push_back(op);
        continue;
      }
      Region scratch;
      Builder b(fn_, &scratch);
      Op* guarded = guard(b, op);
      ops.insert(ops.end(), scratch.ops.begin(), scratch.ops.end());
      ops.push_back(guarded);
    }
    r.ops = std::move(ops);
  }

 private:
  Value* constant_i1(Builder& b, const Type& like, bool v, Loc loc) {
    Op* c = b.create(OpKind::Constant, loc, {}, {like.with_dtype(DType::I1)});
    c->ival = v;
    return c->result();
  }

  Value* binary(Builder& b, BinaryKind k, Value* x, Value* y, Loc loc) {
    Op* o = b.create(OpKind::Binary, loc, {x, y}, {x->type});
    o->binary = k;
    return o->result();
  }

  // The pointer arg `a`'s base and end, as scalars splatted to the shape of `ptr`.
  std::pair<Value*, Value*> bounds(Builder& b, Value* ptr, int a, Loc loc) {
    Value* base = fn_.args[a];
    Value* end = b.create(OpKind::AddPtr, loc, {base, extent_[a]}, {base->type})->result();
    if (!ptr->type.is_tile()) return {base, end};
    return {b.create(OpKind::Splat, loc, {base}, {ptr->type})->result(), b.create(OpKind::Splat, loc, {end}, {ptr->type})->result()};
  }

  // All of a tile of i1 as one i1 scalar: the minimum of its lanes as i32.
  Value* all_of(Builder& b, Value* cond, Loc loc) {
    if (!cond->type.is_tile()) return cond;
    Value* flat = b.create(OpKind::Reshape, loc, {cond}, {Type::tile(DType::I1, {cond->type.numel()})})->result();
    Value* wide = b.create(OpKind::Cast, loc, {flat}, {flat->type.with_dtype(DType::I32)})->result();
    Op* red = b.create(OpKind::Reduce, loc, {wide}, {Type::scalar(DType::I32)});
    red->reduce = ReduceKind::Min;
    red->axis = 0;
    Op* zero = b.create(OpKind::Constant, loc, {}, {Type::scalar(DType::I32)});
    Op* ne = b.create(OpKind::Compare, loc, {red->result(), zero->result()}, {Type::scalar(DType::I1)});
    ne->cmp = CmpKind::Ne;
    return ne->result();
  }

  const char* access_name(const Op* op) {
    switch (op->kind) {
      case OpKind::Load: return "load from";
      case OpKind::Store: return "store to";
      case OpKind::AtomicRMW: case OpKind::AtomicCAS: return "atomic update of";
      case OpKind::Constant: case OpKind::ProgramId: case OpKind::NumPrograms: case OpKind::Arange: case OpKind::Splat:
      case OpKind::Broadcast: case OpKind::ExpandDims: case OpKind::Reshape: case OpKind::Permute: case OpKind::Cast:
      case OpKind::Binary: case OpKind::Compare: case OpKind::Unary: case OpKind::Fma: case OpKind::Libdevice:
      case OpKind::Barrier: case OpKind::Print: case OpKind::InlineAsm: case OpKind::Select:
      case OpKind::AddPtr: case OpKind::Reduce: case OpKind::Scan: case OpKind::Dot: case OpKind::Assert:
      case OpKind::Hint: case OpKind::For: case OpKind::If: case OpKind::While: case OpKind::Yield: case OpKind::Condition:
        break;
    }
    return "access to";
  }

  // Emits the checks of `op` into b's region and returns the op to run in its place.
  Op* guard(Builder& b, Op* op) {
    Value* ptr = op->operands[0];
    auto it = provenance_.find(ptr);
    if (it == provenance_.end() || it->second.empty()) return op;
    Loc loc = op->loc;
    Value* inb = nullptr;
    std::string names;
    for (int a : it->second) {
      auto [lo, hi] = bounds(b, ptr, a, loc);
      Type cond_type = Type::tile(DType::I1, ptr->type.shape);
      Op* ge = b.create(OpKind::Compare, loc, {ptr, lo}, {cond_type});
      ge->cmp = CmpKind::Ge;
      Op* lt = b.create(OpKind::Compare, loc, {ptr, hi}, {cond_type});
      lt->cmp = CmpKind::Lt;
      Value* in_a = binary(b, BinaryKind::And, ge->result(), lt->result(), loc);
      inb = inb ? binary(b, BinaryKind::Or, inb, in_a, loc) : in_a;
      names += (names.empty() ? "'" : " or '") + fn_.arg_info[a].name + "'";
    }
    int first = *it->second.begin();
    // Masked-off lanes are never accessed, so they pass whatever their address.
    int mask_index = op->kind == OpKind::Load ? 1 : 2;
    Value* mask = op->has_mask ? op->operands[mask_index] : nullptr;
    Value* ok = mask ? b.create(OpKind::Select, loc, {mask, inb, constant_i1(b, inb->type, true, loc)}, {inb->type})->result() : inb;
    Op* check = b.create(OpKind::Assert, loc, {ok, ptr, fn_.args[first], extent_[first]}, {});
    check->str = std::string("out-of-bounds ") + access_name(op) + " " + names + " in kernel '" + fn_.name + "' at " + loc.str();
    if (op->kind == OpKind::AtomicCAS) return guard_cas(b, op, inb);
    Value* guarded_mask = mask ? binary(b, BinaryKind::And, mask, inb, loc) : inb;
    if (mask) {
      op->operands[mask_index] = guarded_mask;
    } else {
      op->operands.insert(op->operands.begin() + mask_index, guarded_mask);
      op->has_mask = true;
    }
    return op;
  }

  // A compare-and-swap has no mask: it runs under an If on all lanes being in bounds, else yields 0s.
  Op* guard_cas(Builder& b, Op* cas, Value* inb) {
    Loc loc = cas->loc;
    Op* branch = fn_.new_op(OpKind::If, loc);
    branch->operands = {all_of(b, inb, loc)};
    branch->regions.resize(2);
    Value* old = cas->result();
    Value* merged = fn_.new_value(old->type, old->name);
    merged->def = branch;
    branch->results = {merged};
    // Users of the CAS read the If's result instead; the CAS itself moves into the then-branch.
    std::unordered_map<Value*, Value*> map{{old, merged}};
    apply_replacements(fn_, map);
    Builder then_b(fn_, &branch->regions[0]);
    then_b.region()->ops.push_back(cas);
    then_b.create(OpKind::Yield, loc, {old}, {});
    Builder else_b(fn_, &branch->regions[1]);
    Op* zero = else_b.create(OpKind::Constant, loc, {}, {old->type});
    else_b.create(OpKind::Yield, loc, {zero->result()}, {});
    return branch;
  }

  Function& fn_;
  PointerArgs provenance_;
  std::vector<Value*> extent_;
};

}  // namespace

void insert_bounds_checks(Function& fn) {
  BoundsChecker checker(fn);
  checker.run(fn.body);
}

}  // namespace tilec
