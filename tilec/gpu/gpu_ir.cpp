// Input: a GpuModule. Output: its printed form -- the tile IR with each tile value's layout after
// its type and each dot's lowering and each loop's pipeline beside the op (`tilec dump --emit gpu-ir`).
#include "tilec/gpu/gpu_ir.h"

namespace tilec::gpu {

const char* dot_lowering_name(DotLowering k) {
  switch (k) {
    case DotLowering::Fma: return "fma";
    case DotLowering::MmaStaged: return "mma_staged";
    case DotLowering::MmaSync: return "mma_sync";
    case DotLowering::Wgmma: return "wgmma";
  }
  return "?";
}

Layout GpuModule::layout(const Value* v) const {
  auto it = layouts.find(v);
  if (it != layouts.end()) return it->second;
  return blocked_layout(v->type.is_tile() ? v->type.numel() : 1, threads(), vec_elems);
}

namespace {

// What the passes decided about `op`: its dot lowering, its loop's pipeline, a rematerialization
// or an async copy.
std::string decision(const GpuModule& m, const Op& op) {
  if (auto it = m.dots.find(&op); it != m.dots.end()) {
    std::string s = std::string("{lowering = ") + dot_lowering_name(it->second.kind);
    if (it->second.carried) s += ", accumulator in registers " + it->second.acc.str();
    if (it->second.fused_add) s += ", fused add";
    if (it->second.narrow) s += std::string(", leaves the registers as ") + dtype_name(it->second.narrow->result()->type.dtype);
    if (it->second.a_regs) s += ", A from registers";
    return s + "}";
  }
  if (auto it = m.pipelines.find(&op); it != m.pipelines.end())
    return "{pipeline = " + std::to_string(it->second.stages) + " stages, " + (it->second.tma ? "tma " : "cp.async ") +
           std::to_string(it->second.distance) +
           " ahead" + (it->second.async_mma ? ", async wgmma" : "") + ", " + std::to_string(it->second.smem_bytes) +
           " bytes shared}";
  if (m.remat.count(&op)) return "{remat}";
  if (auto it = m.tma_accesses.find(&op); it != m.tma_accesses.end())
    return "{tma_" + std::string(op.kind == OpKind::Load ? "load" : "store") + " of the whole block, tensor map " + std::to_string(it->second) + "}";
  for (const auto& [loop, p] : m.pipelines)
    for (const AsyncLoad& a : p.loads) {
      if (a.load == &op)
        return std::string(a.tma < 0 ? "{async_copy" : "{tma_copy of tensor map " + std::to_string(a.tma)) + " -> " + a.smem.str() +
               " at " + std::to_string(a.offset) + (a.invariant ? ", once before the loop" : "") + "}";
      if (a.permute == &op) return "{read K-major from shared memory}";
    }
  return "";
}

// The operands `op` reads in another layout than their own, and how each gets there.
std::string conversions(const GpuModule& m, const Op& op) {
  std::string s;
  for (size_t i = 0; i < op.operands.size(); ++i) {
    const Value* v = op.operands[i];
    std::optional<Layout> want = operand_layout(m, op, i);
    if (!want || *want == m.layout(v)) continue;
    s += std::string(s.empty() ? "" : " ") + "{convert operand " + std::to_string(i) + " -> " + want->str() + " (" +
         convert_kind_name(convert_kind(v)) + ")}";
  }
  return s;
}

}  // namespace

std::string print_gpu_ir(const GpuModule& m) {
  IrAnnotations notes;
  notes.value = [&](const Value& v) { return v.type.is_tile() ? m.layout(&v).str() : std::string(); };
  notes.op = [&](const Op& op) {
    std::string c = conversions(m, op), d = decision(m, op);
    return c + (c.empty() || d.empty() ? "" : " ") + d;
  };
  std::string head = "// gpu-ir: sm_" + std::to_string(m.target.arch) + m.target.name_suffix + ", num_warps=" +
                     std::to_string(m.num_warps) + ", num_stages=" + std::to_string(m.num_stages) + "\n";
  std::string ir = print_ir(*m.fn, &notes);
  // Tensor maps name their fields by the numbers print_ir gave them.
  for (size_t i = 0; i < m.tensor_maps.size(); ++i) {
    const TensorMap& t = m.tensor_maps[i];
    std::string box;
    for (int64_t b : t.box) box += (box.empty() ? "" : ", ") + std::to_string(b);
    head += "// tensor map " + std::to_string(i) + ": " + dtype_name(t.dtype) + " box [" + box + "], " +
            (t.swizzle ? "swizzle " + std::to_string(t.swizzle) + "B" : std::string("dense")) + (t.nan_fill ? ", NaN fill" : "") +
            ", fields of " + (t.base->name.empty() ? "an argument" : "'" + t.base->name + "'") + "\n";
  }
  return head + ir;
}

}  // namespace tilec::gpu
