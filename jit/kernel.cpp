// Input: a KernelSource and KernelOptions. Output: a CompiledKernel loaded from the disk cache or
// compiled (host C++ compiler or NVRTC) and stored there; launches on the thread pool or the GPU.
// Invariant: the cache key hashes everything that changes the artifact (see key_for).
#include "jit/kernel.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "jit/cache.h"
#include "jit/nvrtc.h"
#include "jit/sha256.h"
#include "runtime/cuda_driver.h"
#include "runtime/thread_pool.h"
#include "tilec/codegen/cpp.h"
#include "tilec/passes.h"

namespace tilec {

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

// One line on stderr: the cache heals itself, the user only learns that it happened.
void warn(const std::string& message) { std::fprintf(stderr, "tilec: warning: %s\n", message.c_str()); }

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

// The entry's metadata on a hit; a damaged entry is removed (with a warning) and reads as a miss.
std::optional<nlohmann::json> lookup_healing(KernelCache& cache, const std::string& key) {
  CacheLookup r = cache.find(key);
  switch (r.status) {
    case CacheLookup::Status::Hit: return std::move(r.meta);
    case CacheLookup::Status::Miss: return std::nullopt;
    case CacheLookup::Status::Damaged:
      warn("damaged kernel cache entry " + cache.entry_dir(key) + " (" + r.problem + "): removed, recompiling");
      cache.remove(key);
      return std::nullopt;
  }
  return std::nullopt;
}

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

bool compile_cpu(CompiledKernel& k, const std::string& source, const Function& fn, Diagnostics& diags) {
  HostCompiler cc = host_compiler(include_dir_storage());
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
      CompileOutcome out = compile_shared_object(cc, cpp_path, work + "/kernel.so");
      if (!out.ok) {
        diags.error(fn.loc, "the host C++ compiler failed on the generated code for '" + fn.name + "'\n  source: " +
                                cpp_path + "\n  command: " + out.command + "\n" + out.log);
        return false;
      }
      std::string so_bytes;
      read_file(work + "/kernel.so", &so_bytes);
      nlohmann::json meta = {{"kernel", fn.name}, {"backend", "cpu"}, {"compiler", cc.command},
                             {"compiler_version", cc.version}, {"flags", flags}, {"isa", cpu_isa_description()},
                             {"debug", k.debug}, {"tilec_version", TILEC_VERSION}};
      if (!use_cache || !cache.store(k.cache_key, {{"kernel.cpp", source}, {"kernel.so", so_bytes}}, meta, &error)) {
        if (use_cache) warn("cannot store the compiled kernel in the cache (" + error + "); it is used from memory");
        so_path = work + "/kernel.so";
        k.cache_dir.clear();
      }
    }
    bool loaded = load_cpu(k, so_path, &error);
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
                  Diagnostics& diags) {
  std::string error;
  const Nvrtc* nvrtc = Nvrtc::get(&error);
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
  k.cache_key = key_for({TILEC_VERSION, "cuda", cu.source, cuda_runtime_header(), nvrtc->version(), std::to_string(arch) + suffix,
                         use_ptx ? "ptx" : "cubin", k.debug ? "debug" : "release"});
  KernelCache cache(default_cache_root());
  bool use_cache = cache_usable(cache);
  k.cache_dir = use_cache ? cache.entry_dir(k.cache_key) : "";
  std::string artifact = use_ptx ? "kernel.ptx" : "kernel.cubin";
  if (use_cache && !always_compile() && lookup_healing(cache, k.cache_key) &&
      read_file(cache.artifact_path(k.cache_key, artifact), &k.image)) {
    if (use_ptx) k.asm_["ptx"] = k.image;
    else read_file(cache.artifact_path(k.cache_key, "kernel.ptx"), &k.asm_["ptx"]);
    return true;
  }
  NvrtcOutput out = nvrtc->compile(cu.source, fn.name + ".cu", arch, !use_ptx, {}, suffix);
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
  k.image = use_ptx ? out.ptx : out.cubin;
  std::vector<std::pair<std::string, std::string>> files = {{"kernel.cu", cu.source}, {artifact, k.image}};
  if (!use_ptx) {
    // The PTX is kept beside the cubin for inspection (CompiledKernel.asm["ptx"]).
    NvrtcOutput ptx = nvrtc->compile(cu.source, fn.name + ".cu", arch, false, {}, suffix);
    if (ptx.ok) {
      files.emplace_back("kernel.ptx", ptx.ptx);
      k.asm_["ptx"] = ptx.ptx;
    }
  } else {
    k.asm_["ptx"] = out.ptx;
  }
  nlohmann::json meta = {{"kernel", fn.name}, {"backend", "cuda"}, {"arch", arch}, {"ptx", use_ptx},
                         {"nvrtc", nvrtc->version()}, {"entry", cu.entry}, {"threads", cu.threads},
                         {"shared_bytes", cu.shared_bytes}, {"debug", k.debug}, {"tilec_version", TILEC_VERSION}};
  if (use_cache && !cache.store(k.cache_key, files, meta, &error)) {
    warn("cannot store the compiled kernel in the cache (" + error + "); it is used from memory");
    k.cache_dir.clear();
  }
  return true;
}

// TILEC_CHECK_CUDA_ARCHS=80,90: every kernel compiled for the CPU is also lowered to CUDA C and
// compiled by NVRTC for those archs, so that machines without a GPU (CI) test the GPU code
// generator on every test kernel; any failure is a compile error.
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
    std::optional<CudaKernel> cu = generate_cuda(fn, options, diags);
    if (!cu) return false;
    NvrtcOutput out = nvrtc->compile(cu->source, fn.name + ".cu", options.arch, true, {}, cu->arch_specific ? "a" : "");
    if (!out.ok) {
      diags.error(fn.loc, "NVRTC failed on the generated CUDA C for '" + fn.name + "' (sm_" + item + "):\n" + out.log);
      return false;
    }
  }
  return true;
}

}  // namespace

void set_runtime_include_dir(const std::string& dir) { include_dir_storage() = dir; }
const std::string& runtime_include_dir() { return include_dir_storage(); }

bool debug_from_env() {
  const char* v = std::getenv("TILEC_DEBUG");
  return v && std::string(v) == "1";
}

std::shared_ptr<CompiledKernel> compile_kernel(const KernelSource& src, const KernelOptions& options,
                                               Diagnostics& diags) {
  std::unique_ptr<Function> fn = lower_to_ir(src, false, diags);
  if (!fn) return nullptr;
  auto k = std::make_shared<CompiledKernel>();
  k->backend = options.backend;
  k->name = fn->name;
  k->debug = options.debug;
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
  switch (options.backend) {
    case Backend::Cpu: {
      std::optional<std::string> cpp = generate_cpp(*fn, diags);
      if (!cpp) return nullptr;
      k->asm_["cpp"] = *cpp;
      if (!compile_cpu(*k, *cpp, *fn, diags)) return nullptr;
      if (!check_cuda_archs(*fn, options.cuda, diags)) return nullptr;
      break;
    }
    case Backend::Cuda: {
      std::optional<CudaKernel> cu = generate_cuda(*fn, options.cuda, diags);
      if (!cu) return nullptr;
      k->asm_["cuda"] = cu->source;
      k->entry = cu->entry;
      k->threads = cu->threads;
      k->shared_bytes = cu->shared_bytes;
      k->metadata["num_warps"] = options.cuda.num_warps;
      k->metadata["num_stages"] = options.cuda.num_stages;
      k->metadata["shared_bytes"] = cu->shared_bytes;
      k->metadata["arch"] = options.cuda.arch;
      if (!compile_cuda(*k, *cu, options, *fn, diags)) return nullptr;
      break;
    }
  }
  k->metadata["cache_key"] = k->cache_key;
  k->metadata["cache_dir"] = k->cache_dir;
  return k;
}

namespace {

struct CpuLaunch {
  CompiledKernel::CpuEntry entry;
  void* const* args;
  const int32_t* grid;
};

void run_range(void* ctx, int64_t begin, int64_t end) {
  auto* l = static_cast<CpuLaunch*>(ctx);
  l->entry(l->args, l->grid, begin, end);
}

}  // namespace

std::string launch_cpu(const CompiledKernel& kernel, const std::array<int32_t, 3>& grid, void* const* args) {
  int before = kernel.cpu_assert_failed();
  CpuLaunch l{kernel.cpu_entry, args, grid.data()};
  int64_t total = int64_t{grid[0]} * grid[1] * grid[2];
  ThreadPool::instance().parallel_for(total, run_range, &l);
  if (kernel.cpu_assert_failed() == before) return {};
  char first[1024];
  kernel.cpu_assert_message(first, sizeof first);
  return "device-side assertion failed in kernel '" + kernel.name + "': " + first;
}

std::string launch_cuda(CompiledKernel& kernel, int device, const std::array<int32_t, 3>& grid, void* stream,
                        void** args) {
  std::string error;
  const CudaDriver* driver = CudaDriver::get(&error);
  if (!driver) return error;
  if (device < 0 || device >= CompiledKernel::kMaxDevices) return "CUDA device ordinal " + std::to_string(device) + " out of range";
  ScopedContext ctx(*driver, device);
  if (!ctx.ok()) return ctx.error();
  auto fn = static_cast<CUfunction>(kernel.functions[device].load(std::memory_order_acquire));
  if (!fn) {
    static ModuleCache* modules = new ModuleCache(*driver);  // lives as long as the process, as CUDA contexts do
    fn = modules->get_function(device, kernel.cache_key, kernel.image, kernel.entry, kernel.shared_bytes, &error);
    if (!fn) return error;
    kernel.functions[device].store(fn, std::memory_order_release);
  }
  LaunchResult r = launch(*driver, fn, kernel.name, Dim3{static_cast<unsigned>(grid[0]), static_cast<unsigned>(grid[1]),
                                                         static_cast<unsigned>(grid[2])},
                          Dim3{static_cast<unsigned>(kernel.threads), 1, 1}, static_cast<unsigned>(kernel.shared_bytes),
                          static_cast<CUstream>(stream), args);
  return r.ok ? std::string() : r.error;
}

int cuda_device_arch(int device, std::string* error) {
  const CudaDriver* driver = CudaDriver::get(error);
  if (!driver) return -1;
  return driver->compute_capability(device, error);
}

}  // namespace tilec
