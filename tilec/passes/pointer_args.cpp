// Input: a verified Function. Output: for every pointer value, the pointer arguments it may point
// into, and per argument whether the kernel writes through it; sound: a may-set, never too small.
#include <set>

#include "tilec/passes.h"

namespace tilec {
namespace {

class Provenance {
 public:
  explicit Provenance(const Function& fn) {
    for (size_t i = 0; i < fn.args.size(); ++i)
      if (fn.args[i]->type.is_ptr) sets_[fn.args[i]].insert(static_cast<int>(i));
    // Loop-carried pointers need a fixpoint: a yield can widen the set of an earlier region arg.
    do {
      changed_ = false;
      run(fn.body);
    } while (changed_);
  }

  PointerArgs take() { return std::move(sets_); }

 private:
  void merge(const Value* into, const Value* from) {
    if (!into->type.is_ptr) return;
    auto it = sets_.find(from);
    if (it == sets_.end()) return;
    const std::set<int>& src = it->second;  // element references survive a rehash; iterators do not
    std::set<int>& dst = sets_[into];
    for (int a : src) changed_ |= dst.insert(a).second;
  }

  // Region `r`'s terminator operands flow into `targets` (results or the next region's args).
  void flow_terminator(const Region& r, const std::vector<Value*>& targets, size_t skip) {
    if (r.ops.empty()) return;
    const Op* t = r.ops.back();
    if (t->kind != OpKind::Yield && t->kind != OpKind::Condition) return;
    for (size_t i = skip; i < t->operands.size() && i - skip < targets.size(); ++i) merge(targets[i - skip], t->operands[i]);
  }

  void run(const Region& r) {
    for (const Op* op : r.ops) {
      switch (op->kind) {
        case OpKind::For:
          for (size_t i = 3; i < op->operands.size(); ++i) {
            merge(op->regions[0].args[i - 2], op->operands[i]);
            merge(op->results[i - 3], op->operands[i]);
          }
          run(op->regions[0]);
          flow_terminator(op->regions[0], {op->regions[0].args.begin() + 1, op->regions[0].args.end()}, 0);
          flow_terminator(op->regions[0], op->results, 0);
          break;
        case OpKind::If:
          run(op->regions[0]);
          run(op->regions[1]);
          flow_terminator(op->regions[0], op->results, 0);
          flow_terminator(op->regions[1], op->results, 0);
          break;
        case OpKind::While:
          for (size_t i = 0; i < op->operands.size(); ++i) merge(op->regions[0].args.at(i), op->operands[i]);
          run(op->regions[0]);
          flow_terminator(op->regions[0], op->regions[1].args, 1);
          flow_terminator(op->regions[0], op->results, 1);
          run(op->regions[1]);
          flow_terminator(op->regions[1], op->regions[0].args, 0);
          break;
        case OpKind::Select:
          merge(op->result(), op->operands[1]);
          merge(op->result(), op->operands[2]);
          break;
        case OpKind::AddPtr: case OpKind::Splat: case OpKind::Broadcast: case OpKind::ExpandDims: case OpKind::Reshape:
        case OpKind::Permute: case OpKind::Hint: case OpKind::Cast:
          merge(op->result(), op->operands[0]);
          break;
        case OpKind::Constant: case OpKind::ProgramId: case OpKind::NumPrograms: case OpKind::Arange: case OpKind::Binary:
        case OpKind::Compare: case OpKind::Unary: case OpKind::Fma: case OpKind::Libdevice: case OpKind::Barrier:
        case OpKind::Print: case OpKind::InlineAsm:
        case OpKind::Load: case OpKind::Store:
        case OpKind::Reduce: case OpKind::Scan: case OpKind::Dot: case OpKind::AtomicRMW: case OpKind::AtomicCAS:
        case OpKind::Assert: case OpKind::Yield: case OpKind::Condition:
          break;
      }
    }
  }

  PointerArgs sets_;
  bool changed_ = false;
};

// The argument a pointer is an absolute offset from: the arg itself seen through shape-only ops.
const Value* direct_arg(const Value* v) {
  while (v->def) {
    OpKind k = v->def->kind;
    bool shape_only = k == OpKind::Splat || k == OpKind::Broadcast || k == OpKind::ExpandDims || k == OpKind::Reshape ||
                      k == OpKind::Permute || k == OpKind::Hint;
    if (!shape_only) return nullptr;
    v = v->def->operands[0];
  }
  return v;
}

}  // namespace

PointerArgs pointer_args(const Function& fn) { return Provenance(fn).take(); }

ArgAccess analyze_arg_access(const Function& fn) {
  ArgAccess out;
  out.written.assign(fn.args.size(), false);
  out.offset32.assign(fn.args.size(), Loc{});
  PointerArgs sets = pointer_args(fn);
  walk_ops(fn.body, [&](const Op* op) {
    if (op->kind == OpKind::Store || op->kind == OpKind::AtomicRMW || op->kind == OpKind::AtomicCAS) {
      auto it = sets.find(op->operands[0]);
      if (it != sets.end())
        for (int a : it->second) out.written[a] = true;
    }
    if (op->kind != OpKind::AddPtr || dtype_bits(op->operands[1]->type.dtype) > 32) return;
    const Value* base = direct_arg(op->operands[0]);
    for (size_t i = 0; i < fn.args.size(); ++i)
      if (fn.args[i] == base && !out.offset32[i].file) out.offset32[i] = op->loc;
  });
  return out;
}

}  // namespace tilec
