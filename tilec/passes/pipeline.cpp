// Input: a verified Function. Output: the optimized Function; the pass order is fixed so that
// printed IR is deterministic. Also the helpers the passes share.
#include "tilec/passes.h"

namespace tilec {

const std::vector<PassRow>& optimization_pipeline() {
  static const std::vector<PassRow> rows = {
      {"canonicalize-broadcasts", canonicalize_broadcasts},
      {"fold-constants", fold_constants},
      {"canonicalize-broadcasts", canonicalize_broadcasts},  // again, on what folding produced
      {"carry-pointer-offsets", carry_pointer_offsets},
      {"cse", eliminate_common_subexpressions},
      {"dce", eliminate_dead_code},
  };
  return rows;
}

void optimize(Function& fn) {
  for (const PassRow& row : optimization_pipeline()) row.run(fn);
}

bool is_pure(const Op& op) {
  switch (op.kind) {
    case OpKind::Constant: case OpKind::ProgramId: case OpKind::NumPrograms: case OpKind::Arange:
    case OpKind::Splat: case OpKind::Broadcast: case OpKind::ExpandDims: case OpKind::Reshape:
    case OpKind::Permute: case OpKind::Cast: case OpKind::Binary: case OpKind::Compare: case OpKind::Unary:
    case OpKind::Fma: case OpKind::Libdevice: case OpKind::Select: case OpKind::AddPtr: case OpKind::Hint: case OpKind::Reduce:
    case OpKind::Scan: case OpKind::Dot:
      return true;
    // A load has no side effect, but stores between two loads make them differ; DCE may still drop it.
    case OpKind::Load:
    case OpKind::Store: case OpKind::AtomicRMW: case OpKind::AtomicCAS: case OpKind::Assert: case OpKind::Barrier: case OpKind::Print: case OpKind::InlineAsm:
    case OpKind::For: case OpKind::If: case OpKind::While: case OpKind::Yield: case OpKind::Condition:
      return false;
  }
  return false;
}

namespace {

void replace_in(Region& r, const std::unordered_map<Value*, Value*>& map) {
  for (Op* op : r.ops) {
    for (Value*& v : op->operands) {
      for (auto it = map.find(v); it != map.end(); it = map.find(v)) v = it->second;
    }
    for (Region& sub : op->regions) replace_in(sub, map);
  }
}

}  // namespace

void apply_replacements(Function& fn, const std::unordered_map<Value*, Value*>& map) {
  if (!map.empty()) replace_in(fn.body, map);
}

}  // namespace tilec
