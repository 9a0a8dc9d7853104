// Input: optimized, verified tile IR and the target options. Output: gpu-ir (a GpuModule) after
// the GPU stages in order: assign_layouts, accelerate_dot, propagate_layouts, pipeline_loops,
// plan_tma_accesses.
#include "tilec/gpu/gpu_ir.h"

namespace tilec::gpu {

std::optional<GpuModule> lower_to_gpu(const Function& fn, int arch, int num_warps, int num_stages, bool tma, Diagnostics& diags) {
  if (num_warps < 1 || num_warps > 32 || (num_warps & (num_warps - 1))) {
    diags.error(fn.loc, "num_warps must be a power of two between 1 and 32");
    return std::nullopt;
  }
  if (num_stages < 1 || num_stages > 8) {
    diags.error(fn.loc, "num_stages must be between 1 and 8");
    return std::nullopt;
  }
  GpuModule m;
  m.fn = &fn;
  m.target = gpu_target(arch);
  m.target.tma = m.target.tma && tma;
  m.num_warps = num_warps;
  m.num_stages = num_stages;
  m.axis = std::make_unique<AxisAnalysis>(fn);
  assign_layouts(m);
  accelerate_dot(m);
  propagate_layouts(m);
  pipeline_loops(m);
  plan_tma_accesses(m);
  return m;
}

}  // namespace tilec::gpu
