// Input: a KernelSource, a Stage and target options. Output: the text of that stage; backend
// stages (cpp, cuda, ptx) run the front end first. Used by the CLI and by CompiledKernel.asm.
#pragma once
#include <optional>
#include <string>

#include "tilec/codegen/cuda.h"
#include "tilec/frontend.h"

namespace tilec {

using TargetOptions = CudaOptions;

// debug: ir-opt and the backend stages include the debug-mode checks (insert_overflow_checks,
// insert_bounds_checks), as TILEC_DEBUG=1 compiles them.
std::optional<std::string> emit_stage(const KernelSource& src, Stage stage, const TargetOptions& target,
                                      Diagnostics& diags, bool debug = false);

}  // namespace tilec
