// Input: arbitrary bytes taken as a Python module. Output: nothing; every top-level def is lexed,
// parsed, specialized, optimized and printed by both code generators, then again after the
// debug-mode passes. Any crash, hang or sanitizer report is a bug, and so is IR that fails the
// verifier after a pass (the pass's bug).
#include <cstddef>
#include <cctype>
#include <cstdint>
#include <string>

#include <cstdio>
#include <cstdlib>

#include "tilec/codegen/cpp.h"
#include "tilec/codegen/cuda.h"
#include "tilec/frontend.h"
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

void generate_both(const tilec::Function& fn) {
  tilec::Diagnostics diags;
  tilec::generate_cpp(fn, diags);
  tilec::generate_cuda(fn, tilec::CudaOptions{90, 4, 3}, diags);
  diags.render();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = std::make_shared<tilec::SourceFile>("fuzz.py", std::string(reinterpret_cast<const char*>(data), size));
  for (const tilec::TopLevelDef& d : tilec::scan_module(*file)) {
    tilec::Diagnostics diags;
    std::vector<tilec::Token> tokens = tilec::lex(*file, d.first_line, d.last_line, diags);
    std::unique_ptr<tilec::FunctionDef> fn = tilec::parse_function(tokens, diags);
    diags.render();
    if (!fn) continue;
    tilec::KernelSource src{file, d.name, guess_signature(*fn)};
    tilec::Diagnostics sema_diags;
    std::unique_ptr<tilec::Function> ir = tilec::lower_to_ir(src, true, sema_diags);
    sema_diags.render();
    if (!ir) continue;
    tilec::print_ir(*ir);
    generate_both(*ir);
    tilec::insert_overflow_checks(*ir);
    tilec::insert_bounds_checks(*ir);
    tilec::Diagnostics verify_diags;
    if (!tilec::verify_ir(*ir, verify_diags)) {
      std::fprintf(stderr, "the debug-mode passes broke the IR:\n%s", verify_diags.render().c_str());
      std::abort();
    }
    generate_both(*ir);
  }
  return 0;
}
