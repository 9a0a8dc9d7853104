// Input: gpu-ir after propagate_layouts. Output: a LoopPipeline for each loop whose tensor-core
// dots read loads that TMA (2-d descriptors of launch-known fields, on sm_90) or cp.async (16-byte
// chunks, chunk-uniform masks, zero `other`) can move, or A from registers: body loads' address
// slice is re-run `distance` iterations ahead into num_stages shared-memory buffers, loads before
// the loop are copied once; wgmma dots elsewhere fall back.
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

// A's registers can feed the dot directly: an mma tile of the same row distribution, K wide.
bool a_from_registers(const GpuModule& m, const Op& dot) {
  const DotPlan& plan = m.dots.at(&dot);
  Layout a = m.layout(dot.operands[0]);
  const MmaLayout &p = plan.acc.mma, &q = a.mma;
  return a.kind == LayoutKind::Mma && !plan.carried && q.version == p.version && q.m == p.m && q.warps_m == p.warps_m &&
         q.warps_n == 1 && p.warps_n == 1 && q.n == dot.operands[0]->type.shape[1];
}

// The copy of one dot operand: a load in the body (or tl.trans of one, for B), or a load before
// the loop whose tile the loop reads every iteration. With `tma`, only a TMA copy will do.
std::optional<AsyncLoad> plan_operand(GpuModule& m, const Op& dot, int idx, const std::unordered_set<const Op*>& in_body,
                                      const std::unordered_map<const Value*, int>& uses, int stages, bool tma) {
  const DotPlan& plan = m.dots.at(&dot);
  AsyncLoad a;
  a.dot = &dot;
  a.operand = idx;
  const Value* v = dot.operands[idx];
  if (idx == 1 && v->def && v->def->kind == OpKind::Permute && v->def->ints == std::vector<int64_t>{1, 0} && uses.at(v) == 1) {
    a.permute = v->def;
    v = v->def->operands[0];
  }
  if (!v->def || v->def->kind != OpKind::Load || uses.at(v) != 1) return std::nullopt;
  a.invariant = !in_body.count(v->def);
  if (a.invariant && a.permute) return std::nullopt;
  const Op& load = *v->def;
  const Value* ptr = load.operands[0];
  const Value* mask = load.has_mask ? load.operands[1] : nullptr;
  if (load.has_other && !is_zero_constant(load.operands[1 + load.has_mask])) return std::nullopt;
  // A volatile or `.cv` load must read memory when it runs, not stages ahead. Other cache hints
  // let it pipeline: cp.async.cg goes through L2 only, as `.cg` does, so L1 hints have no L1 to act on.
  if (load.is_volatile || load.cache == CacheModifier::CV) return std::nullopt;
  int64_t es = dtype_bytes(v->type.dtype), chunk = 16 / es;
  if (!tma) {
    Layout bl = m.layout(ptr);
    if (!ptr->type.is_tile() || bl.kind != LayoutKind::Blocked || bl.blocked.vec < chunk || bl.blocked.guard ||
        ptr->type.shape.back() % bl.blocked.vec)
      return std::nullopt;
    AxisInfo pi = m.axis->get(ptr);
    if (pi.contig < chunk || pi.div < 16) return std::nullopt;
    if (mask && mask->type.is_tile() && m.axis->get(mask).cnst < chunk) return std::nullopt;
  }
  a.load = &load;
  a.smem.kind = LayoutKind::Shared;
  SharedLayout& s = a.smem.shared;
  // wgmma reads a 4-byte (tf32) operand only K-major: an N-major B goes in transposed, one 4-byte
  // cp.async per element, as Triton does; 16-bit B stays N-major (wgmma transposes it itself).
  a.transpose = plan.kind == DotLowering::Wgmma && idx == 1 && !a.permute && es == 4;
  s.rows = v->type.shape[a.transpose ? 1 : 0];
  s.cols = v->type.shape[a.transpose ? 0 : 1];
  s.elem_bytes = es;
  s.stages = a.invariant ? 1 : stages;
  if (plan.kind == DotLowering::Wgmma) {
    if ((s.cols * es) % 128) return std::nullopt;
    s.swizzle = 128;
  } else {
    s.pad = (s.cols / chunk) % 2 ? 0 : chunk;  // odd number of 16-byte chunks per row: conflict-free ldmatrix
  }
  if (tma) {
    // TMA writes the 128-byte swizzle wgmma reads, one box per 128-byte column group.
    if (plan.kind != DotLowering::Wgmma || a.transpose) return std::nullopt;
    s.groups_outer = true;
    a.tma = tma_map(m, load, 128);
    if (a.tma < 0) return std::nullopt;
  }
  return a;
}

// Every operand copy of the loop's dots, all with TMA or all with cp.async; nullopt when one fails.
std::optional<std::vector<AsyncLoad>> plan_operands(GpuModule& m, const std::vector<const Op*>& dots,
                                                    const std::unordered_set<const Op*>& in_body,
                                                    const std::unordered_map<const Value*, int>& uses, int stages, bool tma) {
  size_t maps = m.tensor_maps.size();
  std::vector<AsyncLoad> loads;
  for (const Op* dot : dots)
    for (int idx = 0; idx < 2; ++idx) {
      if (idx == 0 && a_from_registers(m, *dot)) continue;
      std::optional<AsyncLoad> a = plan_operand(m, *dot, idx, in_body, uses, stages, tma);
      if (!a) {
        m.tensor_maps.resize(maps);
        return std::nullopt;
      }
      loads.push_back(*a);
    }
  return loads;
}

std::optional<LoopPipeline> plan_loop(GpuModule& m, const Op& loop, const std::vector<const Op*>& dots,
                                      const std::unordered_map<const Value*, int>& uses) {
  int stages = loop.ival ? static_cast<int>(loop.ival) : m.num_stages;  // tl.range(num_stages=) wins
  if (stages < 2 || !m.target.cp_async) return std::nullopt;
  const Region& body = loop.regions.at(0);
  std::unordered_set<const Op*> in_body(body.ops.begin(), body.ops.end());
  LoopPipeline p;
  p.stages = stages;
  p.dots = dots;
  p.distance = p.stages - 1;
  // TMA when every operand is a descriptor load it can copy: no per-thread address registers and
  // one issuing thread; else cp.async.
  std::optional<std::vector<AsyncLoad>> loads = plan_operands(m, dots, in_body, uses, stages, true);
  p.tma = loads.has_value();
  if (!loads) loads = plan_operands(m, dots, in_body, uses, stages, false);
  if (!loads) return std::nullopt;
  p.loads = std::move(*loads);
  std::vector<const Value*> work;
  for (const AsyncLoad& a : p.loads) {
    if (a.invariant) continue;
    if (p.tma) {
      std::optional<DescAccess> d = desc_access(*a.load);
      work.insert(work.end(), d->offsets.begin(), d->offsets.end());
      continue;
    }
    work.push_back(a.load->operands[0]);
    if (a.load->has_mask) work.push_back(a.load->operands[1]);
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
    off += a.smem.shared.stage_bytes() * a.smem.shared.stages;
  }
  if (p.tma) {
    // One mbarrier per stage, then one for the loads before the loop.
    p.barriers = off;
    off += 8 * (p.stages + 1);
  }
  p.smem_bytes = off;
  if (off + 1024 > m.target.max_smem) return std::nullopt;
  // The tensor cores can work on iteration i while its threads issue the copies of i + stages - 1
  // into the stage that iteration i - 1 read (every thread waited for its wgmma before the barrier),
  // but the accumulator is then pinned while the copy addresses are live: only when both fit in
  // registers (about 8 per 16-byte chunk a thread copies; measured on the H200: 128x128x64 with 4
  // warps spills and runs 9% slower, 128x256x64 with 8 warps runs 10% faster).
  int64_t chunks = 0;
  for (const AsyncLoad& a : p.loads)
    if (a.tma < 0) chunks += a.smem.shared.rows * a.smem.shared.cols * a.smem.shared.elem_bytes / 16 / m.threads();
  const DotPlan& plan = m.dots.at(dots[0]);
  p.async_mma = dots.size() == 1 && plan.carried && plan.kind == DotLowering::Wgmma &&
                plan.acc.mma.outer() * plan.acc.mma.inner() + 8 * chunks <= 224;
  for (const Op* dot : dots) m.dots.at(dot).a_regs = a_from_registers(m, *dot);
  return p;
}

}  // namespace

void pipeline_loops(GpuModule& m) {
  std::unordered_map<const Value*, int> uses;
  walk_ops(m.fn->body, [&](const Op* o) {
    for (const Value* v : o->operands) ++uses[v];
  });
  // Innermost loops first: a dot belongs to the loop whose body holds it.
  std::vector<std::pair<const Op*, std::vector<const Op*>>> candidates;
  walk_ops(m.fn->body, [&](const Op* o) {
    if (o->kind != OpKind::For) return;
    std::vector<const Op*> dots;
    for (const Op* d : o->regions.at(0).ops) {
      auto it = m.dots.find(d);
      if (it == m.dots.end() || (it->second.kind != DotLowering::Wgmma && it->second.kind != DotLowering::MmaSync)) continue;
      if (it->second.carried && std::find(o->results.begin(), o->results.end(), it->second.carried) == o->results.end()) continue;
      dots.push_back(d);
    }
    if (!dots.empty()) candidates.emplace_back(o, dots);
  });
  bool demoted = false;
  for (const auto& [loop, dots] : candidates) {
    std::optional<LoopPipeline> p = plan_loop(m, *loop, dots, uses);
    if (p) {
      m.pipelines[loop] = std::move(*p);
      continue;
    }
    for (const Op* d : dots) {
      demoted |= m.dots.at(d).kind == DotLowering::Wgmma;
      demote_wgmma(m, d);
    }
  }
  // wgmma dots outside any pipelined loop read registers staged per dot: mma.sync does that.
  walk_ops(m.fn->body, [&](const Op* o) {
    if (o->kind != OpKind::Dot || m.dots.at(o).kind != DotLowering::Wgmma) return;
    for (const auto& [loop, p] : m.pipelines)
      if (std::find(p.dots.begin(), p.dots.end(), o) != p.dots.end()) return;
    demoted = true;
    demote_wgmma(m, o);
  });
  if (demoted) propagate_layouts(m);
  for (auto& [dot, plan] : m.dots) {
    bool piped = false;
    for (const auto& [loop, p] : m.pipelines) piped |= std::find(p.dots.begin(), p.dots.end(), dot) != p.dots.end();
    if (plan.kind == DotLowering::MmaSync && !piped) plan.a_regs = a_from_registers(m, *dot);
  }
}

}  // namespace tilec::gpu
