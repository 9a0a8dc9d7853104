// Input: a KernelSource, a Stage and target options. Output: that stage's text, produced by
// running the pipeline up to it; the ptx stage compiles the CUDA C through NVRTC in-process.
#include "jit/stages.h"

#include "jit/nvrtc.h"
#include "tilec/codegen/cpp.h"
#include "tilec/gpu/gpu_ir.h"
#include "tilec/passes.h"

namespace tilec {

namespace {

// The optimized IR that the backends start from, with the debug-mode checks when asked.
std::unique_ptr<Function> backend_ir(const KernelSource& src, bool debug, Diagnostics& diags) {
  std::unique_ptr<Function> fn = lower_to_ir(src, true, diags);
  if (!fn || !debug) return fn;
  insert_overflow_checks(*fn);
  insert_bounds_checks(*fn);
  if (!verify_ir(*fn, diags)) return nullptr;
  return fn;
}

}  // namespace

std::optional<std::string> emit_stage(const KernelSource& given, Stage stage, const TargetOptions& target,
                                      Diagnostics& diags, bool debug) {
  // The GPU stages specialize the kernel to the CUDA target; the others to the CPU backend.
  bool cuda = stage == Stage::GpuIr || stage == Stage::Cuda || stage == Stage::Ptx;
  KernelSource src = given;
  src.target = KernelTarget{cuda, cuda ? target.arch : 0, target.num_warps};
  switch (stage) {
    case Stage::Tokens:
    case Stage::Ast: return dump_front(src, stage, diags);
    case Stage::Ir: {
      std::unique_ptr<Function> fn = lower_to_ir(src, false, diags);
      if (!fn) return std::nullopt;
      return print_ir(*fn);
    }
    case Stage::IrOpt: {
      std::unique_ptr<Function> fn = backend_ir(src, debug, diags);
      if (!fn) return std::nullopt;
      return print_ir(*fn);
    }
    case Stage::Cpp: {
      std::unique_ptr<Function> fn = backend_ir(src, debug, diags);
      if (!fn) return std::nullopt;
      return generate_cpp(*fn, diags);
    }
    case Stage::GpuIr: {
      std::unique_ptr<Function> fn = backend_ir(src, debug, diags);
      if (!fn) return std::nullopt;
      std::optional<gpu::GpuModule> m = gpu::lower_to_gpu(*fn, target.arch, target.num_warps, target.num_stages, true, diags);
      if (!m) return std::nullopt;
      return gpu::print_gpu_ir(*m);
    }
    case Stage::Cuda:
    case Stage::Ptx: {
      std::unique_ptr<Function> fn = backend_ir(src, debug, diags);
      if (!fn) return std::nullopt;
      std::optional<CudaKernel> k = generate_cuda(*fn, target, diags);
      if (!k) return std::nullopt;
      if (stage == Stage::Cuda) return k->source;
      std::string error;
      const Nvrtc* nvrtc = Nvrtc::get(&error);
      if (!nvrtc) {
        diags.error(fn->loc, "cannot emit PTX: " + error);
        return std::nullopt;
      }
      NvrtcOutput out = nvrtc->compile(k->source, src.kernel + ".cu", target.arch, false, {}, k->arch_specific ? "a" : "");
      if (!out.ok) {
        diags.error(fn->loc, "NVRTC failed to compile the generated CUDA C for sm_" + std::to_string(target.arch) + ":\n" + out.log);
        return std::nullopt;
      }
      return out.ptx;
    }
  }
  return std::nullopt;
}

}  // namespace tilec
