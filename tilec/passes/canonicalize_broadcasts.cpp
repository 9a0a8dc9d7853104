// Input: a Function. Output: shape ops over splats become one splat, no-op broadcasts/reshapes
// are forwarded, chains of broadcasts collapse; element values never change.
#include "tilec/passes.h"

namespace tilec {
namespace {

void run(Region& r, std::unordered_map<Value*, Value*>& forward) {
  for (Op* op : r.ops) {
    for (Value*& v : op->operands)
      for (auto it = forward.find(v); it != forward.end(); it = forward.find(v)) v = it->second;
    for (Region& sub : op->regions) run(sub, forward);
    switch (op->kind) {
      case OpKind::Broadcast: case OpKind::ExpandDims: case OpKind::Reshape: case OpKind::Permute: {
        Value* src = op->operands[0];
        // A permute of a square tile keeps the type but still moves elements.
        bool moves = false;
        if (op->kind == OpKind::Permute)
          for (size_t i = 0; i < op->ints.size(); ++i) moves = moves || op->ints[i] != static_cast<int64_t>(i);
        if (src->type == op->result()->type && !moves) {
          forward[op->result()] = src;
          break;
        }
        Op* def = src->def;
        if (def && def->kind == OpKind::Splat) {
          op->kind = OpKind::Splat;
          op->operands = {def->operands[0]};
        } else if (def && op->kind == OpKind::Broadcast && def->kind == OpKind::Broadcast) {
          op->operands = {def->operands[0]};
        }
        break;
      }
      case OpKind::Constant: case OpKind::ProgramId: case OpKind::NumPrograms: case OpKind::Arange:
      case OpKind::Splat: case OpKind::Cast: case OpKind::Binary: case OpKind::Compare: case OpKind::Unary:
      case OpKind::Fma: case OpKind::Select: case OpKind::AddPtr: case OpKind::Load: case OpKind::Store:
      case OpKind::Reduce: case OpKind::Scan: case OpKind::Dot: case OpKind::AtomicRMW: case OpKind::AtomicCAS:
      case OpKind::Assert: case OpKind::Barrier: case OpKind::Print: case OpKind::InlineAsm: case OpKind::Libdevice: case OpKind::Hint: case OpKind::For: case OpKind::If: case OpKind::While:
      case OpKind::Yield: case OpKind::Condition:
        break;
    }
  }
}

}  // namespace

void canonicalize_broadcasts(Function& fn) {
  std::unordered_map<Value*, Value*> forward;
  run(fn.body, forward);
}

}  // namespace tilec
