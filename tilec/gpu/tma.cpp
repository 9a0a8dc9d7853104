// Input: gpu-ir after pipeline_loops, on a target with TMA. Output: the tensor maps of descriptor
// accesses TMA can copy (launch-known fields, TMA's alignment proven) and tma_accesses, the
// descriptor loads and stores outside pipelines that one TMA copy of the whole block serves.
#include <algorithm>

#include "tilec/gpu/gpu_ir.h"

namespace tilec::gpu {
namespace {

// A descriptor field the launcher can read: a kernel argument, an integer cast of one, or a constant.
bool launch_known(const GpuModule& m, const Value* v) {
  if (v->def && v->def->kind == OpKind::Cast && is_int(v->type.dtype) && is_int(v->def->operands[0]->type.dtype)) v = v->def->operands[0];
  if (v->def) return v->def->kind == OpKind::Constant;
  return std::find(m.fn->args.begin(), m.fn->args.end(), v) != m.fn->args.end();
}

// Whether the launch promises the known field `v` divisible by `d`: a constant that is, or an
// argument specialized as divisible by 16 when d divides 16.
bool known_divisible(const GpuModule& m, const Value* v, int64_t d) {
  if (v->def && v->def->kind == OpKind::Cast) v = v->def->operands[0];
  if (v->def) return v->def->ival % d == 0;
  size_t i = static_cast<size_t>(std::find(m.fn->args.begin(), m.fn->args.end(), v) - m.fn->args.begin());
  return i < m.fn->arg_info.size() && m.fn->arg_info[i].divisibility % d == 0;
}

}  // namespace

int tma_map(GpuModule& m, const Op& op, int swizzle) {
  std::optional<DescAccess> d = desc_access(op);
  if (!m.target.tma || !d) return -1;
  const Value* tile = op.kind == OpKind::Load ? op.result() : op.operands[0];
  int64_t es = dtype_bytes(tile->type.dtype);
  const std::vector<int64_t>& block = tile->type.shape;
  size_t rank = block.size();
  if ((swizzle && rank != 2) || (es != 1 && es != 2 && es != 4 && es != 8)) return -1;
  if (!launch_known(m, d->base) || d->base->def || !known_divisible(m, d->base, 16)) return -1;
  for (size_t i = 0; i < rank; ++i)
    if (!launch_known(m, d->shape[i]) || !launch_known(m, d->strides[i])) return -1;
  const Value* unit = d->strides.back();
  if (!unit->def || unit->def->kind != OpKind::Constant || unit->def->ival != 1) return -1;
  for (size_t i = 0; i + 1 < rank; ++i)
    if (!known_divisible(m, d->strides[i], 16 / es)) return -1;
  // Measured on the H200: a box whose innermost start is not 16-byte aligned is an illegal
  // instruction, and a store writes the innermost dim to its next 16 bytes, past the shape.
  if (m.axis->get(d->offsets.back()).div % (16 / es)) return -1;
  if (op.kind == OpKind::Store && !known_divisible(m, d->shape.back(), 16 / es)) return -1;
  TensorMap t;
  t.base = d->base;
  t.shape.assign(d->shape.begin(), d->shape.end());
  t.strides.assign(d->strides.begin(), d->strides.end());
  t.box = block;
  if (swizzle) t.box.back() = 128 / es;
  for (int64_t b : t.box)
    if (b > 256) return -1;
  t.dtype = tile->type.dtype;
  t.swizzle = swizzle;
  t.nan_fill = op.kind == OpKind::Load && op.has_other;  // a descriptor load's `other` is its NaN padding
  for (size_t i = 0; i < m.tensor_maps.size(); ++i) {
    const TensorMap& o = m.tensor_maps[i];
    if (o.base == t.base && o.shape == t.shape && o.strides == t.strides && o.box == t.box && o.dtype == t.dtype &&
        o.swizzle == t.swizzle && o.nan_fill == t.nan_fill)
      return static_cast<int>(i);
  }
  m.tensor_maps.push_back(t);
  return static_cast<int>(m.tensor_maps.size() - 1);
}

void plan_tma_accesses(GpuModule& m) {
  if (!m.target.tma) return;
  std::unordered_set<const Op*> piped;
  for (const auto& [loop, p] : m.pipelines)
    for (const AsyncLoad& a : p.loads) piped.insert(a.load);
  walk_ops(m.fn->body, [&](const Op* op) {
    if (!op->desc_rank || piped.count(op)) return;
    // The block goes through shared memory whole: blocked registers read or write it by element index.
    const Value* tile = op->kind == OpKind::Load ? op->result() : op->operands[0];
    Layout l = m.layout(tile);
    if (l.kind != LayoutKind::Blocked || l.blocked.guard) return;
    if (tile->type.numel() * dtype_bytes(tile->type.dtype) + 1024 > m.target.max_smem) return;
    int map = tma_map(m, *op, 0);
    if (map >= 0) m.tma_accesses[op] = map;
  });
}

}  // namespace tilec::gpu
