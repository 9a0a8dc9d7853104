// Input: a Function. Output: pure ops identical to an earlier op in the same or an enclosing
// region are replaced by that op's result; loads, stores and atomics are never merged.
#include <cstdint>
#include <cstring>
#include <map>
#include <tuple>

#include "tilec/passes.h"

namespace tilec {
namespace {

// fval enters as its bit pattern: NaN compares unordered, which would make it "equal" to any constant.
using Key = std::tuple<int, std::vector<int>, std::string, int64_t, uint64_t, int, std::vector<int64_t>, int, std::string>;

Key key_of(const Op& op) {
  std::vector<int> operands;
  for (const Value* v : op.operands) operands.push_back(v->id);
  // One small int for whichever sub-kind enum the op uses.
  int sub = 0;
  switch (op.kind) {
    case OpKind::Binary: sub = static_cast<int>(op.binary); break;
    case OpKind::Compare: sub = static_cast<int>(op.cmp); break;
    case OpKind::Unary: sub = static_cast<int>(op.unary); break;
    case OpKind::Reduce: sub = static_cast<int>(op.reduce); break;
    case OpKind::Scan: sub = static_cast<int>(op.scan); break;
    case OpKind::Hint: sub = static_cast<int>(op.hint); break;
    case OpKind::Dot: sub = static_cast<int>(op.precision); break;
    case OpKind::Constant: case OpKind::ProgramId: case OpKind::NumPrograms: case OpKind::Arange: case OpKind::Splat:
    case OpKind::Broadcast: case OpKind::ExpandDims: case OpKind::Reshape: case OpKind::Permute: case OpKind::Cast:
    case OpKind::Fma: case OpKind::Select: case OpKind::AddPtr: case OpKind::Load: case OpKind::Store:
    case OpKind::AtomicRMW: case OpKind::AtomicCAS: case OpKind::Assert: case OpKind::Barrier: case OpKind::Print: case OpKind::InlineAsm: case OpKind::Libdevice:
    case OpKind::For: case OpKind::If:
    case OpKind::While: case OpKind::Yield: case OpKind::Condition:
      break;
  }
  uint64_t fbits = 0;
  std::memcpy(&fbits, &op.fval, sizeof fbits);
  return Key{static_cast<int>(op.kind), operands, op.result()->type.str(), op.ival, fbits, op.axis, op.ints, sub, op.str};
}

void run(Region& r, std::vector<std::map<Key, Value*>>& scopes, std::unordered_map<Value*, Value*>& forward) {
  scopes.emplace_back();
  for (Op* op : r.ops) {
    for (Value*& v : op->operands)
      for (auto it = forward.find(v); it != forward.end(); it = forward.find(v)) v = it->second;
    for (Region& sub : op->regions) run(sub, scopes, forward);
    if (!is_pure(*op) || op->results.size() != 1) continue;
    Key k = key_of(*op);
    Value* found = nullptr;
    for (auto s = scopes.rbegin(); s != scopes.rend() && !found; ++s) {
      auto it = s->find(k);
      if (it != s->end()) found = it->second;
    }
    if (found) forward[op->result()] = found;
    else scopes.back().emplace(std::move(k), op->result());
  }
  scopes.pop_back();
}

}  // namespace

void eliminate_common_subexpressions(Function& fn) {
  std::vector<std::map<Key, Value*>> scopes;
  std::unordered_map<Value*, Value*> forward;
  run(fn.body, scopes, forward);
}

}  // namespace tilec
