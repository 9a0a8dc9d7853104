// Input: a KernelSource, a Stage and target options. Output: the text of that stage; backend
// stages (cpp, cuda, ptx) run the front end first. Used by the CLI and by CompiledKernel.asm.
#pragma once
#include <optional>
#include <string>

#include "tilec/codegen/cuda.h"
#include "tilec/frontend.h"

namespace tilec {

using TargetOptions = CudaOptions;

std::optional<std::string> emit_stage(const KernelSource& src, Stage stage, const TargetOptions& target,
                                      Diagnostics& diags);

}  // namespace tilec
