// Input: arbitrary bytes taken as a Python module. Output: nothing; every top-level def is lexed,
// parsed, specialized and optimized. Any crash, hang or sanitizer report is a bug.
#include <cstddef>
#include <cctype>
#include <cstdint>
#include <string>

#include "tilec/frontend.h"
#include "tilec/lexer.h"
#include "tilec/module_scan.h"
#include "tilec/parser.h"

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
    if (auto ir = tilec::lower_to_ir(src, true, sema_diags)) tilec::print_ir(*ir);
    sema_diags.render();
  }
  return 0;
}
