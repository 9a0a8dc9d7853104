// Input: the libnvrtc shared library found at run time. Output: Nvrtc (loaded once, immutable
// afterwards) compiling CUDA C to cubin/PTX; failures come back as strings, never exceptions.
#include "jit/nvrtc.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "tilec/codegen/cuda.h"

namespace tilec {

namespace {

// The few NVRTC types we need, declared here so the build needs no CUDA headers; nvrtcResult is a
// C enum (int-sized) and nvrtcProgram an opaque pointer, as in nvrtc.h.
using nvrtcResult = int;
using nvrtcProgram = struct _nvrtcProgram*;
constexpr nvrtcResult NVRTC_SUCCESS = 0;
constexpr nvrtcResult NVRTC_ERROR_INVALID_OPTION = 5;

}  // namespace

struct Nvrtc::Api {
  const char* (*nvrtcGetErrorString)(nvrtcResult) = nullptr;
  nvrtcResult (*nvrtcVersion)(int*, int*) = nullptr;
  nvrtcResult (*nvrtcGetNumSupportedArchs)(int*) = nullptr;
  nvrtcResult (*nvrtcGetSupportedArchs)(int*) = nullptr;
  nvrtcResult (*nvrtcCreateProgram)(nvrtcProgram*, const char*, const char*, int, const char* const*,
                                    const char* const*) = nullptr;
  nvrtcResult (*nvrtcDestroyProgram)(nvrtcProgram*) = nullptr;
  nvrtcResult (*nvrtcCompileProgram)(nvrtcProgram, int, const char* const*) = nullptr;
  nvrtcResult (*nvrtcGetPTXSize)(nvrtcProgram, size_t*) = nullptr;
  nvrtcResult (*nvrtcGetPTX)(nvrtcProgram, char*) = nullptr;
  nvrtcResult (*nvrtcGetCUBINSize)(nvrtcProgram, size_t*) = nullptr;
  nvrtcResult (*nvrtcGetCUBIN)(nvrtcProgram, char*) = nullptr;
  nvrtcResult (*nvrtcGetProgramLogSize)(nvrtcProgram, size_t*) = nullptr;
  nvrtcResult (*nvrtcGetProgramLog)(nvrtcProgram, char*) = nullptr;
};

namespace {

template <typename F>
bool resolve(void* lib, const char* name, F* out, std::string* missing) {
  *out = reinterpret_cast<F>(dlsym(lib, name));
  if (*out == nullptr) {
    *missing = name;
    return false;
  }
  return true;
}

// Resolves every entry point; empty string on success, else the first missing symbol.
std::string resolve_all(void* lib, Nvrtc::Api* a) {
  std::string m;
  bool ok = resolve(lib, "nvrtcGetErrorString", &a->nvrtcGetErrorString, &m) &&
            resolve(lib, "nvrtcVersion", &a->nvrtcVersion, &m) &&
            resolve(lib, "nvrtcGetNumSupportedArchs", &a->nvrtcGetNumSupportedArchs, &m) &&
            resolve(lib, "nvrtcGetSupportedArchs", &a->nvrtcGetSupportedArchs, &m) &&
            resolve(lib, "nvrtcCreateProgram", &a->nvrtcCreateProgram, &m) &&
            resolve(lib, "nvrtcDestroyProgram", &a->nvrtcDestroyProgram, &m) &&
            resolve(lib, "nvrtcCompileProgram", &a->nvrtcCompileProgram, &m) &&
            resolve(lib, "nvrtcGetPTXSize", &a->nvrtcGetPTXSize, &m) &&
            resolve(lib, "nvrtcGetPTX", &a->nvrtcGetPTX, &m) &&
            resolve(lib, "nvrtcGetCUBINSize", &a->nvrtcGetCUBINSize, &m) &&
            resolve(lib, "nvrtcGetCUBIN", &a->nvrtcGetCUBIN, &m) &&
            resolve(lib, "nvrtcGetProgramLogSize", &a->nvrtcGetProgramLogSize, &m) &&
            resolve(lib, "nvrtcGetProgramLog", &a->nvrtcGetProgramLog, &m);
  return ok ? std::string() : "missing symbol " + m;
}

std::mutex g_search_mu;
std::vector<std::string> g_search_dirs;  // Nvrtc::set_search_dirs

std::vector<std::string> candidate_paths() {
  std::vector<std::string> paths;
  if (const char* p = std::getenv("TILEC_NVRTC_PATH"); p != nullptr && *p != '\0') paths.push_back(p);
  const char* names[] = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"};
  {
    std::lock_guard<std::mutex> lock(g_search_mu);
    for (const std::string& d : g_search_dirs) {
      struct stat st;
      if (::stat(d.c_str(), &st) == 0 && S_ISREG(st.st_mode)) paths.push_back(d);  // a library file
      else
        for (const char* n : names) paths.push_back(d + "/" + n);
    }
  }
  for (const char* n : names) paths.push_back(n);
  std::vector<std::string> dirs;
  if (const char* h = std::getenv("CUDA_HOME"); h != nullptr && *h != '\0') dirs.push_back(std::string(h) + "/lib64");
  dirs.push_back("/usr/local/cuda/lib64");
  for (const std::string& d : dirs)
    for (const char* n : names) paths.push_back(d + "/" + n);
  return paths;
}

// The process-wide instance; the library handle is never closed because compiled code and other
// threads may still hold function pointers into it at exit.
std::once_flag g_once;
const Nvrtc* g_nvrtc = nullptr;
std::string g_error;

std::string arch_option(int arch, bool cubin, const std::string& suffix) {
  return std::string("-arch=") + (cubin ? "sm_" : "compute_") + std::to_string(arch) + suffix;
}

std::string shell_quote(const std::string& s) {
  bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string("-_./=+,:").find(c) != std::string::npos;
  });
  if (plain) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The toolkit's include folder (cuda_fp16.h and friends are not built into NVRTC): next to the
// library that was loaded, then $CUDA_HOME / $CUDA_PATH, then /usr/local/cuda.
std::string find_include_dir(void* symbol_in_library) {
  std::vector<std::string> candidates;
  Dl_info info;
  if (dladdr(symbol_in_library, &info) != 0 && info.dli_fname) {
    std::string lib = info.dli_fname;
    std::string dir = lib.substr(0, lib.find_last_of('/'));
    candidates.push_back(dir + "/../include");
    candidates.push_back(dir + "/../../include");
  }
  for (const char* env : {"CUDA_HOME", "CUDA_PATH"})
    if (const char* v = std::getenv(env)) candidates.push_back(std::string(v) + "/include");
  candidates.push_back("/usr/local/cuda/include");
  for (const std::string& c : candidates)
    if (access((c + "/cuda_fp16.h").c_str(), R_OK) == 0) return c;
  return {};
}

}  // namespace

void Nvrtc::set_search_dirs(std::vector<std::string> dirs) {
  std::lock_guard<std::mutex> lock(g_search_mu);
  g_search_dirs = std::move(dirs);
}

std::vector<std::string> Nvrtc::search_dirs() {
  std::lock_guard<std::mutex> lock(g_search_mu);
  return g_search_dirs;
}

// The first usable candidate wins; later calls return the same instance or the same error.
const Nvrtc* Nvrtc::get(std::string* error) {
  std::call_once(g_once, [] {
    std::string tried;
    for (const std::string& path : candidate_paths()) {
      void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (lib == nullptr) {
        const char* e = dlerror();
        tried += "\n  " + path + ": " + (e ? e : "not found");
        continue;
      }
      auto api = std::make_unique<Api>();
      std::string missing = resolve_all(lib, api.get());
      if (!missing.empty()) {
        tried += "\n  " + path + ": " + missing;
        dlclose(lib);
        continue;
      }
      std::unique_ptr<Nvrtc> n(new Nvrtc());
      n->path_ = path;
      api->nvrtcVersion(&n->major_, &n->minor_);
      int count = 0;
      if (api->nvrtcGetNumSupportedArchs(&count) == NVRTC_SUCCESS && count > 0) {
        n->archs_.resize(count);
        if (api->nvrtcGetSupportedArchs(n->archs_.data()) != NVRTC_SUCCESS) n->archs_.clear();
        std::sort(n->archs_.begin(), n->archs_.end());
      }
      n->include_dir_ = find_include_dir(reinterpret_cast<void*>(api->nvrtcVersion));
      n->api_ = api.release();
      g_nvrtc = n.release();
      return;
    }
    g_error = "NVRTC not found; set TILEC_NVRTC_PATH or CUDA_HOME. Tried:" + tried;
  });
  if (g_nvrtc == nullptr && error != nullptr) *error = g_error;
  return g_nvrtc;
}

std::string Nvrtc::version() const { return std::to_string(major_) + "." + std::to_string(minor_); }

std::vector<int> Nvrtc::supported_archs() const { return archs_; }

NvrtcOutput Nvrtc::compile(const std::string& source, const std::string& program_name, int arch, bool cubin,
                           const std::vector<std::string>& extra_options, const std::string& arch_suffix) const {
  NvrtcOutput out;
  // -default-device: generated helpers need no __device__ annotation. No --use_fast_math: Triton's
  // default numerics are IEEE (precise div/sqrt, denormals kept). -minimal leaves out what tilec's
  // code never uses (textures, device-side launches, the CUDA runtime's device functions): 10-15%
  // of a small kernel's compile (bench/RESULTS.md, NVRTC options). -lineinfo costs nothing
  // measurable and lets profilers show the Python line of each instruction.
  out.options = {arch_option(arch, cubin, arch_suffix), "--std=c++17", "-default-device", "-lineinfo"};
  bool minimal = minimal_supported_.load(std::memory_order_relaxed);
  if (minimal) out.options.push_back("-minimal");
  if (!include_dir_.empty()) out.options.push_back("-I" + include_dir_);
  out.options.insert(out.options.end(), extra_options.begin(), extra_options.end());

  nvrtcProgram prog = nullptr;
  const char* header = cuda_runtime_header().c_str();
  const char* header_name = "tilec_cuda.h";
  nvrtcResult r = api_->nvrtcCreateProgram(&prog, source.c_str(), program_name.c_str(), 1, &header, &header_name);
  if (r != NVRTC_SUCCESS) {
    out.log = std::string("nvrtcCreateProgram failed: ") + api_->nvrtcGetErrorString(r);
    return out;
  }
  std::vector<const char*> argv;
  for (const std::string& o : out.options) argv.push_back(o.c_str());
  nvrtcResult compiled = api_->nvrtcCompileProgram(prog, static_cast<int>(argv.size()), argv.data());
  if (compiled == NVRTC_ERROR_INVALID_OPTION && minimal) {
    // An NVRTC from before -minimal: compiled again without it, and it is left out from now on.
    api_->nvrtcDestroyProgram(&prog);
    minimal_supported_.store(false, std::memory_order_relaxed);
    return compile(source, program_name, arch, cubin, extra_options, arch_suffix);
  }

  size_t log_size = 0;
  if (api_->nvrtcGetProgramLogSize(prog, &log_size) == NVRTC_SUCCESS && log_size > 1) {
    out.log.resize(log_size);
    if (api_->nvrtcGetProgramLog(prog, out.log.data()) == NVRTC_SUCCESS)
      out.log.resize(log_size - 1);  // the size counts the terminating NUL
    else
      out.log.clear();
  }
  if (compiled != NVRTC_SUCCESS) {
    std::string what = std::string("nvrtcCompileProgram: ") + api_->nvrtcGetErrorString(compiled);
    out.log = out.log.empty() ? what : what + "\n" + out.log;
    api_->nvrtcDestroyProgram(&prog);
    return out;
  }

  size_t size = 0;
  nvrtcResult got;
  if (cubin) {
    got = api_->nvrtcGetCUBINSize(prog, &size);
    if (got == NVRTC_SUCCESS) {
      out.cubin.resize(size);
      got = api_->nvrtcGetCUBIN(prog, out.cubin.data());
    }
  } else {
    got = api_->nvrtcGetPTXSize(prog, &size);
    if (got == NVRTC_SUCCESS) {
      out.ptx.resize(size);
      got = api_->nvrtcGetPTX(prog, out.ptx.data());
      if (got == NVRTC_SUCCESS && !out.ptx.empty() && out.ptx.back() == '\0') out.ptx.pop_back();
    }
  }
  if (got != NVRTC_SUCCESS) {
    out.log += std::string(cubin ? "\nnvrtcGetCUBIN: " : "\nnvrtcGetPTX: ") + api_->nvrtcGetErrorString(got);
  } else {
    out.ok = true;
  }
  api_->nvrtcDestroyProgram(&prog);
  return out;
}

std::string nvcc_equivalent(const std::string& cu_path, const std::vector<std::string>& options, int arch) {
  bool ptx = false;
  std::string flags, suffix;
  for (const std::string& o : options) {
    if (o.rfind("-arch=", 0) == 0 || o.rfind("--gpu-architecture=", 0) == 0) {
      ptx = o.find("compute_") != std::string::npos;
      if (o.back() == 'a') suffix = "a";
      continue;  // the arch comes from `arch` below
    }
    // nvcc has no -default-device (its sources must mark device helpers __device__ themselves) and
    // no -minimal (which only makes NVRTC's compile faster).
    if (o == "-default-device" || o == "--device-as-default-execution-space" || o == "-minimal") continue;
    flags += " " + shell_quote(o);
  }
  std::string stem = cu_path;
  if (size_t dot = stem.rfind('.'); dot != std::string::npos && stem.find('/', dot) == std::string::npos)
    stem.resize(dot);
  std::string out = stem + (ptx ? ".ptx" : ".cubin");
  return std::string("nvcc ") + (ptx ? "-ptx" : "-cubin") + " " + arch_option(arch, !ptx, suffix) + flags + " -o " +
         shell_quote(out) + " " + shell_quote(cu_path);
}

int choose_arch(int device_arch, const std::vector<int>& supported, bool* use_ptx) {
  int best = -1;
  for (int a : supported) {
    if (a == device_arch) {
      *use_ptx = false;
      return a;
    }
    if (a < device_arch && a > best) best = a;
  }
  *use_ptx = best != -1;
  return best;
}

}  // namespace tilec
