// Input: optimized tile IR in a GpuModule. Output: every tile value's blocked layout (V chosen so
// that the narrowest loaded or stored dtype moves 16 bytes per access, 1 when no access can be
// vectorized) and the broadcasts whose source is an index chain, rematerialized in the result's
// layout instead of exchanged.
#include <algorithm>

#include "tilec/gpu/gpu_ir.h"

namespace tilec::gpu {

bool is_index_chain(const Value* v, int depth) {
  if (!v->type.is_tile()) return true;
  if (depth > 16 || !v->def) return false;
  const Op& op = *v->def;
  switch (op.kind) {
    case OpKind::Constant:
    case OpKind::Arange:
    case OpKind::Splat: return true;
    case OpKind::ExpandDims:
    case OpKind::Broadcast:
    case OpKind::Cast:
    case OpKind::Binary:
    case OpKind::Compare:
    case OpKind::Unary:
    case OpKind::Select:
    case OpKind::AddPtr:
    case OpKind::Hint:
      return std::all_of(op.operands.begin(), op.operands.end(), [&](const Value* o) { return is_index_chain(o, depth + 1); });
    case OpKind::Fma:
    case OpKind::Libdevice:
    case OpKind::Barrier:
    case OpKind::Print:
    case OpKind::InlineAsm:
    case OpKind::ProgramId:
    case OpKind::NumPrograms:
    case OpKind::Reshape:
    case OpKind::Permute:
    case OpKind::Load:
    case OpKind::Store:
    case OpKind::Reduce:
    case OpKind::Scan:
    case OpKind::Dot:
    case OpKind::AtomicRMW:
    case OpKind::AtomicCAS:
    case OpKind::Assert:
    case OpKind::For:
    case OpKind::If:
    case OpKind::While:
    case OpKind::Yield:
    case OpKind::Condition: return false;
  }
  return false;
}

void assign_layouts(GpuModule& m) {
  int64_t narrowest = 4;
  std::vector<const Op*> accesses;
  walk_ops(m.fn->body, [&](const Op* op) {
    const Value* ptr = nullptr;
    if (op->kind == OpKind::Load || op->kind == OpKind::Store) ptr = op->operands[0];
    if (ptr && ptr->type.is_tile() && ptr->type.numel() >= m.threads() * 8) {
      narrowest = std::min<int64_t>(narrowest, dtype_bytes(ptr->type.dtype));
      accesses.push_back(op);
    }
  });
  m.vec_elems = std::clamp<int64_t>(m.target.vec_bytes / std::max<int64_t>(narrowest, 1), 4, 16);
  // When no large access can move V elements at once (alignment or mask unknown, e.g. a row
  // length that is not a multiple of 16), consecutive threads take consecutive elements instead:
  // V-element groups of scalar accesses would spread each warp's loads over V times the sectors.
  auto vectorizable = [&](const Op* op) {
    const Value* ptr = op->operands[0];
    const Value* mask = op->has_mask ? op->operands[op->kind == OpKind::Load ? 1 : 2] : nullptr;
    AxisInfo p = m.axis->get(ptr);
    int64_t bytes = m.vec_elems * dtype_bytes(ptr->type.dtype);
    return p.contig >= m.vec_elems && p.div >= std::min<int64_t>(bytes, 16) &&
           (!mask || !mask->type.is_tile() || m.axis->get(mask).cnst >= m.vec_elems);
  };
  if (!accesses.empty() && std::none_of(accesses.begin(), accesses.end(), vectorizable)) m.vec_elems = 1;
  walk_ops(m.fn->body, [&](const Op* op) {
    for (const Value* r : op->results)
      if (r->type.is_tile()) m.layouts[r] = blocked_layout(r->type.numel(), m.threads(), m.vec_elems);
    for (const Region& reg : op->regions)
      for (const Value* a : reg.args)
        if (a->type.is_tile()) m.layouts[a] = blocked_layout(a->type.numel(), m.threads(), m.vec_elems);
    if (op->kind == OpKind::Broadcast && op->operands[0]->type.is_tile() &&
        op->operands[0]->type.numel() != op->result()->type.numel() && is_index_chain(op->operands[0]))
      m.remat.insert(op);
  });
}

}  // namespace tilec::gpu
