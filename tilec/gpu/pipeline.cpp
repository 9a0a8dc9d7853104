// Input: gpu-ir after accelerate_dot. Output: a LoopPipeline for each loop whose register-resident
// dot reads two loads that cp.async can move (16-byte chunks, chunk-uniform masks, zero `other`):
// their address slice is re-run `distance` iterations ahead into num_stages shared-memory buffers.
#include <algorithm>
#include <unordered_set>

#include "tilec/gpu/gpu_ir.h"

namespace tilec::gpu {
namespace {

bool is_zero_constant(const Value* v) {
  return v->def && v->def->kind == OpKind::Constant && (is_float(v->type.dtype) ? v->def->fval == 0.0 : v->def->ival == 0);
}

// Ops the slice may repeat: pure, region-free, and register-only in any blocked layout.
bool slice_op_ok(const GpuModule& m, const Op& op) {
  switch (op.kind) {
    case OpKind::Constant:
    case OpKind::Arange:
    case OpKind::Splat:
    case OpKind::ExpandDims:
    case OpKind::Cast:
    case OpKind::Binary:
    case OpKind::Compare:
    case OpKind::Unary:
    case OpKind::Fma:
    case OpKind::Libdevice:
    case OpKind::Select:
    case OpKind::AddPtr:
    case OpKind::Hint:
    case OpKind::ProgramId:
    case OpKind::NumPrograms: return true;
    case OpKind::Broadcast:
      return !op.operands[0]->type.is_tile() || m.remat.count(&op) || op.operands[0]->type.numel() == op.result()->type.numel();
    case OpKind::Barrier:
    case OpKind::Print:
    case OpKind::InlineAsm:
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

std::optional<LoopPipeline> plan_loop(const GpuModule& m, const Op& loop, const Op& dot,
                                      const std::unordered_map<const Value*, int>& uses) {
  const DotPlan& plan = m.dots.at(&dot);
  int stages = loop.ival ? static_cast<int>(loop.ival) : m.num_stages;  // tl.range(num_stages=) wins
  if (stages < 2 || !m.target.cp_async) return std::nullopt;
  const Region& body = loop.regions.at(0);
  std::unordered_set<const Op*> in_body(body.ops.begin(), body.ops.end());
  LoopPipeline p;
  p.stages = stages;
  p.dot = &dot;
  p.distance = p.stages - 1;
  std::vector<const Value*> work;
  for (int idx = 0; idx < 2; ++idx) {
    const Value* v = dot.operands[idx];
    if (!v->def || v->def->kind != OpKind::Load || !in_body.count(v->def) || uses.at(v) != 1) return std::nullopt;
    const Op& load = *v->def;
    const Value* ptr = load.operands[0];
    const Value* mask = load.has_mask ? load.operands[1] : nullptr;
    if (load.has_other && !is_zero_constant(load.operands[1 + load.has_mask])) return std::nullopt;
    // A volatile or `.cv` load must read memory when it runs, not stages ahead. Other cache hints
    // let it pipeline: cp.async.cg goes through L2 only, as `.cg` does, so L1 hints have no L1 to act on.
    if (load.is_volatile || load.cache == CacheModifier::CV) return std::nullopt;
    int64_t es = dtype_bytes(v->type.dtype), chunk = 16 / es;
    Layout bl = m.layout(ptr);
    if (!ptr->type.is_tile() || bl.kind != LayoutKind::Blocked || bl.blocked.vec < chunk || bl.blocked.guard ||
        ptr->type.shape.back() % bl.blocked.vec)
      return std::nullopt;
    AxisInfo pi = m.axis->get(ptr);
    if (pi.contig < chunk || pi.div < 16) return std::nullopt;
    if (mask && mask->type.is_tile() && m.axis->get(mask).cnst < chunk) return std::nullopt;
    AsyncLoad a;
    a.load = &load;
    a.operand = idx;
    a.smem.kind = LayoutKind::Shared;
    SharedLayout& s = a.smem.shared;
    s.rows = v->type.shape[0];
    s.cols = v->type.shape[1];
    s.elem_bytes = es;
    s.stages = p.stages;
    if (plan.kind == DotLowering::Wgmma) {
      if ((s.cols * es) % 128) return std::nullopt;
      s.swizzle = 128;
    } else {
      s.pad = (s.cols / 8) % 2 ? 0 : 8;  // odd number of 16-byte chunks per row: conflict-free ldmatrix
    }
    p.loads.push_back(a);
    work.push_back(ptr);
    if (mask) work.push_back(mask);
  }
  // Backward slice of the addresses and masks inside the body, closed over loop-carried values.
  std::unordered_set<const Op*> slice;
  std::unordered_set<size_t> carried;
  const Op* yield = body.ops.back();
  while (!work.empty()) {
    const Value* v = work.back();
    work.pop_back();
    auto arg = std::find(body.args.begin(), body.args.end(), v);
    if (arg != body.args.end()) {
      size_t i = static_cast<size_t>(arg - body.args.begin());
      if (i > 0 && carried.insert(i - 1).second) {
        if (m.layout(v).kind != LayoutKind::Blocked) return std::nullopt;
        work.push_back(yield->operands.at(i - 1));
      }
      continue;
    }
    if (!v->def || !in_body.count(v->def) || slice.count(v->def)) continue;
    if (!slice_op_ok(m, *v->def)) return std::nullopt;
    slice.insert(v->def);
    for (const Value* o : v->def->operands) work.push_back(o);
  }
  for (const Op* op : body.ops)
    if (slice.count(op)) p.slice.push_back(op);
  p.carried.assign(carried.begin(), carried.end());
  std::sort(p.carried.begin(), p.carried.end());
  int64_t off = 0;
  for (AsyncLoad& a : p.loads) {
    a.offset = off;
    off += a.smem.shared.stage_bytes() * p.stages;
  }
  p.smem_bytes = off;
  if (off + 1024 > m.target.max_smem) return std::nullopt;
  // The tensor cores can work on iteration i while its threads issue the copies of i + stages - 1
  // into the stage that iteration i - 1 read (every thread waited for its wgmma before the barrier),
  // but the accumulator is then pinned while the copy addresses are live: only when both fit in
  // registers (about 8 per 16-byte chunk a thread copies; measured on the H200: 128x128x64 with 4
  // warps spills and runs 9% slower, 128x256x64 with 8 warps runs 10% faster).
  int64_t chunks = 0;
  for (const AsyncLoad& a : p.loads) chunks += a.smem.shared.rows * a.smem.shared.cols * a.smem.shared.elem_bytes / 16 / m.threads();
  p.async_mma = plan.kind == DotLowering::Wgmma && plan.acc.mma.outer() * plan.acc.mma.inner() + 8 * chunks <= 224;
  return p;
}

}  // namespace

void pipeline_loops(GpuModule& m) {
  std::unordered_map<const Value*, int> uses;
  walk_ops(m.fn->body, [&](const Op* o) {
    for (const Value* v : o->operands) ++uses[v];
  });
  std::vector<std::pair<const Op*, const Op*>> candidates;  // (loop, dot)
  walk_ops(m.fn->body, [&](const Op* o) {
    if (o->kind != OpKind::For) return;
    for (const Op* d : o->regions.at(0).ops) {
      auto it = m.dots.find(d);
      if (it == m.dots.end() || !it->second.carried) continue;
      if (std::find(o->results.begin(), o->results.end(), it->second.carried) != o->results.end())
        candidates.emplace_back(o, d);
    }
  });
  for (auto [loop, dot] : candidates) {
    std::optional<LoopPipeline> p = m.pipelines.count(loop) ? std::nullopt : plan_loop(m, *loop, *dot, uses);
    if (p) m.pipelines[loop] = std::move(*p);
    else demote_wgmma(m, dot);
  }
}

}  // namespace tilec::gpu
