// Input: compiler name from $CXX, source and output paths, .so paths. Output: build logs and
// outcomes, loaded libraries; child processes get no shell, a pipe for output, /dev/null for input.
#include "jit/host_compiler.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

extern char** environ;

namespace tilec {

namespace {

struct ProcessResult {
  bool started = false;
  int exit_status = -1;  // valid when exited normally
  int signal = 0;        // nonzero when killed by a signal
  std::string output;    // stdout and stderr interleaved
  std::string error;     // why it could not be started or waited for
};

// posix_spawnp with stdout+stderr into one pipe; the pipe is O_CLOEXEC so children that other
// threads spawn meanwhile do not inherit it (which would delay our EOF until they exit).
ProcessResult run_process(const std::vector<std::string>& args) {
  ProcessResult result;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    result.error = std::string("cannot create pipe: ") + std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    result.error = "cannot run '" + args[0] + "': " + std::strerror(rc);
    return result;
  }
  result.started = true;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      result.output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      result.error = "cannot wait for '" + args[0] + "': " + std::strerror(errno);
      return result;
    }
  }
  if (WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string join_command(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) {
    if (!out.empty()) out += ' ';
    out += shell_quote(a);
  }
  return out;
}

std::string unique_temp_path(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  std::ostringstream name;
  name << path << ".tmp." << ::getpid() << "."
       << std::hash<std::thread::id>{}(std::this_thread::get_id()) << "."
       << counter.fetch_add(1, std::memory_order_relaxed);
  return name.str();
}

}  // namespace

std::string shell_quote(const std::string& arg) {
  static constexpr const char* kSafe =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=/.,:@%";
  if (!arg.empty() && arg.find_first_not_of(kSafe) == std::string::npos) return arg;
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

const HostCompiler& host_compiler(const std::string& include_dir) {
  static std::mutex mu;
  static std::map<std::string, HostCompiler> compilers;
  const char* cxx = std::getenv("CXX");
  std::string command = (cxx && *cxx) ? cxx : "c++";
  std::string key = command + '\0' + include_dir;
  std::lock_guard<std::mutex> lock(mu);
  auto it = compilers.find(key);
  if (it != compilers.end()) return it->second;
  HostCompiler hc;
  hc.command = command;
  ProcessResult version = run_process({command, "--version"});
  if (version.started && version.exit_status == 0) hc.version = first_line(version.output);
  // -O2: the generated code is already vectorized by hand (runtime/cpu/tilec_vec.h), and -O3
  // triples the compile time of a cold call for no measured gain.
  hc.flags = {"-O2", "-march=native"};
  // The host's ISA minus what the forced level lacks: each -mno-X also drops the extensions built
  // on X (AVX-512's subsets; AVX2, FMA and F16C with AVX), so the headers' #if picks that path.
  switch (requested_cpu_isa(&hc.isa_error)) {
    case CpuIsa::Native: break;
    case CpuIsa::Avx512: hc.flags.push_back("-DTILEC_NO_AMX"); break;  // AVX-512 code: tl.dot's bf16 on vdpbf16ps, not AMX
    case CpuIsa::Avx2: hc.flags.push_back("-mno-avx512f"); break;
    case CpuIsa::Scalar:
#if defined(__x86_64__) || defined(__i386__)
      hc.flags.push_back("-mno-avx");
#endif
      break;
  }
  hc.flags.insert(hc.flags.end(), {"-fPIC", "-shared", "-std=c++17", "-fno-math-errno"});
  // A bare "-I" would swallow the next argument as the include folder.
  if (!include_dir.empty()) hc.flags.push_back("-I" + include_dir);
  return compilers.emplace(key, std::move(hc)).first->second;
}

CompileOutcome compile_shared_object(const HostCompiler& compiler, const std::string& source_path,
                                     const std::string& output_path) {
  CompileOutcome outcome;
  std::vector<std::string> args = {compiler.command};
  args.insert(args.end(), compiler.flags.begin(), compiler.flags.end());
  args.push_back("-o");
  args.push_back(output_path);
  args.push_back(source_path);
  outcome.command = join_command(args);
  // Build under a unique name so a reader of output_path never sees a half-written library.
  std::string tmp = unique_temp_path(output_path);
  args[args.size() - 2] = tmp;
  ProcessResult run = run_process(args);
  outcome.log = run.output;
  auto fail = [&](const std::string& why) {
    if (!outcome.log.empty() && outcome.log.back() != '\n') outcome.log += '\n';
    outcome.log += why;
    ::unlink(tmp.c_str());
    return outcome;
  };
  if (!run.started || !run.error.empty()) return fail(run.error);
  if (run.signal != 0)
    return fail("compiler '" + compiler.command + "' killed by signal " +
                std::to_string(run.signal) + " (" + strsignal(run.signal) + ")");
  // Some libcs report a failed exec only as exit status 127 from the child.
  if (run.exit_status == 127 && run.output.empty())
    return fail("cannot run '" + compiler.command + "': command not found");
  if (run.exit_status != 0)
    return fail("compiler exited with status " + std::to_string(run.exit_status));
  if (::rename(tmp.c_str(), output_path.c_str()) != 0)
    return fail("cannot rename '" + tmp + "' to '" + output_path + "': " + std::strerror(errno));
  outcome.ok = true;
  return outcome;
}

CompileOutcome compile_precompiled_header(const HostCompiler& compiler, const std::string& header_path,
                                          const std::string& output_path) {
  CompileOutcome outcome;
  std::vector<std::string> args = {compiler.command};
  for (const std::string& f : compiler.flags)
    if (f != "-shared") args.push_back(f);  // the rest must match the kernels' flags for the PCH to be used
  args.insert(args.end(), {"-x", "c++-header", "-o", output_path, header_path});
  outcome.command = join_command(args);
  std::string tmp = unique_temp_path(output_path);
  args[args.size() - 2] = tmp;
  ProcessResult run = run_process(args);
  outcome.log = run.output;
  bool ok = run.started && run.error.empty() && run.signal == 0 && run.exit_status == 0 &&
            ::rename(tmp.c_str(), output_path.c_str()) == 0;
  if (!ok) ::unlink(tmp.c_str());
  outcome.ok = ok;
  return outcome;
}

std::unique_ptr<SharedLibrary> SharedLibrary::open(const std::string& path, std::string* error) {
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* msg = ::dlerror();
    if (error) *error = "cannot load '" + path + "': " + (msg ? msg : "unknown dlopen error");
    return nullptr;
  }
  return std::unique_ptr<SharedLibrary>(new SharedLibrary(handle, path));
}

void* SharedLibrary::symbol(const char* name, std::string* error) const {
  ::dlerror();  // clear any stale error so the check below is about this lookup
  void* sym = ::dlsym(handle_, name);
  if (!sym) {
    const char* msg = ::dlerror();
    if (error)
      *error = "symbol '" + std::string(name) + "' not found in '" + path_ + "'" +
               (msg ? std::string(": ") + msg : std::string());
  }
  return sym;
}

SharedLibrary::~SharedLibrary() { ::dlclose(handle_); }

namespace {

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  if (!in) return "";
  std::string line, implementer, part;
  auto value = [](const std::string& l) {
    size_t colon = l.find(':');
    if (colon == std::string::npos) return std::string();
    size_t begin = l.find_first_not_of(" \t", colon + 1);
    return begin == std::string::npos ? std::string() : l.substr(begin);
  };
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return value(line);
    // aarch64 kernels name the core only by implementer and part numbers.
    if (implementer.empty() && line.rfind("CPU implementer", 0) == 0) implementer = value(line);
    if (part.empty() && line.rfind("CPU part", 0) == 0) part = value(line);
  }
  if (implementer.empty() && part.empty()) return "";
  return "implementer " + implementer + " part " + part;
}

std::string compute_isa_description() {
  std::string isa;
#if defined(__x86_64__) || defined(__i386__)
  isa = sizeof(void*) == 8 ? "x86_64" : "i386";
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) isa += "+avx2";
  if (__builtin_cpu_supports("avx512f")) isa += "+avx512f";
  if (__builtin_cpu_supports("avx512bw")) isa += "+avx512bw";
  if (__builtin_cpu_supports("avx512vl")) isa += "+avx512vl";
  if (__builtin_cpu_supports("fma")) isa += "+fma";
  // Clang's __builtin_cpu_supports rejects "f16c", so read CPUID leaf 1 (ECX bit 29) directly.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C)) isa += "+f16c";
  // Extensions -march=native turns on that change generated code (tl.dot's vdpbf16ps, tdpbf16ps): CPUID leaf 7,
  // subleaf 0 EDX bit 23 (AVX512-FP16), bits 22 and 24 (AMX-BF16 and AMX-TILE), and subleaf 1 EAX bit 5 (AVX512-BF16).
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
    if (edx & (1u << 23)) isa += "+avx512fp16";
    if ((edx & (1u << 22)) && (edx & (1u << 24))) isa += "+amxbf16";
  }
  if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax & (1u << 5))) isa += "+avx512bf16";
#elif defined(__aarch64__)
  isa = "aarch64-neon";
#elif defined(__riscv)
  isa = "riscv";
#else
  isa = "unknown-arch";
#endif
  std::string model = cpu_model_name();
  if (!model.empty()) isa += ";model=" + model;
  return isa;
}

}  // namespace

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Native: return "native";
    case CpuIsa::Avx512: return "avx512";
    case CpuIsa::Avx2: return "avx2";
    case CpuIsa::Scalar: return "scalar";
  }
  return "?";
}

CpuIsa requested_cpu_isa(std::string* error) {
  struct Choice {
    CpuIsa isa = CpuIsa::Native;
    std::string error;
  };
  static const Choice choice = [] {
    Choice c;
    const char* env = std::getenv("TILEC_CPU_ISA");
    std::string name = env ? env : "";
    if (name.empty() || name == "native") return c;
    bool x86 = false, avx2 = false, avx512 = false;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    x86 = true;
    avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#endif
    bool runs = true;
    if (name == "avx512") {
      c.isa = CpuIsa::Avx512;
      runs = avx512;
    } else if (name == "avx2") {
      c.isa = CpuIsa::Avx2;
      runs = avx2;
    } else if (name == "scalar") {
      c.isa = CpuIsa::Scalar;
    } else {
      c.error = "TILEC_CPU_ISA='" + name + "' is not one of native, avx512, avx2, scalar";
      return c;
    }
    if (!runs) {
      c.error = std::string("TILEC_CPU_ISA=") + name + ": this " + (x86 ? "CPU" : "architecture") + " cannot run " + name + " code";
      c.isa = CpuIsa::Native;
    }
    return c;
  }();
  if (error) *error = choice.error;
  return choice.isa;
}

std::string cpu_isa_description() {
  static const std::string description = [] {
    CpuIsa isa = requested_cpu_isa(nullptr);
    std::string d = compute_isa_description();
    return isa == CpuIsa::Native ? d : d + ";isa=" + cpu_isa_name(isa);
  }();
  return description;
}

}  // namespace tilec
