// Input: command-line arguments. Output: `dump`: the requested compiler stage on stdout; `aot`
// (tools/aot.cpp): compiled kernels and C launch code; `precompile-runtime`: the runtime headers'
// PCH. Diagnostics on stderr; exit 0 on success, 1 on a compile error, 2 on bad usage. Needs
// neither Python nor a GPU (`aot` for CUDA needs NVRTC).
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "jit/kernel.h"
#include "jit/stages.h"
#include "tools/aot.h"
#include "tilec/frontend.h"

namespace {

const char* kUsage =
    "usage: tilec dump FILE.py --kernel NAME [--signature SIG] [--constexpr NAME=VALUE]...\n"
    "                  --emit tokens|ast|ir|ir-opt|cpp|gpu-ir|cuda|ptx [--arch sm_90] [--num-warps 4] [--num-stages 3] [--debug]\n"
    "\n"
    "Prints one compiler stage of the kernel NAME defined in FILE.py.\n"
    "  --signature  runtime arguments, e.g. 'x_ptr:*fp32:16,n:i32' (':16' = 16-byte aligned / divisible by 16)\n"
    "  --constexpr  a tl.constexpr argument, e.g. BLOCK=1024 (repeatable)\n"
    "  --arch       GPU architecture for gpu-ir/cuda/ptx (default sm_90)\n"
    "  --debug      from ir-opt on, include debug mode's bounds and overflow checks (TILEC_DEBUG=1)\n"
    "exit status: 0 success, 1 compile error (diagnostics on stderr), 2 bad usage\n"
    "\n"
    "usage: tilec precompile-runtime --into DIR\n"
    "\n"
    "Precompiles the runtime headers of CPU kernels for the host compiler ($CXX, else c++) into\n"
    "DIR/<toolchain digest>/tilec_pch.h.gch (the build does this into the folder shipped beside the\n"
    "runtime headers, where the first kernel compile of a fresh cache finds it).\n"
    "exit status: 0 success, 1 the compiler failed, 2 bad usage\n"
    "\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "tilec: %s\n%s", msg.c_str(), kUsage);
  return 2;
}

int precompile_runtime_main(const std::vector<std::string>& args) {
  if (args.size() != 2 || args[0] != "--into" || args[1].empty()) return usage_error("precompile-runtime needs --into DIR");
  tilec::find_installed_runtime();
  std::string error;
  std::string header = tilec::precompile_runtime_headers(args[1], &error);
  if (header.empty()) {
    std::fprintf(stderr, "tilec: precompile-runtime: %s\n", error.c_str());
    return 1;
  }
  std::printf("%s.gch\n", header.c_str());
  return 0;
}

bool parse_int(const std::string& s, int* out) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v <= 0 || v > 1024) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::fputs(tilec::kAotUsage, stdout);
      return 0;
    }
  if (!args.empty() && args[0] == "aot") return tilec::aot_main({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "precompile-runtime") return precompile_runtime_main({args.begin() + 1, args.end()});
  if (args.empty() || args[0] != "dump") return usage_error(args.empty() ? "missing command" : "unknown command '" + args[0] + "'");
  std::string path, kernel, signature, emit;
  std::vector<std::string> constexprs;
  tilec::TargetOptions target;
  bool debug = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    if (a == "--kernel") { if (!value(&kernel)) return usage_error("--kernel needs a value"); }
    else if (a == "--signature") { if (!value(&signature)) return usage_error("--signature needs a value"); }
    else if (a == "--constexpr") { if (!value(&v)) return usage_error("--constexpr needs NAME=VALUE"); constexprs.push_back(v); }
    else if (a == "--emit") { if (!value(&emit)) return usage_error("--emit needs a stage"); }
    else if (a == "--arch") {
      if (!value(&v) || v.rfind("sm_", 0) != 0 || !parse_int(v.substr(3), &target.arch)) return usage_error("--arch needs sm_XY, e.g. sm_90");
    }
    else if (a == "--num-warps") { if (!value(&v) || !parse_int(v, &target.num_warps)) return usage_error("--num-warps needs a positive integer"); }
    else if (a == "--num-stages") { if (!value(&v) || !parse_int(v, &target.num_stages)) return usage_error("--num-stages needs a positive integer"); }
    else if (a == "--debug") debug = true;
    else if (!a.empty() && a[0] == '-') return usage_error("unknown option '" + a + "'");
    else if (path.empty()) path = a;
    else return usage_error("unexpected argument '" + a + "'");
  }
  if (path.empty()) return usage_error("missing FILE.py");
  if (kernel.empty()) return usage_error("missing --kernel NAME");
  if (emit.empty()) return usage_error("missing --emit STAGE");
  std::optional<tilec::Stage> stage = tilec::stage_from_name(emit);
  if (!stage) return usage_error("unknown stage '" + emit + "'");
  if (target.num_warps & (target.num_warps - 1)) return usage_error("--num-warps must be a power of two");

  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "tilec: cannot read '%s': %s\n", path.c_str(), std::strerror(errno));
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  std::optional<tilec::Signature> sig = tilec::parse_signature(signature, constexprs, &error);
  if (!sig) return usage_error(error);

  tilec::KernelSource src{std::make_shared<tilec::SourceFile>(path, text.str()), kernel, *sig};
  tilec::Diagnostics diags;
  std::optional<std::string> out = tilec::emit_stage(src, *stage, target, diags, debug);
  std::fputs(diags.render().c_str(), stderr);
  if (!out) return 1;
  std::fputs(out->c_str(), stdout);
  return 0;
}
