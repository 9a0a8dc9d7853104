// Input: a whole Python module, a kernel name and a Signature. Output: the kernel specialized
// to that signature as tile IR (helpers inlined, constexprs folded), or nullptr after diagnostics.
#pragma once
#include <memory>
#include <string>

#include "tilec/ir.h"
#include "tilec/signature.h"

namespace tilec {

// `imported`: other files whose @jit helpers the kernel's file imports (`from .utils import f`).
// `target`: what tl.target_info and tl.extra.cuda.num_warps() answer, as constexprs.
std::unique_ptr<Function> build_ir(const SourceFile& file, const std::string& kernel, const Signature& sig,
                                   const KernelTarget& target, Diagnostics& diags,
                                   const std::vector<std::shared_ptr<const SourceFile>>& imported = {});

}  // namespace tilec
