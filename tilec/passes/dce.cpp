// Input: a Function. Output: the same without pure ops (and non-volatile loads) whose results are unused, and
// without for/if ops whose results are unused and whose bodies have no side effects.
#include <unordered_map>

#include "tilec/passes.h"

namespace tilec {
namespace {

using Uses = std::unordered_map<const Value*, int>;

void count_uses(const Region& r, Uses& uses) {
  walk_ops(r, [&](const Op* op) {
    for (const Value* v : op->operands) ++uses[v];
  });
}

bool pure_asm(const Op& op) { return !op.ints.empty() && op.ints[0] != 0; }  // tl.inline_asm_elementwise(is_pure=True)

bool has_side_effects(const Region& r) {
  bool effects = false;
  walk_ops(r, [&](const Op* op) {
    switch (op->kind) {
      case OpKind::Store: case OpKind::AtomicRMW: case OpKind::AtomicCAS: case OpKind::Assert: case OpKind::Barrier:
      case OpKind::Print:
        effects = true;
        break;
      case OpKind::InlineAsm: effects = effects || !pure_asm(*op); break;
      case OpKind::Load: effects = effects || op->is_volatile; break;
      case OpKind::Constant: case OpKind::ProgramId: case OpKind::NumPrograms: case OpKind::Arange: case OpKind::Splat:
      case OpKind::Broadcast: case OpKind::ExpandDims: case OpKind::Reshape: case OpKind::Permute: case OpKind::Cast:
      case OpKind::Binary: case OpKind::Compare: case OpKind::Unary: case OpKind::Fma: case OpKind::Libdevice: case OpKind::Select:
      case OpKind::AddPtr: case OpKind::Reduce: case OpKind::Scan: case OpKind::Dot:
      case OpKind::Hint: case OpKind::For: case OpKind::If: case OpKind::While: case OpKind::Yield: case OpKind::Condition:
        break;
    }
  });
  return effects;
}

bool removable(const Op& op, const Uses& uses) {
  for (const Value* v : op.results)
    if (uses.count(v) && uses.at(v) > 0) return false;
  // A volatile load is kept (it may be a flag another program writes); so is inline asm not declared pure.
  if (is_pure(op) || (op.kind == OpKind::Load && !op.is_volatile) || (op.kind == OpKind::InlineAsm && pure_asm(op))) return true;
  if (op.kind == OpKind::For || op.kind == OpKind::If || op.kind == OpKind::While) {
    // A while loop may not terminate; removing it would change behaviour only for hangs, but keep it.
    if (op.kind == OpKind::While) return false;
    for (const Region& r : op.regions)
      if (has_side_effects(r)) return false;
    return true;
  }
  return false;
}

bool sweep(Region& r, Uses& uses) {
  bool changed = false;
  for (size_t i = r.ops.size(); i-- > 0;) {
    Op* op = r.ops[i];
    for (Region& sub : op->regions) changed |= sweep(sub, uses);
    if (!removable(*op, uses)) continue;
    for (const Value* v : op->operands) --uses[v];
    for (const Region& sub : op->regions) walk_ops(sub, [&](const Op* inner) {
      for (const Value* v : inner->operands) --uses[v];
    });
    r.ops.erase(r.ops.begin() + static_cast<long>(i));
    changed = true;
  }
  return changed;
}

}  // namespace

void eliminate_dead_code(Function& fn) {
  Uses uses;
  count_uses(fn.body, uses);
  while (sweep(fn.body, uses)) {
  }
}

}  // namespace tilec
