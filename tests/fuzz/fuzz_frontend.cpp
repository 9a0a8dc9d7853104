// Input: arbitrary bytes taken as a Python module. Output: nothing; every top-level def is lexed,
// parsed, typed, optimized pass by pass and printed by both code generators (CUDA for sm_80 and
// sm_90), then again after the debug-mode passes. Any crash, hang or sanitizer report is a bug,
// and so is IR that fails the verifier after a pass (the pass's bug): both abort.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tilec/codegen/cpp.h"
#include "tilec/codegen/cuda.h"
#include "tilec/frontend.h"
#include "tilec/ir_gen.h"
#include "tilec/lexer.h"
#include "tilec/module_scan.h"
#include "tilec/parser.h"
#include "tilec/passes.h"

namespace {

// Gives every parameter a plausible type so that sema runs: names ending in _ptr (or a single
// capital letter) are fp32 pointers, annotated ones constexprs (16), the rest i32.
tilec::Signature guess_signature(const tilec::FunctionDef& fn) {
  tilec::Signature sig;
  for (const tilec::Param& p : fn.params) {
    tilec::ArgSpec a;
    a.name = p.name;
    if (p.annotation) {
      if (p.default_value) continue;
      a.kind = tilec::ArgKind::Constexpr;
      a.value = tilec::ConstValue::of_int(16);
    } else if ((p.name.size() > 4 && p.name.substr(p.name.size() - 4) == "_ptr") || (p.name.size() == 1 && std::isupper(p.name[0]))) {
      a.kind = tilec::ArgKind::Pointer;
      a.dtype = tilec::DType::F32;
      a.divisibility = 16;
    } else {
      a.kind = tilec::ArgKind::Scalar;
      a.dtype = tilec::DType::I32;
    }
    sig.args.push_back(a);
  }
  return sig;
}

// A verifier failure here is a compiler bug, never a user error: the IR came from ir_gen or a pass.
void verify_or_abort(const tilec::Function& fn, const char* after) {
  tilec::Diagnostics diags;
  if (tilec::verify_ir(fn, diags)) return;
  std::fprintf(stderr, "the IR fails the verifier after %s:\n%s\n%s", after, diags.render().c_str(), tilec::print_ir(fn).c_str());
  std::abort();
}

// sm_80 lowers dots to mma.sync and sm_90 to wgmma: both planners see every kernel.
void generate_both(const tilec::Function& fn) {
  tilec::Diagnostics diags;
  tilec::generate_cpp(fn, diags);
  for (int arch : {80, 90}) tilec::generate_cuda(fn, tilec::CudaOptions{arch, 4, 3}, diags);
  diags.render();
}

size_t kernels_generated = 0;

}  // namespace

// How many kernels reached both code generators so far: the replay tool reports it, so that a
// corpus that stopped exercising the back end (every kernel rejected early) is visible.
size_t fuzz_kernels_generated() { return kernels_generated; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = std::make_shared<tilec::SourceFile>("fuzz.py", std::string(reinterpret_cast<const char*>(data), size));
  for (const tilec::TopLevelDef& d : tilec::scan_module(*file)) {
    tilec::Diagnostics diags;
    std::vector<tilec::Token> tokens = tilec::lex(*file, d.first_line, d.last_line, diags);
    std::unique_ptr<tilec::FunctionDef> fn = tilec::parse_function(tokens, diags);
    diags.render();
    if (!fn) continue;
    tilec::Diagnostics sema_diags;
    std::unique_ptr<tilec::Function> ir = tilec::build_ir(*file, d.name, guess_signature(*fn), tilec::KernelTarget{}, sema_diags, {});
    sema_diags.render();
    // A kernel with errors is the user's; one without must verify.
    if (!ir || sema_diags.has_errors()) continue;
    verify_or_abort(*ir, "ir_gen");
    tilec::print_ir(*ir);
    for (const tilec::PassRow& pass : tilec::optimization_pipeline()) {
      pass.run(*ir);
      verify_or_abort(*ir, pass.name);
    }
    tilec::print_ir(*ir);
    generate_both(*ir);
    ++kernels_generated;
    tilec::insert_overflow_checks(*ir);
    verify_or_abort(*ir, "insert-overflow-checks");
    tilec::insert_bounds_checks(*ir);
    verify_or_abort(*ir, "insert-bounds-checks");
    generate_both(*ir);
  }
  return 0;
}
