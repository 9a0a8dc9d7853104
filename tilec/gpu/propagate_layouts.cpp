// Input: gpu-ir whose tensor-core dots fixed their results' mma layouts. Output: those layouts
// carried along the values computed from them -- elementwise ops keep them, a row reduction of an
// mma tile becomes its slice and a broadcast of the slice returns to the parent, loop-carried
// values take their yield's -- so that softmax-like code between two dots stays in registers.
// Every other operand is read as operand_layout says; the printer converts where it differs.
#include "tilec/gpu/gpu_ir.h"

namespace tilec::gpu {
namespace {

bool elementwise(OpKind k) {
  switch (k) {
    case OpKind::Cast:
    case OpKind::Binary:
    case OpKind::Compare:
    case OpKind::Unary:
    case OpKind::Libdevice:
    case OpKind::Fma:
    case OpKind::Select:
    case OpKind::AddPtr:
    case OpKind::Hint: return true;
    case OpKind::InlineAsm:  // packs neighbouring elements of a blocked layout into registers
    case OpKind::Print:
    case OpKind::Constant:
    case OpKind::Arange:
    case OpKind::Splat:
    case OpKind::Broadcast:
    case OpKind::ExpandDims:
    case OpKind::Reshape:
    case OpKind::Permute:
    case OpKind::Barrier:
    case OpKind::ProgramId:
    case OpKind::NumPrograms:
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

bool distributed(const Layout& l) { return l.kind == LayoutKind::Mma || l.kind == LayoutKind::Slice; }

Layout blocked_of(const GpuModule& m, const Value* v) {
  return blocked_layout(v->type.is_tile() ? v->type.numel() : 1, m.threads(), m.vec_elems);
}

bool row_reduction(const Op& op) {
  switch (op.reduce) {
    case ReduceKind::Sum:
    case ReduceKind::Max:
    case ReduceKind::Min: return op.axis == 1 && op.operands[0]->type.shape.size() == 2 && op.result()->type.is_tile();
    case ReduceKind::ArgMax:
    case ReduceKind::ArgMin: return false;
  }
  return false;
}

// The layout `op` gives its result from its operands' layouts, if it carries a distributed one.
std::optional<Layout> forward(const GpuModule& m, const Op& op) {
  const Value* r = op.results.empty() ? nullptr : op.results[0];
  if (!r || !r->type.is_tile()) return std::nullopt;
  if (elementwise(op.kind)) {
    for (const Value* o : op.operands)
      if (o->type.is_tile() && o->type.shape == r->type.shape && distributed(m.layout(o))) return m.layout(o);
    return std::nullopt;
  }
  Layout src = m.layout(op.operands.empty() ? r : op.operands[0]);
  switch (op.kind) {
    case OpKind::Reduce:
      if (src.kind == LayoutKind::Mma && row_reduction(op)) return Layout{LayoutKind::Slice, {}, src.mma, {}};
      return std::nullopt;
    case OpKind::ExpandDims:
      if (src.kind == LayoutKind::Slice && op.axis == 1 && r->type.shape.size() == 2) return src;
      return std::nullopt;
    case OpKind::Broadcast: {
      if (src.kind != LayoutKind::Slice || r->type.shape.size() != 2 || r->type.shape[0] != src.mma.m) return std::nullopt;
      MmaLayout p = src.mma;
      int64_t n = r->type.shape[1];
      if (n != p.n && (p.warps_n != 1 || n % 8 || (p.version == 3 && (n < 8 || n > 256)))) return std::nullopt;
      p.n = n;  // the same rows in a parent of the broadcast's width
      return Layout{LayoutKind::Mma, {}, p, {}};
    }
    default: return std::nullopt;
  }
}

}  // namespace

bool layout_fixed(const GpuModule& m, const Value* v) {
  for (const auto& [dot, plan] : m.dots) {
    if (plan.carried == v) return true;
    for (const Value* a : plan.acc_values)
      if (a == v) return true;
  }
  return false;
}

ConvertKind convert_kind(const Value* v) { return is_index_chain(v) ? ConvertKind::Remat : ConvertKind::Exchange; }

const char* convert_kind_name(ConvertKind k) {
  switch (k) {
    case ConvertKind::Remat: return "remat";
    case ConvertKind::Exchange: return "shared memory";
  }
  return "?";
}

void propagate_layouts(GpuModule& m) {
  // Start over from the dots' decisions (a demoted dot re-runs this pass).
  walk_ops(m.fn->body, [&](const Op* op) {
    for (const Value* r : op->results)
      if (r->type.is_tile() && !layout_fixed(m, r)) m.layouts[r] = blocked_of(m, r);
    for (const Region& reg : op->regions) {
      for (const Value* a : reg.args)
        if (a->type.is_tile() && !layout_fixed(m, a)) m.layouts[a] = blocked_of(m, a);
      if (!reg.ops.empty() && (reg.ops.back()->kind == OpKind::Yield || reg.ops.back()->kind == OpKind::Condition))
        m.yield_owner[reg.ops.back()] = op;
    }
  });
  auto set = [&](const Value* v, const Layout& l) {
    if (layout_fixed(m, v) || m.layout(v) == l) return false;
    m.layouts[v] = l;
    return true;
  };
  for (bool changed = true; changed;) {
    changed = false;
    walk_ops(m.fn->body, [&](const Op* op) {
      if (std::optional<Layout> l = forward(m, *op)) changed |= set(op->result(), *l);
      if (op->kind != OpKind::For && op->kind != OpKind::If) return;
      for (size_t i = 0; i < op->results.size(); ++i) {
        const Value* r = op->results[i];
        if (!r->type.is_tile() || layout_fixed(m, r) || distributed(m.layout(r))) continue;
        std::optional<Layout> want;
        for (const Region& reg : op->regions) {
          const Op* y = reg.ops.empty() ? nullptr : reg.ops.back();
          if (!y || y->kind != OpKind::Yield || i >= y->operands.size()) continue;
          Layout l = m.layout(y->operands[i]);
          if (!distributed(l) || (want && *want != l)) {
            want.reset();
            break;
          }
          want = l;
        }
        if (!want) continue;
        changed |= set(r, *want);
        if (op->kind == OpKind::For) changed |= set(op->regions[0].args.at(i + 1), *want);
      }
    });
  }
}

std::optional<Layout> operand_layout(const GpuModule& m, const Op& op, size_t i) {
  const Value* v = op.operands.at(i);
  if (!v->type.is_tile()) return std::nullopt;
  auto async = [&](const Value* x) {
    for (const auto& [loop, p] : m.pipelines)
      for (const AsyncLoad& a : p.loads)
        if (a.load->result() == x || (a.permute && a.permute->result() == x)) return true;
    return false;
  };
  if (elementwise(op.kind)) return m.layout(op.result());
  switch (op.kind) {
    case OpKind::Load:
      if (async(op.result())) return std::nullopt;
      return m.layout(op.result());
    case OpKind::Permute:
      if (async(op.result())) return std::nullopt;
      return blocked_of(m, v);
    case OpKind::Store:
    case OpKind::AtomicRMW:
    case OpKind::AtomicCAS:
    case OpKind::Assert: return blocked_of(m, op.operands[0]);
    case OpKind::Broadcast:
      if (m.remat.count(&op) || m.layout(v).kind == LayoutKind::Slice) return std::nullopt;
      return blocked_of(m, v);
    case OpKind::ExpandDims:
      if (m.layout(op.result()).kind == LayoutKind::Slice) return m.layout(op.result());
      return blocked_of(m, v);
    case OpKind::Reduce:
      if (m.layout(op.result()).kind == LayoutKind::Slice) return std::nullopt;
      return blocked_of(m, v);
    case OpKind::Dot: {
      const DotPlan& plan = m.dots.at(&op);
      bool regs = plan.kind == DotLowering::MmaSync || plan.kind == DotLowering::Wgmma;
      if (i == 2) {
        if (plan.carried || (v->def && v->def->kind == OpKind::Constant && is_float(v->type.dtype) && v->def->fval == 0.0))
          return std::nullopt;  // updated in place, or zero registers
        return regs ? plan.acc : blocked_of(m, v);
      }
      if (regs && (async(v) || (i == 0 && plan.a_regs))) return std::nullopt;
      return blocked_of(m, v);
    }
    case OpKind::For:
      if (i < 3) return std::nullopt;
      if (layout_fixed(m, op.results.at(i - 3))) return std::nullopt;  // a register accumulator's initial value
      return m.layout(op.results.at(i - 3));
    case OpKind::Yield: {
      auto it = m.yield_owner.find(&op);
      if (it == m.yield_owner.end()) return blocked_of(m, v);
      const Op& owner = *it->second;
      if (owner.kind == OpKind::While) return blocked_of(m, v);
      if (layout_fixed(m, v)) return std::nullopt;  // a register accumulator updated in place
      return m.layout(owner.results.at(i));
    }
    default: return blocked_of(m, v);
  }
}

}  // namespace tilec::gpu
