// Input: a KernelSource and KernelOptions. Output: a CompiledKernel loaded from the disk cache or
// compiled (host C++ compiler or NVRTC) and stored there; launches on the thread pool or the GPU.
// Invariant: the cache key hashes everything that changes the artifact (see key_for).
#include "jit/kernel.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "jit/cache.h"
#include "jit/cache_admin.h"
#include "jit/kernel_internal.h"
#include "jit/nvrtc.h"
#include "jit/sha256.h"
#include "jit/stage_timer.h"
#include "jit/tensor_maps.h"
#include "runtime/cuda_driver.h"
#include "runtime/thread_pool.h"
#include "tilec/codegen/cpp.h"
#include "tilec/passes.h"
#include "tilec/standard_library.h"

namespace tilec {

const char* tilec_build_digest();  // generated/build_digest.cpp (tools/build_digest.cmake)

const char* backend_name(Backend b) {
  switch (b) {
    case Backend::Cpu: return "cpu";
    case Backend::Cuda: return "cuda";
  }
  return "?";
}

namespace {

std::string& include_dir_storage() {
  static std::string dir = TILEC_RUNTIME_INCLUDE_DIR;
  return dir;
}

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool write_file(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  return static_cast<bool>(out);
}

// Everything that changes the artifact: tilec's version, the generated source (which is a
// function of the IR, hence of the kernel, its helpers and its specialization), and the
// toolchain with its flags and target.
std::string key_for(const std::vector<std::string>& parts) {
  Sha256 h;
  for (const std::string& p : parts) {
    h.update(std::to_string(p.size()));
    h.update(":");
    h.update(p);
  }
  return h.hex_digest();
}

std::string runtime_headers_digest() {
  static const std::string digest = [] {
    std::string all;
    for (const char* name : {"tilec_vec.h", "tilec_rt.h"}) {
      std::string text;
      read_file(include_dir_storage() + "/runtime/cpu/" + name, &text);
      all += text;
    }
    return sha256_hex(all);
  }();
  return digest;
}


// False when the cache root cannot be written: kernels are then compiled in memory, said once per root.
bool cache_usable(const KernelCache& cache) {
  std::string error;
  if (cache.writable(&error)) return true;
  static std::mutex mu;
  static std::set<std::string> warned;
  std::lock_guard<std::mutex> lock(mu);
  if (warned.insert(cache.root()).second)
    warn("the kernel cache " + cache.root() + " is not writable (" + error +
         "); kernels are compiled in memory and not cached (set TILEC_CACHE_DIR to a writable folder)");
  return false;
}

// The entry on a hit (its metadata and verified artifact bytes); a damaged entry is removed (with
// a warning) and reads as a miss.
std::optional<CacheLookup> lookup_healing(KernelCache& cache, const std::string& key) {
  CacheLookup r = cache.find(key);
  switch (r.status) {
    case CacheLookup::Status::Hit:
      touch_cache_entry(cache.entry_dir(key));  // last use, for TILEC_CACHE_MAX_BYTES's LRU eviction
      return r;
    case CacheLookup::Status::Miss: return std::nullopt;
    case CacheLookup::Status::Damaged:
      warn("damaged kernel cache entry " + cache.entry_dir(key) + " (" + r.problem + "): removed, recompiling");
      cache.remove(key);
      return std::nullopt;
  }
  return std::nullopt;
}

// TILEC_CACHE_MAX_BYTES: after each store, the least recently used entries are removed until the
// cache's entries fit (never the one just stored). A malformed value is reported once and not applied.
void enforce_cache_limit(const KernelCache& cache, const std::string& stored_key) {
  std::string error;
  std::optional<uint64_t> max = cache_max_bytes(&error);
  if (!error.empty()) {
    static std::once_flag once;
    std::call_once(once, [&] { warn(error + "; no cache size limit is applied"); });
    return;
  }
  if (max) evict_cache_entries(cache.root(), *max, stored_key);
}

// The kernel's Python file, recorded in meta.json for `tilec cache list`.
std::string source_file(const CompiledKernel& k) { return k.source && k.source->file ? k.source->file->path() : ""; }

// A fresh private folder under the temp dir, for builds that are not cached.
std::string private_build_dir(std::string* error) {
  std::error_code ec;
  std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
  std::string pattern = (ec ? std::string("/tmp") : tmp.string()) + "/tilec-build-XXXXXX";
  if (!::mkdtemp(pattern.data())) {
    *error = "cannot create a build folder " + pattern + ": " + std::strerror(errno);
    return {};
  }
  return pattern;
}

// The file a command runs ($PATH searched when it has no slash), with its size and mtime: the
// host compiler's identity in the warm-start key, read without running it (`c++ --version` costs
// a process).
std::string command_identity(const std::string& command) {
  std::vector<std::string> candidates;
  if (command.find('/') != std::string::npos) {
    candidates.push_back(command);
  } else {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) candidates.push_back((dir.empty() ? "." : dir) + "/" + command);
  }
  for (const std::string& c : candidates) {
    char real[PATH_MAX];
    struct stat st;
    if (::access(c.c_str(), X_OK) != 0 || !::realpath(c.c_str(), real) || ::stat(real, &st) != 0) continue;
    return std::string(real) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtime);
  }
  return command + ":not found";
}

bool load_cpu(CompiledKernel& k, const std::string& so_path, std::string* error) {
  k.library = SharedLibrary::open(so_path, error);
  if (!k.library) return false;
  k.cpu_entry = reinterpret_cast<CompiledKernel::CpuEntry>(k.library->symbol(kCppEntrySymbol, error));
  if (k.cpu_entry) k.cpu_assert_failed = reinterpret_cast<int (*)()>(k.library->symbol("tilec_assert_failed", error));
  if (k.cpu_assert_failed)
    k.cpu_assert_message = reinterpret_cast<int (*)(char*, int)>(k.library->symbol("tilec_assert_message", error));
  if (k.cpu_entry && k.cpu_assert_failed && k.cpu_assert_message) return true;
  k.library.reset();
  return false;
}

const char* const kPchHeaderName = "tilec_pch.h";
// The headers every generated kernel includes, in its order (tilec/codegen/cpp.cpp's preamble).
const char* const kPchHeaderText =
    "// The headers every generated kernel includes, precompiled by tilec.\n"
    "#include <cstdint>\n#include <cstring>\n#include <limits>\n#include \"runtime/cpu/tilec_rt.h\"\n";

// The runtime-header PCH's folder name: a digest of everything that must match between the PCH
// and the kernels that use it. The -I folder is left out (the headers' digest stands for their
// text), so that a PCH built beside one copy of the headers serves an installed copy of them. The
// compiler is named by the file that runs and its version, not by the command: `pip install`
// (scikit-build-core) builds with CXX=g++ where the user's processes run c++, the same g++.
std::string runtime_pch_key(const HostCompiler& cc) {
  std::string flags;
  for (const std::string& f : cc.flags)
    if (f.rfind("-I", 0) != 0) flags += f + " ";
  // "c++ (Debian 12.2.0-14) 12.2.0": the first word is the command's name.
  std::string version = cc.version.substr(std::min(cc.version.find(' '), cc.version.size()));
  return key_for({TILEC_VERSION, command_identity(cc.command), version, flags, cpu_isa_description(), runtime_headers_digest()})
      .substr(0, 24);
}

// Writes `dir`/tilec_pch.h whole, under a temporary name first (another process may be reading
// it); its path, or "" when the folder cannot be made or written.
std::string write_pch_header(const std::string& dir) {
  std::string header = dir + "/" + kPchHeaderName;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "";
  if (::access(header.c_str(), R_OK) == 0) return header;
  std::string tmp = header + ".tmp." + std::to_string(getpid());
  if (!write_file(tmp, kPchHeaderText) || ::rename(tmp.c_str(), header.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return "";
  }
  return header;
}

// Folders that may hold an installed runtime PCH (made at build time by `tilec precompile-runtime`,
// never written at run time): beside the runtime headers, and the build tree's own folder while
// the headers are the source tree's.
std::vector<std::string> installed_pch_dirs() {
  std::vector<std::string> dirs = {include_dir_storage() + "/runtime/pch"};
  if (include_dir_storage() == TILEC_RUNTIME_INCLUDE_DIR) dirs.push_back(TILEC_BUILD_PCH_DIR);
  return dirs;
}

// The installed PCH's header for `key` (its .gch beside it), or "". Both files must be there:
// the compiler falls back to parsing the plain header when the .gch is unusable.
std::string installed_pch_header(const std::string& key) {
  for (const std::string& dir : installed_pch_dirs()) {
    std::string header = dir + "/" + key + "/" + kPchHeaderName;
    if (::access(header.c_str(), R_OK) == 0 && ::access((header + ".gch").c_str(), R_OK) == 0) return header;
  }
  return "";
}

bool compile_cpu(CompiledKernel& k, const std::string& source, const Function& fn, Diagnostics& diags, StageTimer& timer) {
  HostCompiler cc = host_compiler(include_dir_storage());
  timer.mark("host-cc-version");
  if (!cc.isa_error.empty()) {
    diags.error(fn.loc, cc.isa_error);
    return false;
  }
  // Debug builds compare i32 arithmetic with its i64 twin; -fwrapv keeps the compiler from
  // assuming that signed overflow never happens and folding those checks away.
  if (k.debug) cc.flags.push_back("-fwrapv");
  std::string flags;
  for (const std::string& f : cc.flags) flags += f + " ";
  k.cache_key = key_for({TILEC_VERSION, "cpu", source, cc.command, cc.version, flags, cpu_isa_description(),
                         runtime_headers_digest(), k.debug ? "debug" : "release"});
  KernelCache cache(default_cache_root());
  bool use_cache = cache_usable(cache);
  k.cache_dir = use_cache ? cache.entry_dir(k.cache_key) : "";
  // A cached .so that fails to load (damaged in a way its hash did not show) is removed and
  // rebuilt once; a fresh build that fails to load is an error.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool hit = use_cache && !always_compile() && lookup_healing(cache, k.cache_key);
    std::string so_path = cache.artifact_path(k.cache_key, "kernel.so");
    std::string error, work;
    if (!hit) {
      // Built in a private folder, then stored whole; a failed build's source stays there for the user.
      if (use_cache) {
        // pid + counter: two threads of one process may compile the same kernel at once.
        static std::atomic<uint64_t> builds{0};
        work = cache.root() + "/build/" + k.cache_key.substr(0, 16) + "-" + std::to_string(getpid()) + "-" +
               std::to_string(builds.fetch_add(1));
        std::error_code ec;
        std::filesystem::create_directories(work, ec);
      } else {
        work = private_build_dir(&error);
        if (work.empty()) {
          diags.error(fn.loc, error);
          return false;
        }
      }
      std::string cpp_path = work + "/" + fn.name + ".cpp";
      if (!write_file(cpp_path, source)) {
        diags.error(fn.loc, "cannot write the generated C++ to " + cpp_path + " (set TILEC_CACHE_DIR to a writable folder)");
        return false;
      }
      // The runtime headers, precompiled: with the PCH a small kernel compiles in a fraction of the
      // time. In order: the cache's PCH, the installed one (built with tilec for this toolchain),
      // else one built in the cache. Building it costs several compiles, so the first kernel of a
      // cache compiles without it and leaves a marker; the second builds it beside its own compile
      // (a second core) and waits, so no half-written file outlives the process.
      std::string pch_key = runtime_pch_key(cc);
      std::string cache_pch_dir = cache.root() + "/pch/" + pch_key;
      std::string cache_gch = cache_pch_dir + "/" + kPchHeaderName + ".gch";
      bool pch_from_cache = use_cache && ::access(cache_gch.c_str(), R_OK) == 0;
      std::string pch_header = pch_from_cache ? cache_pch_dir + "/" + kPchHeaderName : installed_pch_header(pch_key);
      std::thread pch_build;
      if (use_cache && pch_header.empty()) {
        std::string header = write_pch_header(cache_pch_dir);
        bool wanted = !header.empty() && ::access((header + ".wanted").c_str(), F_OK) == 0;
        if (wanted)
          pch_build = std::thread([cc, header, cache_gch] { compile_precompiled_header(cc, header, cache_gch); });
        else if (!header.empty())
          write_file(header + ".wanted", "");
      }
      HostCompiler with_pch = cc;
      if (!pch_header.empty()) with_pch.flags.insert(with_pch.flags.end(), {"-include", pch_header});
      CompileOutcome out = compile_shared_object(with_pch, cpp_path, work + "/kernel.so");
      bool building_pch = pch_build.joinable();
      if (building_pch) pch_build.join();
      timer.mark(!pch_header.empty() ? "host-cc (pch)" : building_pch ? "host-cc (building the pch beside)" : "host-cc");
      if (!out.ok && !pch_header.empty()) {
        // A PCH that breaks a compile (damaged in a way the compiler did not detect) must not
        // fail the kernel: compiled again without it; the cache's copy is removed.
        CompileOutcome plain = compile_shared_object(cc, cpp_path, work + "/kernel.so");
        timer.mark("host-cc (again without the pch)");
        if (plain.ok) {
          warn("the precompiled runtime header " + pch_header + ".gch broke a compile" +
               (pch_from_cache ? ": removed, it is rebuilt with a later kernel"
                               : " and was not used (rebuild tilec or run `tilec precompile-runtime --into DIR` to replace it)"));
          if (pch_from_cache) ::unlink(cache_gch.c_str());
        }
        out = plain;
      }
      if (!out.ok) {
        diags.error(fn.loc, "the host C++ compiler failed on the generated code for '" + fn.name + "'\n  source: " +
                                cpp_path + "\n  command: " + out.command + "\n" + out.log);
        return false;
      }
      std::string so_bytes;
      read_file(work + "/kernel.so", &so_bytes);
      nlohmann::json meta = {{"kernel", fn.name}, {"backend", "cpu"}, {"compiler", cc.command},
                             {"compiler_version", cc.version}, {"flags", flags}, {"isa", cpu_isa_description()},
                             {"debug", k.debug}, {"tilec_version", TILEC_VERSION}, {"source", source_file(k)}};
      if (!use_cache || !cache.store(k.cache_key, {{"kernel.cpp", source}, {"kernel.so", so_bytes}}, meta, &error)) {
        if (use_cache) warn("cannot store the compiled kernel in the cache (" + error + "); it is used from memory");
        so_path = work + "/kernel.so";
        k.cache_dir.clear();
      } else {
        enforce_cache_limit(cache, k.cache_key);
      }
    }
    bool loaded = load_cpu(k, so_path, &error);
    timer.mark(hit ? "cache-load" : "store+load");
    // The loaded library stays mapped after its build folder is deleted.
    std::error_code ec;
    if (!work.empty()) std::filesystem::remove_all(work, ec);
    if (loaded) return true;
    if (hit && attempt == 0) {
      warn("cannot load the cached kernel " + so_path + " (" + error + "): removed, recompiling");
      cache.remove(k.cache_key);
      continue;
    }
    diags.error(fn.loc, "cannot load the compiled kernel " + so_path + ": " + error);
    return false;
  }
  return false;
}

bool compile_cuda(CompiledKernel& k, const CudaKernel& cu, const KernelOptions& options, const Function& fn,
                  Diagnostics& diags, StageTimer& timer) {
  std::string error;
  const Nvrtc* nvrtc = Nvrtc::get(&error);
  timer.mark("nvrtc-load");
  if (!nvrtc) {
    diags.error(fn.loc, "cannot compile for the GPU: " + error);
    return false;
  }
  bool use_ptx = false;
  int arch = choose_arch(options.cuda.arch, nvrtc->supported_archs(), &use_ptx);
  if (arch < 0) {
    diags.error(fn.loc, "NVRTC " + nvrtc->version() + " supports no architecture at or below sm_" + std::to_string(options.cuda.arch));
    return false;
  }
  std::string suffix = cu.arch_specific && !use_ptx ? "a" : "";
  k.image_arch = arch;
  k.arch_suffix = suffix;
  k.image_is_ptx = use_ptx;
  k.cache_key = key_for({TILEC_VERSION, "cuda", cu.source, cuda_runtime_header_digest(), nvrtc->version(), std::to_string(arch) + suffix,
                         use_ptx ? "ptx" : "cubin", k.debug ? "debug" : "release"});
  KernelCache cache(default_cache_root());
  bool use_cache = cache_usable(cache);
  k.cache_dir = use_cache ? cache.entry_dir(k.cache_key) : "";
  std::string artifact = use_ptx ? "kernel.ptx" : "kernel.cubin";
  std::optional<CacheLookup> hit = use_cache && !always_compile() ? lookup_healing(cache, k.cache_key) : std::nullopt;
  if (hit && hit->artifacts.count(artifact)) {
    k.image = std::move(hit->artifacts[artifact]);
    k.image_from_cache = true;
    timer.mark("cache-load");
    return true;
  }
  k.image_from_cache = false;
  NvrtcOutput out = nvrtc->compile(cu.source, fn.name + ".cu", arch, !use_ptx, {}, suffix);
  timer.mark("nvrtc");
  if (!out.ok) {
    std::string dir = use_cache ? cache.root() + "/build" : private_build_dir(&error);
    std::string cu_path = dir + "/" + k.cache_key.substr(0, 16) + ".cu";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    write_file(cu_path, cu.source);
    write_file(dir + "/tilec_cuda.h", cuda_runtime_header());
    diags.error(fn.loc, "NVRTC failed to compile the generated CUDA C for '" + fn.name + "' (sm_" + std::to_string(arch) + suffix +
                            ")\n  source: " + cu_path + "\n  equivalent: " + nvcc_equivalent(cu_path, out.options, arch) +
                            "\n" + out.log);
    return false;
  }
  // Only the image is compiled: the PTX of a cubin build is compiled when asked for
  // (CompiledKernel.asm["ptx"], kernel_asm), which halves NVRTC's share of a cold call.
  k.image = use_ptx ? out.ptx : out.cubin;
  std::vector<std::pair<std::string, std::string>> files = {{"kernel.cu", cu.source}, {artifact, k.image}};
  nlohmann::json meta = {{"kernel", fn.name}, {"backend", "cuda"}, {"arch", arch}, {"ptx", use_ptx},
                         {"nvrtc", nvrtc->version()}, {"entry", cu.entry}, {"threads", cu.threads},
                         {"shared_bytes", cu.shared_bytes}, {"debug", k.debug}, {"tilec_version", TILEC_VERSION},
                         {"source", source_file(k)}};
  if (use_cache && !cache.store(k.cache_key, files, meta, &error)) {
    warn("cannot store the compiled kernel in the cache (" + error + "); it is used from memory");
    k.cache_dir.clear();
  } else if (use_cache) {
    enforce_cache_limit(cache, k.cache_key);
  }
  timer.mark("store");
  return true;
}

// TILEC_CHECK_CUDA_ARCHS=80,90: every kernel compiled for the CPU is also lowered to CUDA C and
// compiled by NVRTC for those archs, so that machines without a GPU (CI) test the GPU code
// generator on every test kernel; any failure is a compile error. A kernel that needs a newer
// arch (tl.float8e4nv: sm_89) is checked there instead of below it: that it is refused below is
// what tests/diagnostics checks.
bool check_cuda_archs(const Function& fn, const CudaOptions& base, Diagnostics& diags) {
  const char* env = std::getenv("TILEC_CHECK_CUDA_ARCHS");
  if (!env || !*env) return true;
  std::string error;
  const Nvrtc* nvrtc = Nvrtc::get(&error);
  if (!nvrtc) {
    diags.error(fn.loc, "TILEC_CHECK_CUDA_ARCHS is set but NVRTC cannot be loaded: " + error);
    return false;
  }
  std::stringstream archs(env);
  std::string item;
  while (std::getline(archs, item, ',')) {
    CudaOptions options = base;
    options.arch = std::atoi(item.c_str());
    if (options.arch <= 0) {
      diags.error(fn.loc, "TILEC_CHECK_CUDA_ARCHS item '" + item + "' is not an arch such as 90");
      return false;
    }
    options.arch = std::max(options.arch, cuda_min_arch(fn));
    std::optional<CudaKernel> cu = generate_cuda(fn, options, diags);
    if (!cu) return false;
    NvrtcOutput out = nvrtc->compile(cu->source, fn.name + ".cu", options.arch, true, {}, cu->arch_specific ? "a" : "");
    if (!out.ok) {
      diags.error(fn.loc, "NVRTC failed on the generated CUDA C for '" + fn.name + "' (sm_" + std::to_string(options.arch) + "):\n" + out.log);
      return false;
    }
  }
  return true;
}

}  // namespace

void set_runtime_include_dir(const std::string& dir) { include_dir_storage() = dir; }
const std::string& runtime_include_dir() { return include_dir_storage(); }

std::string precompile_runtime_headers(const std::string& into, std::string* error) {
  const HostCompiler& cc = host_compiler(include_dir_storage());
  if (!cc.isa_error.empty()) {
    *error = cc.isa_error;
    return "";
  }
  if (cc.version.empty()) {
    *error = "the host compiler '" + cc.command + "' does not run (set CXX to a C++17 compiler)";
    return "";
  }
  std::string key = runtime_pch_key(cc);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(into, ec))
    if (entry.path().filename() != key && std::filesystem::exists(entry.path() / kPchHeaderName, ec))
      std::filesystem::remove_all(entry.path(), ec);
  std::string header = write_pch_header(into + "/" + key);
  if (header.empty()) {
    *error = "cannot write " + into + "/" + key + "/" + kPchHeaderName + " (is the folder writable?)";
    return "";
  }
  if (::access((header + ".gch").c_str(), R_OK) == 0) return header;
  CompileOutcome out = compile_precompiled_header(cc, header, header + ".gch");
  if (!out.ok) {
    *error = "the host compiler failed to precompile " + header + "\n  command: " + out.command + "\n" + out.log;
    return "";
  }
  return header;
}

InstalledPchInfo installed_runtime_pch() {
  InstalledPchInfo info;
  std::string key = runtime_pch_key(host_compiler(include_dir_storage()));
  info.path = installed_pch_header(key);
  if (!info.path.empty()) {
    info.state = InstalledPch::Matches;
    return info;
  }
  std::error_code ec;
  for (const std::string& dir : installed_pch_dirs()) {
    info.path += (info.path.empty() ? "" : ", ") + dir;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
      if (std::filesystem::exists(entry.path() / (std::string(kPchHeaderName) + ".gch"), ec)) info.state = InstalledPch::OtherToolchain;
  }
  return info;
}

bool debug_from_env() {
  const char* v = std::getenv("TILEC_DEBUG");
  return v && std::string(v) == "1";
}

namespace {

// The front end and the backend for one kernel: everything a cold call does.
std::shared_ptr<CompiledKernel> compile_full(const KernelSource& src, const KernelOptions& options, Diagnostics& diags,
                                             StageTimer& timer) {
  std::unique_ptr<Function> fn = lower_to_ir(src, false, diags);
  timer.mark("frontend");
  if (!fn) return nullptr;
  auto k = std::make_shared<CompiledKernel>();
  k->backend = options.backend;
  k->name = fn->name;
  k->debug = options.debug;
  k->source = std::make_shared<const KernelSource>(src);
  k->options = options;
  k->asm_["ir"] = print_ir(*fn);
  optimize(*fn);
  if (!verify_ir(*fn, diags)) return nullptr;
  k->params = fn->params;
  k->constexprs = fn->constexprs;
  k->num_user_args = fn->args.size();
  ArgAccess access = analyze_arg_access(*fn);
  k->arg_written = access.written;
  for (const Loc& l : access.offset32) k->arg_offset32.push_back(l.file ? l.str() : std::string());
  if (options.debug) {
    insert_overflow_checks(*fn);
    insert_bounds_checks(*fn);
    if (!verify_ir(*fn, diags)) return nullptr;
  }
  k->asm_["ir-opt"] = print_ir(*fn);
  for (size_t i = 0; i < fn->args.size(); ++i) {
    k->arg_types.push_back(fn->args[i]->type);
    k->arg_names.push_back(fn->arg_info[i].name);
    k->arg_divisibility.push_back(fn->arg_info[i].divisibility);
  }
  k->metadata = {{"name", fn->name}, {"backend", backend_name(options.backend)}, {"signature", signature_str(src.signature)},
                 {"debug", options.debug}};
  timer.mark("passes");
  switch (options.backend) {
    case Backend::Cpu: {
      std::optional<std::string> cpp = generate_cpp(*fn, diags);
      timer.mark("codegen");
      if (!cpp) return nullptr;
      k->asm_["cpp"] = *cpp;
      if (!compile_cpu(*k, *cpp, *fn, diags, timer)) return nullptr;
      if (!check_cuda_archs(*fn, options.cuda, diags)) return nullptr;
      break;
    }
    case Backend::Cuda: {
      std::optional<CudaKernel> cu = generate_cuda(*fn, options.cuda, diags);
      timer.mark("codegen");
      if (!cu) return nullptr;
      k->asm_["cuda"] = cu->source;
      k->entry = cu->entry;
      k->threads = cu->threads;
      k->shared_bytes = cu->shared_bytes;
      k->tensor_maps = cu->tensor_maps;
      k->metadata["num_warps"] = options.cuda.num_warps;
      k->metadata["num_stages"] = options.cuda.num_stages;
      k->metadata["shared_bytes"] = cu->shared_bytes;
      k->metadata["arch"] = options.cuda.arch;
      if (!compile_cuda(*k, *cu, options, *fn, diags, timer)) return nullptr;
      break;
    }
  }
  k->metadata["cache_key"] = k->cache_key;
  k->metadata["cache_dir"] = k->cache_dir;
  return k;
}

// ---- warm start: the cache index ---------------------------------------------------------------
// root/index/<front key>/kernel.json maps a key computed before parsing to the artifact's entry
// and to everything a launch needs of the CompiledKernel. The front key covers what the artifact
// key would (the generated source is a function of the kernel's and its helpers' text, the
// specialization and the compiler build: its version and its sources' digest) plus the
// toolchain's identity, read without running it.

std::string front_key(const KernelSource& src, const KernelOptions& options) {
  // The standard library's text is inlined like the kernel's helpers, so it joins the key too.
  std::vector<std::string> parts = {TILEC_VERSION, tilec_build_digest(), "index-v1", backend_name(options.backend), src.kernel,
                                    src.file->path(), src.file->text(), options.debug ? "debug" : "release",
                                    standard_library_source().text()};
  for (const auto& f : src.imported) {
    parts.push_back(f->path());
    parts.push_back(f->text());
  }
  for (const ArgSpec& a : src.signature.args) {
    parts.push_back(a.name);
    parts.push_back(std::to_string(static_cast<int>(a.kind)) + ":" + dtype_name(a.dtype) + ":" + std::to_string(a.divisibility));
    parts.push_back(a.kind == ArgKind::Constexpr ? std::to_string(static_cast<int>(a.value.kind)) + a.value.str() : "");
    if (a.kind == ArgKind::Descriptor) parts.push_back(signature_str(Signature{{a}}));  // its block shape and padding
  }
  if (options.backend == Backend::Cpu) {
    const char* cxx = std::getenv("CXX");
    std::string command = (cxx && *cxx) ? cxx : "c++";
    parts.insert(parts.end(), {command, command_identity(command), include_dir_storage(), cpu_isa_description(),
                               runtime_headers_digest(), std::to_string(options.cuda.num_warps)});  // tl.extra.cuda.num_warps()
  } else {
    // NVRTC is not loaded for this (dlopen costs ~20 ms): the variables that choose the library
    // stand for it; the NVRTC version is in the artifact's own key.
    parts.push_back(cuda_runtime_header_digest());
    parts.push_back(std::to_string(options.cuda.arch) + "/" + std::to_string(options.cuda.num_warps) + "/" +
                    std::to_string(options.cuda.num_stages));
    for (const char* var : {"TILEC_NVRTC_PATH", "CUDA_HOME", "LD_LIBRARY_PATH"}) {
      const char* v = std::getenv(var);
      parts.push_back(v ? v : "");
    }
    for (const std::string& d : Nvrtc::search_dirs()) parts.push_back(d);
  }
  return key_for(parts);
}

nlohmann::json index_record(const CompiledKernel& k) {
  nlohmann::json types = nlohmann::json::array();
  for (const Type& t : k.arg_types) types.push_back({{"dtype", dtype_name(t.dtype)}, {"ptr", t.is_ptr}});
  nlohmann::json constexprs = nlohmann::json::array();
  for (const auto& [name, value] : k.constexprs) constexprs.push_back({name, value});
  std::vector<int> written(k.arg_written.begin(), k.arg_written.end());
  return {{"artifact_key", k.cache_key}, {"name", k.name}, {"params", k.params}, {"constexprs", constexprs},
          {"arg_types", types}, {"arg_names", k.arg_names}, {"arg_divisibility", k.arg_divisibility},
          {"num_user_args", k.num_user_args}, {"arg_written", written}, {"arg_offset32", k.arg_offset32},
          {"metadata", k.metadata}, {"entry", k.entry}, {"threads", k.threads}, {"shared_bytes", k.shared_bytes},
          {"tensor_maps", tensor_maps_json(k.tensor_maps)},
          {"image_arch", k.image_arch}, {"arch_suffix", k.arch_suffix}, {"image_is_ptx", k.image_is_ptx}};
}

// The CompiledKernel an index record describes, with its artifact loaded; nullptr when anything
// is missing or damaged (then the caller compiles, which heals the entry).
std::shared_ptr<CompiledKernel> load_indexed(const nlohmann::json& r, const KernelSource& src, const KernelOptions& options,
                                             StageTimer& timer) {
  auto k = std::make_shared<CompiledKernel>();
  try {
    k->backend = options.backend;
    k->debug = options.debug;
    k->source = std::make_shared<const KernelSource>(src);
    k->options = options;
    k->cache_key = r.at("artifact_key").get<std::string>();
    k->name = r.at("name").get<std::string>();
    k->params = r.at("params").get<std::vector<std::string>>();
    for (const auto& c : r.at("constexprs")) k->constexprs.emplace_back(c.at(0).get<std::string>(), c.at(1).get<std::string>());
    for (const auto& t : r.at("arg_types")) {
      std::optional<DType> d = dtype_from_name(t.at("dtype").get<std::string>());
      if (!d) return nullptr;
      k->arg_types.push_back(t.at("ptr").get<bool>() ? Type::pointer(*d) : Type::scalar(*d));
    }
    k->arg_names = r.at("arg_names").get<std::vector<std::string>>();
    k->arg_divisibility = r.at("arg_divisibility").get<std::vector<int>>();
    k->num_user_args = r.at("num_user_args").get<size_t>();
    for (int w : r.at("arg_written").get<std::vector<int>>()) k->arg_written.push_back(w != 0);
    k->arg_offset32 = r.at("arg_offset32").get<std::vector<std::string>>();
    k->metadata = r.at("metadata");
    k->entry = r.at("entry").get<std::string>();
    k->threads = r.at("threads").get<int>();
    k->shared_bytes = r.at("shared_bytes").get<int>();
    if (!tensor_maps_from_json(r.at("tensor_maps"), &k->tensor_maps)) return nullptr;
    k->image_arch = r.at("image_arch").get<int>();
    k->arch_suffix = r.at("arch_suffix").get<std::string>();
    k->image_is_ptx = r.at("image_is_ptx").get<bool>();
  } catch (const nlohmann::json::exception&) {
    return nullptr;  // an index record from another layout: recompiled and replaced
  }
  size_t n = k->num_user_args;
  size_t total = k->arg_types.size();
  if (k->arg_names.size() != total || k->arg_divisibility.size() != total || n > total || k->arg_written.size() != n ||
      k->arg_offset32.size() != n)
    return nullptr;
  KernelCache cache(default_cache_root());
  std::optional<CacheLookup> hit = lookup_healing(cache, k->cache_key);
  if (!hit) return nullptr;
  k->cache_dir = cache.entry_dir(k->cache_key);
  timer.mark("cache-lookup");
  if (options.backend == Backend::Cpu) {
    std::string error, so_path = cache.artifact_path(k->cache_key, "kernel.so");
    if (!load_cpu(*k, so_path, &error)) {
      warn("cannot load the cached kernel " + so_path + " (" + error + "): removed, recompiling");
      cache.remove(k->cache_key);
      return nullptr;
    }
  } else {
    auto image = hit->artifacts.find(k->image_is_ptx ? "kernel.ptx" : "kernel.cubin");
    if (image == hit->artifacts.end()) return nullptr;
    k->image = std::move(image->second);
    k->image_from_cache = true;
  }
  timer.mark("load");
  k->metadata["cache_key"] = k->cache_key;
  k->metadata["cache_dir"] = k->cache_dir;
  return k;
}


}  // namespace

std::shared_ptr<CompiledKernel> compile_kernel(const KernelSource& given, const KernelOptions& options,
                                               Diagnostics& diags) {
  StageTimer timer(log_compile());
  KernelSource src = given;
  src.target = KernelTarget{options.backend == Backend::Cuda, options.backend == Backend::Cuda ? options.cuda.arch : 0,
                            options.cuda.num_warps};
  // TILEC_CHECK_CUDA_ARCHS (tests) must see every kernel through NVRTC, so it bypasses the index.
  const char* check_archs = std::getenv("TILEC_CHECK_CUDA_ARCHS");
  bool use_index = !always_compile() && !(check_archs && *check_archs);
  KernelCache index(default_cache_root() + "/index");
  std::string key;
  if (use_index) {
    std::string error;
    use_index = index.writable(&error);  // an unwritable cache is reported once, by the full compile
  }
  if (use_index) {
    key = front_key(src, options);
    CacheLookup hit = index.find(key);
    nlohmann::json record;
    if (hit.status == CacheLookup::Status::Hit && hit.artifacts.count("kernel.json")) {
      record = nlohmann::json::parse(hit.artifacts["kernel.json"], nullptr, false);
      if (!record.is_discarded()) {
        timer.mark("index");
        if (std::shared_ptr<CompiledKernel> k = load_indexed(record, src, options, timer)) {
          timer.finish(k->name, backend_name(options.backend), "warm: index hit");
          return k;
        }
      }
    }
    if (hit.status != CacheLookup::Status::Miss) index.remove(key);  // stale or damaged: replaced below
  }
  std::shared_ptr<CompiledKernel> k = compile_full(src, options, diags, timer);
  if (!k) return nullptr;
  if (use_index && !k->cache_dir.empty()) {
    std::string error;
    // Failing to index only costs the next process a front-end run; the kernel itself is cached.
    index.store(key, {{"kernel.json", index_record(*k).dump()}}, {{"kernel", k->name}, {"tilec_version", TILEC_VERSION}}, &error);
    timer.mark("index-store");
  }
  timer.finish(k->name, backend_name(options.backend), "cold");
  return k;
}

std::map<std::string, std::string> kernel_asm(CompiledKernel& k) {
  std::lock_guard<std::mutex> lock(k.asm_mu);
  if (!k.asm_.count("ir") && k.source) {
    // Loaded by a warm start: the front end runs now, as it would have on a cold call.
    Diagnostics diags;
    std::unique_ptr<Function> fn = lower_to_ir(*k.source, false, diags);
    if (fn) {
      k.asm_["ir"] = print_ir(*fn);
      optimize(*fn);
      if (k.debug) {
        insert_overflow_checks(*fn);
        insert_bounds_checks(*fn);
      }
      k.asm_["ir-opt"] = print_ir(*fn);
      if (k.backend == Backend::Cpu) {
        if (std::optional<std::string> cpp = generate_cpp(*fn, diags)) k.asm_["cpp"] = *cpp;
      } else if (std::optional<CudaKernel> cu = generate_cuda(*fn, k.options.cuda, diags)) {
        k.asm_["cuda"] = cu->source;
      }
    }
  }
  if (k.backend == Backend::Cuda && !k.asm_.count("ptx")) {
    std::string error;
    if (k.image_is_ptx) {
      k.asm_["ptx"] = k.image;
    } else if (const Nvrtc* nvrtc = Nvrtc::get(&error); nvrtc && k.asm_.count("cuda")) {
      NvrtcOutput ptx = nvrtc->compile(k.asm_["cuda"], k.name + ".cu", k.image_arch, false, {}, k.arch_suffix);
      if (ptx.ok) k.asm_["ptx"] = ptx.ptx;
    }
  }
  return k.asm_;
}

// One line on stderr: the cache heals itself, the user only learns that it happened.
void warn(const std::string& message) { std::fprintf(stderr, "tilec: warning: %s\n", message.c_str()); }

// A cached cubin or PTX that the driver rejects (damaged in a way its recorded size and hash did
// not show, as a kernel.so that fails to load on the CPU): its entry is removed and the image
// compiled again from the kernel's source, which stores a fresh entry. The caller warns.
bool recompile_cuda_image(CompiledKernel& k, std::string* error) {
  KernelCache(default_cache_root()).remove(k.cache_key);
  if (!k.source) {
    *error = "the kernel's source is not known";
    return false;
  }
  Diagnostics diags;
  StageTimer timer(false);
  // The same stages as compile_full, so the generated CUDA C (and so the cache key) is the same.
  std::unique_ptr<Function> fn = lower_to_ir(*k.source, true, diags);
  if (fn && k.debug) {
    insert_overflow_checks(*fn);
    insert_bounds_checks(*fn);
  }
  std::optional<CudaKernel> cu = fn ? generate_cuda(*fn, k.options.cuda, diags) : std::nullopt;
  if (!cu || !compile_cuda(k, *cu, k.options, *fn, diags, timer)) {
    *error = diags.render();
    return false;
  }
  return true;
}

}  // namespace tilec
