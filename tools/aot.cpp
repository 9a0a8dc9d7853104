// Input: `tilec aot FILE.py --kernel NAME --signature SIG... [--constexpr N=V]... [--backend cuda|cpu]
// [--arch sm_80,sm_90] -o DIR`. Output: DIR/NAME.h, the launch code and the compiled kernels.
//
// Each --signature is one specialization, with a typed launch function NAME_<hash>_launch; NAME_launch
// dispatches to the most specialized one whose ':16' promises the runtime arguments keep (as
// Triton's link.py does). CUDA: one cubin per specialization and arch, embedded in NAME.c, loaded
// lazily into the calling thread's current context through the driver API (link -lcuda; no NVRTC
// or Python at run time). CPU: one object file per specialization and NAME.cpp with launch
// functions over runtime/thread_pool.cpp, copied beside them (link those three; no tilec library).
#include "tools/aot.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "jit/host_compiler.h"
#include "jit/kernel.h"
#include "jit/nvrtc.h"
#include "jit/sha256.h"
#include "tilec/codegen/cpp.h"
#include "tilec/passes.h"

namespace tilec {

const char* kAotUsage =
    "usage: tilec aot FILE.py --kernel NAME --signature SIG [--signature SIG]... [--constexpr NAME=VALUE]...\n"
    "                 [--backend cuda|cpu] [--arch sm_80,sm_90] [--num-warps 4] [--num-stages 3]\n"
    "                 [--march native] [--prefix NAME] -o DIR\n"
    "\n"
    "Compiles kernel NAME ahead of time and writes DIR/PREFIX.h (PREFIX defaults to NAME) with one typed\n"
    "launch function per --signature and a dispatcher PREFIX_launch that picks by the arguments' alignment\n"
    "and divisibility by 16.\n"
    "  --backend  cuda (default): DIR/PREFIX.c embedding one cubin per specialization and --arch\n"
    "             (also written as DIR/PREFIX_<hash>.sm_XY.cubin); link with -lcuda\n"
    "  DIR/generated/ holds the generated C++ or CUDA C of each specialization, for reading\n"
    "             cpu: DIR/PREFIX.cpp, DIR/PREFIX_kernels.o (every specialization) and\n"
    "             DIR/runtime/thread_pool.{h,cpp}; compile and link those with -IDIR -pthread\n"
    "  --arch     GPU architectures, comma-separated (default sm_90)\n"
    "  --march    CPU: -march value for the host compiler (default native: the build machine's ISA)\n";

namespace {

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "tilec aot: %s\n%s", msg.c_str(), kAotUsage);
  return 2;
}

bool read_text(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool write_text(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  return static_cast<bool>(out);
}

// One --signature: its front-end result and the name of its launch function.
struct Spec {
  std::string signature;
  std::string name;  // PREFIX_<8 hex of the signature>
  std::unique_ptr<Function> fn;
  int constraints = 0;  // ':16' promises, for the dispatch order
};

// fp8/fp16/bf16 travel as their bits (pointers only, see c_type); the rest as generated code reads them.
std::string c_scalar(DType t) {
  if (is_fp8(t)) return "uint8_t";
  return t == DType::F16 || t == DType::BF16 ? "uint16_t" : cpp_element_type(t);
}

// The C type of a runtime argument in the generated header; fp8/fp16/bf16 data travels as its bits.
std::optional<std::string> c_type(const Type& t, bool cuda, std::string* error) {
  if (t.is_ptr) {
    if (cuda) return std::string("CUdeviceptr");
    return c_scalar(t.dtype) + "*";
  }
  if (is_narrow_float(t.dtype)) {
    *error = std::string("a scalar ") + dtype_name(t.dtype) + " argument has no C type in the generated header; declare it fp32";
    return std::nullopt;
  }
  return c_scalar(t.dtype);
}

// CPU pointers the kernel never stores to are `const T*`, so that callers can pass read-only data.
std::string params_decl(const Function& fn, bool cuda) {
  std::string out;
  ArgAccess access = analyze_arg_access(fn);
  for (size_t i = 0; i < fn.args.size(); ++i) {
    std::string error;
    bool read_only = !cuda && fn.args[i]->type.is_ptr && !access.written[i];
    out += ", " + std::string(read_only ? "const " : "") + *c_type(fn.args[i]->type, cuda, &error) + " " + fn.arg_info[i].name;
  }
  return out;
}

std::string params_use(const Function& fn) {
  std::string out;
  for (size_t i = 0; i < fn.args.size(); ++i) out += ", " + fn.arg_info[i].name;
  return out;
}

std::string args_array(const Function& fn) {
  std::string out = "  void* args[] = {";
  for (size_t i = 0; i < fn.args.size(); ++i) out += std::string(i ? ", " : "") + "(void*)&" + fn.arg_info[i].name;
  if (fn.args.empty()) out += "NULL";
  return out + "};\n";
}

// The dispatcher's test that the runtime arguments keep spec's ':16' promises.
std::string dispatch_condition(const Function& fn) {
  std::string cond;
  for (size_t i = 0; i < fn.args.size(); ++i) {
    if (fn.arg_info[i].divisibility != 16) continue;
    const std::string& n = fn.arg_info[i].name;
    cond += std::string(cond.empty() ? "" : " && ") +
            (fn.args[i]->type.is_ptr ? "((uintptr_t)" + n + " % 16 == 0)" : "(" + n + " % 16 == 0)");
  }
  return cond;
}

// One dispatcher line: an unconditional call for a specialization without promises.
std::string dispatch_line(const Spec& s, const std::string& call) {
  std::string cond = dispatch_condition(*s.fn);
  return cond.empty() ? "  return " + call + ";\n" : "  if (" + cond + ")\n    return " + call + ";\n";
}

// The specialization's signature, constexprs included (signature_str prints both).
std::string spec_comment(const Spec& s) { return "// " + s.name + ": " + s.signature + "\n"; }

std::string header_guard(const std::string& prefix) {
  std::string g = "TILEC_AOT_";
  for (char c : prefix) g += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return g + "_H";
}

// ---- CPU backend ----------------------------------------------------------------------------------

bool emit_cpu(const std::vector<Spec>& specs, const std::string& prefix, const std::string& dir, const std::string& march, const std::string& file) {
  Diagnostics diags;
  const std::string& rt = runtime_include_dir();
  HostCompiler cc = host_compiler(rt);
  // An object for static linking instead of a shared object; the entry points get the
  // specialization's name so that several kernels link into one program.
  std::vector<std::string> flags;
  for (const std::string& f : cc.flags) {
    if (f == "-shared") flags.push_back("-c");
    else if (f == "-march=native") flags.push_back("-march=" + march);
    else flags.push_back(f);
  }
  std::string decls, defs;
  for (const Spec& s : specs) {
    std::optional<std::string> cpp = generate_cpp(*s.fn, diags);
    if (!cpp) {
      std::fputs(diags.render().c_str(), stderr);
      return false;
    }
    // Under generated/, so that a build globbing DIR/*.cpp never compiles a kernel a second time.
    std::string src = dir + "/generated/" + s.name + ".cpp";
    if (!write_text(src, *cpp)) {
      std::fprintf(stderr, "tilec aot: cannot write %s: %s\n", src.c_str(), std::strerror(errno));
      return false;
    }
    HostCompiler spec_cc = cc;
    spec_cc.flags = flags;
    for (const char* sym : {"tilec_entry", "tilec_assert_failed", "tilec_assert_message"})
      spec_cc.flags.push_back(std::string("-D") + sym + "=" + s.name + (sym + 5));  // tilec_entry -> NAME_entry
    CompileOutcome out = compile_shared_object(spec_cc, src, dir + "/" + s.name + ".o");
    if (!out.ok) {
      std::fprintf(stderr, "%s: error: the host C++ compiler failed on the generated code for '%s'\n  command: %s\n%s\n",
                   file.c_str(), s.fn->name.c_str(), out.command.c_str(), out.log.c_str());
      return false;
    }
    decls += spec_comment(s) + "int " + s.name + "_launch(uint32_t grid_x, uint32_t grid_y, uint32_t grid_z" +
             params_decl(*s.fn, false) + ");\n";
    defs += "extern \"C\" void " + s.name + "_entry(void* const* args, const int32_t* grid, int64_t begin, int64_t end);\n"
            "extern \"C\" int " + s.name + "_assert_failed(void);\n\n"
            "int " + s.name + "_launch(uint32_t grid_x, uint32_t grid_y, uint32_t grid_z" + params_decl(*s.fn, false) + ") {\n" +
            args_array(*s.fn) + "  return tilec_aot_run(" + s.name + "_entry, " + s.name +
            "_assert_failed, args, grid_x, grid_y, grid_z);\n}\n\n";
  }
  // One relocatable object for all specializations, so that a build system knows its name
  // (PREFIX_kernels.o) before the signatures' hashes are computed.
  HostCompiler link = cc;
  link.flags = {"-r", "-nostdlib"};
  for (size_t i = 0; i + 1 < specs.size(); ++i) link.flags.push_back(dir + "/" + specs[i].name + ".o");
  CompileOutcome merged = compile_shared_object(link, dir + "/" + specs.back().name + ".o", dir + "/" + prefix + "_kernels.o");
  if (!merged.ok) {
    std::fprintf(stderr, "tilec aot: cannot merge the kernel objects\n  command: %s\n%s\n", merged.command.c_str(), merged.log.c_str());
    return false;
  }
  // Only the merged object is meant to be linked; the parts would define every symbol twice.
  for (const Spec& s : specs) std::remove((dir + "/" + s.name + ".o").c_str());
  const Function& f0 = *specs[0].fn;
  std::string dispatch = "int " + prefix + "_launch(uint32_t grid_x, uint32_t grid_y, uint32_t grid_z" + params_decl(f0, false) + ")";
  std::string h = "// Generated by `tilec aot` from kernel '" + f0.name + "' (" + file + "), CPU backend.\n"
                  "// Launch functions run the grid on a thread pool (TILEC_NUM_THREADS) and return when it is done.\n"
                  "#ifndef " + header_guard(prefix) + "\n#define " + header_guard(prefix) + "\n"
                  "#include <stdint.h>\n\n#ifndef TILEC_AOT_SUCCESS\n"
                  "#define TILEC_AOT_SUCCESS 0\n"
                  "#define TILEC_AOT_NO_SPECIALIZATION 1  /* no --signature's ':16' promises hold for these arguments */\n"
                  "#define TILEC_AOT_ASSERTION_FAILED 2   /* a device assertion failed; see *_error_message */\n"
                  "#define TILEC_AOT_BAD_GRID 3           /* a grid dimension above 2^31-1 */\n#endif\n\n"
                  "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n" + decls +
                  "// Calls the first specialization above, most specialized first, whose promises hold.\n" + dispatch + ";\n"
                  "// Copies the first failed device assertion's text into buf; returns its length.\n"
                  "int " + prefix + "_error_message(char* buf, int size);\n\n"
                  "#ifdef __cplusplus\n}\n#endif\n#endif\n";
  std::string c = "// Generated by `tilec aot`: launch functions of " + prefix + ".h over runtime/thread_pool.cpp.\n"
                  "#include \"" + prefix + ".h\"\n\n#include \"runtime/thread_pool.h\"\n\n"
                  "extern \"C\" int " + specs[0].name + "_assert_message(char* buf, int size);\n\n"
                  "namespace {\n\nusing Entry = void (*)(void* const*, const int32_t*, int64_t, int64_t);\n"
                  "struct Launch { Entry entry; void* const* args; const int32_t* grid; };\n\n"
                  "void run_range(void* ctx, int64_t begin, int64_t end) {\n"
                  "  auto* l = static_cast<Launch*>(ctx);\n  l->entry(l->args, l->grid, begin, end);\n}\n\n"
                  "// The kernels' assertion counter is shared (one inline runtime); a launch failed if it moved.\n"
                  "int tilec_aot_run(Entry entry, int (*failed)(), void* const* args, uint32_t gx, uint32_t gy, uint32_t gz) {\n"
                  "  if (gx > INT32_MAX || gy > INT32_MAX || gz > INT32_MAX) return TILEC_AOT_BAD_GRID;\n"
                  "  const int32_t grid[3] = {(int32_t)gx, (int32_t)gy, (int32_t)gz};\n"
                  "  int before = failed();\n  Launch l{entry, args, grid};\n"
                  "  tilec::ThreadPool::instance().parallel_for(int64_t{grid[0]} * grid[1] * grid[2], run_range, &l);\n"
                  "  return failed() == before ? TILEC_AOT_SUCCESS : TILEC_AOT_ASSERTION_FAILED;\n}\n\n}  // namespace\n\n"
                  "extern \"C\" {\n\n" + defs;
  c += dispatch + " {\n";
  for (const Spec& s : specs)
    c += dispatch_line(s, s.name + "_launch(grid_x, grid_y, grid_z" + params_use(*s.fn) + ")");
  if (!dispatch_condition(*specs.back().fn).empty()) c += "  return TILEC_AOT_NO_SPECIALIZATION;\n";
  c += "}\n\n";
  c += "int " + prefix + "_error_message(char* buf, int size) { return " + specs[0].name + "_assert_message(buf, size); }\n\n}\n";
  // The pool is tilec's own (runtime/thread_pool.cpp), copied so that the program needs no tilec library.
  std::error_code ec;
  std::filesystem::create_directories(dir + "/runtime", ec);
  for (const char* name : {"thread_pool.h", "thread_pool.cpp"}) {
    std::filesystem::copy_file(rt + "/runtime/" + name, dir + "/runtime/" + name,
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) {
      std::fprintf(stderr, "tilec aot: cannot copy %s/runtime/%s: %s\n", rt.c_str(), name, ec.message().c_str());
      return false;
    }
  }
  if (!write_text(dir + "/" + prefix + ".h", h) || !write_text(dir + "/" + prefix + ".cpp", c)) {
    std::fprintf(stderr, "tilec aot: cannot write %s/%s.{h,cpp}: %s\n", dir.c_str(), prefix.c_str(), std::strerror(errno));
    return false;
  }
  return true;
}

// ---- CUDA backend ---------------------------------------------------------------------------------

std::string byte_array(const std::string& name, const std::string& bytes) {
  std::string out = "static const unsigned char " + name + "[" + std::to_string(bytes.size()) + "] = {";
  char buf[8];
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%u,", i % 24 ? "" : "\n  ", static_cast<unsigned char>(bytes[i]));
    out += buf;
  }
  return out + "\n};\n";
}

// The loader every generated CUDA file carries (static): one module per (specialization, context),
// from the image whose arch the current device runs (same major, highest minor not above it; an
// sm_XYa image only on sm_XY). Slots are keyed by context and never freed, which suits primary
// contexts (cuDevicePrimaryCtxRetain, as the runtime API uses); a program that destroys a context
// and creates another must not launch through these functions in between.
const char* kCudaLoader = R"(
typedef struct { int arch; int exact; const unsigned char* image; const char* entry; unsigned threads; unsigned shared; } tilec_aot_image;
typedef struct { CUcontext ctx; CUmodule module; CUfunction fn; unsigned threads; unsigned shared; } tilec_aot_slot;
#define TILEC_AOT_SLOTS 16  /* contexts per specialization; the 17th context gets CUDA_ERROR_OUT_OF_MEMORY */
static pthread_mutex_t tilec_aot_mu = PTHREAD_MUTEX_INITIALIZER;

static CUresult tilec_aot_function(const tilec_aot_image* images, int n, tilec_aot_slot* slots, tilec_aot_slot* out) {
  CUcontext ctx = NULL;
  CUresult r = cuCtxGetCurrent(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (ctx == NULL) return CUDA_ERROR_INVALID_CONTEXT;
  out->ctx = NULL;  /* stays NULL when every slot holds another context */
  pthread_mutex_lock(&tilec_aot_mu);
  for (int i = 0; i < TILEC_AOT_SLOTS; ++i) {
    if (slots[i].ctx == ctx) { *out = slots[i]; pthread_mutex_unlock(&tilec_aot_mu); return CUDA_SUCCESS; }
    if (slots[i].ctx != NULL) continue;
    CUdevice dev;
    int major = 0, minor = 0;
    if ((r = cuCtxGetDevice(&dev)) != CUDA_SUCCESS ||
        (r = cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev)) != CUDA_SUCCESS ||
        (r = cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev)) != CUDA_SUCCESS)
      break;
    int arch = major * 10 + minor, best = -1;
    for (int j = 0; j < n; ++j) {
      int ok = images[j].exact ? images[j].arch == arch : images[j].arch / 10 == major && images[j].arch <= arch;
      if (ok && (best < 0 || images[j].arch > images[best].arch)) best = j;
    }
    r = CUDA_ERROR_NO_BINARY_FOR_GPU;  /* run `tilec aot --arch sm_XY` for this GPU */
    if (best < 0) break;
    tilec_aot_slot s = {ctx, NULL, NULL, images[best].threads, images[best].shared};
    if ((r = cuModuleLoadData(&s.module, images[best].image)) != CUDA_SUCCESS) break;
    if ((r = cuModuleGetFunction(&s.fn, s.module, images[best].entry)) == CUDA_SUCCESS && s.shared > 48 * 1024)
      r = cuFuncSetAttribute(s.fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, (int)s.shared);
    if (r != CUDA_SUCCESS) { cuModuleUnload(s.module); break; }
    slots[i] = s;
    *out = s;
    break;
  }
  if (r == CUDA_SUCCESS && out->ctx != ctx) r = CUDA_ERROR_OUT_OF_MEMORY;
  pthread_mutex_unlock(&tilec_aot_mu);
  return r;
}
)";

bool emit_cuda(const std::vector<Spec>& specs, const std::string& prefix, const std::string& dir,
               const std::vector<int>& archs, int num_warps, int num_stages,
               const std::string& file) {
  std::string error;
  const Nvrtc* nvrtc = Nvrtc::get(&error);
  if (!nvrtc) {
    std::fprintf(stderr, "tilec aot: cannot compile for the GPU: %s\n", error.c_str());
    return false;
  }
  std::string decls, defs, images;
  for (const Spec& s : specs) {
    std::string table = "static const tilec_aot_image " + s.name + "_images[] = {\n";
    for (int arch : archs) {
      Diagnostics diags;
      CudaOptions options{arch, num_warps, num_stages, false};
      std::optional<CudaKernel> cu = generate_cuda(*s.fn, options, diags);
      if (!cu) {
        std::fputs(diags.render().c_str(), stderr);
        return false;
      }
      std::string suffix = cu->arch_specific ? "a" : "";
      NvrtcOutput out = nvrtc->compile(cu->source, s.fn->name + ".cu", arch, true, {}, suffix);
      std::string name = s.name + ".sm_" + std::to_string(arch) + suffix;
      std::string base = dir + "/" + name;
      write_text(dir + "/generated/" + name + ".cu", cu->source);
      if (!out.ok) {
        std::fprintf(stderr, "%s: error: NVRTC failed to compile the generated CUDA C for '%s' (sm_%d%s)\n  source: %s/generated/%s.cu\n%s\n",
                     file.c_str(), s.fn->name.c_str(), arch, suffix.c_str(), dir.c_str(), name.c_str(), out.log.c_str());
        return false;
      }
      if (!write_text(base + ".cubin", out.cubin)) {
        std::fprintf(stderr, "tilec aot: cannot write %s.cubin: %s\n", base.c_str(), std::strerror(errno));
        return false;
      }
      std::string var = s.name + "_sm_" + std::to_string(arch) + suffix;
      images += byte_array(var, out.cubin);
      table += "  {" + std::to_string(arch) + ", " + (suffix.empty() ? "0" : "1") + ", " + var + ", \"" + cu->entry + "\", " +
               std::to_string(cu->threads) + ", " + std::to_string(cu->shared_bytes) + "},\n";
    }
    table += "};\nstatic tilec_aot_slot " + s.name + "_slots[TILEC_AOT_SLOTS];\n\n";
    decls += spec_comment(s) + "CUresult " + s.name +
             "_launch(CUstream stream, uint32_t grid_x, uint32_t grid_y, uint32_t grid_z" + params_decl(*s.fn, true) + ");\n";
    defs += table + "CUresult " + s.name + "_launch(CUstream stream, uint32_t grid_x, uint32_t grid_y, uint32_t grid_z" +
            params_decl(*s.fn, true) + ") {\n  tilec_aot_slot f;\n  CUresult r = tilec_aot_function(" + s.name + "_images, " +
            std::to_string(archs.size()) + ", " + s.name + "_slots, &f);\n  if (r != CUDA_SUCCESS) return r;\n" +
            args_array(*s.fn) + "  return cuLaunchKernel(f.fn, grid_x, grid_y, grid_z, f.threads, 1, 1, f.shared, stream, args, NULL);\n}\n\n";
  }
  const Function& f0 = *specs[0].fn;
  std::string dispatch = "CUresult " + prefix + "_launch(CUstream stream, uint32_t grid_x, uint32_t grid_y, uint32_t grid_z" +
                         params_decl(f0, true) + ")";
  std::string h = "// Generated by `tilec aot` from kernel '" + f0.name + "' (" + file + "), CUDA backend.\n"
                  "// Launch functions enqueue on `stream` in the calling thread's current context (loading the\n"
                  "// module into it on first use) and return the CUresult; link with -lcuda.\n"
                  "#ifndef " + header_guard(prefix) + "\n#define " + header_guard(prefix) + "\n"
                  "#include <stdint.h>\n#include <cuda.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n" + decls +
                  "// Calls the first specialization above, most specialized first, whose ':16' promises hold;\n"
                  "// CUDA_ERROR_INVALID_VALUE when none does.\n" + dispatch + ";\n\n"
                  "#ifdef __cplusplus\n}\n#endif\n#endif\n";
  std::string c = "// Generated by `tilec aot`: cubins and launch functions of " + prefix + ".h (C99, driver API).\n"
                  "#include \"" + prefix + ".h\"\n\n#include <pthread.h>\n#include <stddef.h>\n" + kCudaLoader + "\n" + images + "\n" + defs;
  c += dispatch + " {\n";
  for (const Spec& s : specs)
    c += dispatch_line(s, s.name + "_launch(stream, grid_x, grid_y, grid_z" + params_use(*s.fn) + ")");
  if (!dispatch_condition(*specs.back().fn).empty()) c += "  return CUDA_ERROR_INVALID_VALUE;\n";
  c += "}\n";
  if (!write_text(dir + "/" + prefix + ".h", h) || !write_text(dir + "/" + prefix + ".c", c)) {
    std::fprintf(stderr, "tilec aot: cannot write %s/%s.{h,c}: %s\n", dir.c_str(), prefix.c_str(), std::strerror(errno));
    return false;
  }
  return true;
}

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

}  // namespace

// Installed as PREFIX/bin/tilec, the runtime headers are in PREFIX/include/tilec; in the build
// tree the library's compiled-in source folder is used.
void find_installed_runtime() {
  char exe[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  std::filesystem::path dir = std::filesystem::path(exe).parent_path().parent_path() / "include" / "tilec";
  if (std::filesystem::exists(dir / "runtime" / "cpu" / "tilec_rt.h")) set_runtime_include_dir(dir.string());
}

int aot_main(const std::vector<std::string>& args) {
  std::string path, kernel, dir, backend = "cuda", arch_list = "sm_90", march = "native", prefix;
  std::vector<std::string> signatures, constexprs;
  int num_warps = 4, num_stages = 3;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    auto positive = [&](int* out) {
      if (!value(&v)) return false;
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n <= 0 || n > 32) return false;
      *out = static_cast<int>(n);
      return true;
    };
    if (a == "--kernel") { if (!value(&kernel)) return usage_error("--kernel needs a value"); }
    else if (a == "--signature") { if (!value(&v)) return usage_error("--signature needs a value"); signatures.push_back(v); }
    else if (a == "--constexpr") { if (!value(&v)) return usage_error("--constexpr needs NAME=VALUE"); constexprs.push_back(v); }
    else if (a == "--backend") { if (!value(&backend)) return usage_error("--backend needs cuda or cpu"); }
    else if (a == "--arch") { if (!value(&arch_list)) return usage_error("--arch needs sm_XY[,sm_XY...]"); }
    else if (a == "--march") { if (!value(&march)) return usage_error("--march needs a value"); }
    else if (a == "--prefix") { if (!value(&prefix)) return usage_error("--prefix needs a C identifier"); }
    else if (a == "--num-warps") { if (!positive(&num_warps) || (num_warps & (num_warps - 1))) return usage_error("--num-warps needs a power of two up to 32"); }
    else if (a == "--num-stages") { if (!positive(&num_stages)) return usage_error("--num-stages needs a positive integer"); }
    else if (a == "-o") { if (!value(&dir)) return usage_error("-o needs a folder"); }
    else if (!a.empty() && a[0] == '-') return usage_error("unknown option '" + a + "'");
    else if (path.empty()) path = a;
    else return usage_error("unexpected argument '" + a + "'");
  }
  if (path.empty()) return usage_error("missing FILE.py");
  if (kernel.empty()) return usage_error("missing --kernel NAME");
  if (signatures.empty()) return usage_error("missing --signature SIG (one per specialization)");
  if (dir.empty()) return usage_error("missing -o DIR");
  if (backend != "cuda" && backend != "cpu") return usage_error("--backend must be cuda or cpu, got '" + backend + "'");
  if (prefix.empty()) prefix = kernel;
  if (!is_identifier(prefix)) return usage_error("the prefix '" + prefix + "' of the generated names is not a C identifier (use --prefix)");
  std::vector<int> archs;
  std::stringstream items(arch_list);
  for (std::string item; std::getline(items, item, ',');) {
    char* end = nullptr;
    long arch = item.rfind("sm_", 0) == 0 ? std::strtol(item.c_str() + 3, &end, 10) : 0;
    if (arch < 70 || !end || *end) return usage_error("--arch item '" + item + "' is not sm_XY, e.g. sm_90");
    archs.push_back(static_cast<int>(arch));
  }

  std::string text;
  if (!read_text(path, &text)) {
    std::fprintf(stderr, "tilec aot: cannot read '%s': %s\n", path.c_str(), std::strerror(errno));
    return 2;
  }
  auto file = std::make_shared<SourceFile>(path, text);
  // One IR serves every --arch: a kernel that asks tl.target_info sees the oldest, whose code runs on all.
  bool cuda = backend == "cuda" && !archs.empty();
  KernelTarget target{cuda, cuda ? *std::min_element(archs.begin(), archs.end()) : 0, num_warps};
  std::vector<Spec> specs;
  for (const std::string& sig_text : signatures) {
    std::string error;
    std::optional<Signature> sig = parse_signature(sig_text, constexprs, &error);
    if (!sig) return usage_error(error);
    Diagnostics diags;
    Spec s;
    s.signature = signature_str(*sig);
    s.name = prefix + "_" + sha256_hex(s.signature).substr(0, 8);
    s.fn = lower_to_ir(KernelSource{file, kernel, *sig, {}, target}, true, diags);
    std::fputs(diags.render().c_str(), stderr);
    if (!s.fn) return 1;
    for (size_t i = 0; i < s.fn->args.size(); ++i) {
      if (!c_type(s.fn->args[i]->type, false, &error)) return usage_error("argument '" + s.fn->arg_info[i].name + "': " + error);
      s.constraints += s.fn->arg_info[i].divisibility == 16;
    }
    // One dispatcher takes every specialization's arguments, so only the ':16' promises may differ.
    if (!specs.empty()) {
      const Function& f0 = *specs[0].fn;
      bool same = f0.args.size() == s.fn->args.size();
      for (size_t i = 0; same && i < f0.args.size(); ++i)
        same = f0.arg_info[i].name == s.fn->arg_info[i].name && f0.args[i]->type.dtype == s.fn->args[i]->type.dtype &&
               f0.args[i]->type.is_ptr == s.fn->args[i]->type.is_ptr;
      if (!same)
        return usage_error("specializations of one kernel must differ only in ':16' promises: '" + specs[0].signature +
                           "' vs '" + s.signature + "' (run tilec aot once per signature with --prefix)");
    }
    for (const Spec& o : specs)
      if (o.name == s.name) return usage_error("--signature '" + sig_text + "' is given twice");
    specs.push_back(std::move(s));
  }
  // Most specialized first: the dispatcher takes the first whose promises hold.
  std::stable_sort(specs.begin(), specs.end(), [](const Spec& a, const Spec& b) { return a.constraints > b.constraints; });

  std::error_code ec;
  std::filesystem::create_directories(dir + "/generated", ec);
  if (ec) {
    std::fprintf(stderr, "tilec aot: cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
    return 2;
  }
  find_installed_runtime();
  bool ok = backend == "cpu" ? emit_cpu(specs, prefix, dir, march, path)
                             : emit_cuda(specs, prefix, dir, archs, num_warps, num_stages, path);
  return ok ? 0 : 1;
}

}  // namespace tilec
