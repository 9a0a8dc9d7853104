// Input: an optimized, verified Function (debug mode only). Output: the same with each i32 add,
// sub and mul that feeds a pointer offset followed by the same operation in i64 and an Assert that
// the two agree, so a wrapped 32-bit offset fails naming its line instead of addressing elsewhere.
// Invariant: only Cast, Binary, Compare and Assert ops are added; results are unchanged.
#include <unordered_set>

#include "tilec/passes.h"

namespace tilec {
namespace {

// Ops whose integer result may become (part of) a pointer offset, found from each AddPtr's
// offset back through the ops that carry integers into it.
std::unordered_set<const Op*> offset_ops(const Function& fn) {
  std::unordered_set<const Op*> seen;
  std::vector<const Value*> work;
  walk_ops(fn.body, [&](const Op* op) {
    if (op->kind == OpKind::AddPtr) work.push_back(op->operands[1]);
  });
  while (!work.empty()) {
    const Value* v = work.back();
    work.pop_back();
    const Op* def = v->def;
    if (!def || !seen.insert(def).second) continue;
    OpKind k = def->kind;
    bool carries = k == OpKind::Binary || k == OpKind::Cast || k == OpKind::Splat || k == OpKind::Broadcast ||
                   k == OpKind::ExpandDims || k == OpKind::Reshape || k == OpKind::Permute || k == OpKind::Hint ||
                   k == OpKind::Select;
    if (!carries) continue;
    for (size_t i = k == OpKind::Select ? 1 : 0; i < def->operands.size(); ++i) work.push_back(def->operands[i]);
  }
  return seen;
}

bool checked_kind(BinaryKind k) { return k == BinaryKind::Add || k == BinaryKind::Sub || k == BinaryKind::Mul; }

class OverflowChecker {
 public:
  explicit OverflowChecker(Function& fn) : fn_(fn), offsets_(offset_ops(fn)) {}

  void run(Region& r) {
    std::vector<Op*> ops;
    ops.reserve(r.ops.size());
    for (Op* op : r.ops) {
      for (Region& sub : op->regions) run(sub);
      ops.push_back(op);
      bool check = op->kind == OpKind::Binary && checked_kind(op->binary) && op->result()->type.dtype == DType::I32 &&
                   offsets_.count(op);
      if (!check) continue;
      Region scratch;
      Builder b(fn_, &scratch);
      Loc loc = op->loc;
      Type wide = op->result()->type.with_dtype(DType::I64);
      Value* a = b.create(OpKind::Cast, loc, {op->operands[0]}, {wide})->result();
      Value* c = b.create(OpKind::Cast, loc, {op->operands[1]}, {wide})->result();
      Op* exact = b.create(OpKind::Binary, loc, {a, c}, {wide});
      exact->binary = op->binary;
      Value* got = b.create(OpKind::Cast, loc, {op->result()}, {wide})->result();
      Op* same = b.create(OpKind::Compare, loc, {exact->result(), got}, {Type::tile(DType::I1, wide.shape)});
      same->cmp = CmpKind::Eq;
      Op* check_op = b.create(OpKind::Assert, loc, {same->result()}, {});
      check_op->str = std::string("32-bit integer overflow in '") + binary_name(op->binary) + "' of a pointer offset in kernel '" +
                      fn_.name + "' at " + loc.str() + " (compute the offset in 64 bits, e.g. with .to(tl.int64))";
      ops.insert(ops.end(), scratch.ops.begin(), scratch.ops.end());
    }
    r.ops = std::move(ops);
  }

 private:
  Function& fn_;
  std::unordered_set<const Op*> offsets_;
};

}  // namespace

void insert_overflow_checks(Function& fn) {
  OverflowChecker checker(fn);
  checker.run(fn.body);
}

}  // namespace tilec
