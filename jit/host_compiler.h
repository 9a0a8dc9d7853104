// Input: a generated C++ source file and the host compiler ($CXX or c++). Output: a shared object
// built atomically (temp name + rename), its loaded handle and symbols, and a host ISA string.
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace tilec {

// The SIMD level that generated CPU kernels are built for: the host's own (Native), or one level
// forced with TILEC_CPU_ISA=avx512|avx2|scalar so that one host can test each path of
// runtime/cpu/tilec_vec.h (Scalar: the lane-wise template, with no AVX at all).
enum class CpuIsa { Native, Avx512, Avx2, Scalar };

const char* cpu_isa_name(CpuIsa isa);

// TILEC_CPU_ISA, read once per process. Unset, empty or "native" is Native; an unknown name or a
// level this host cannot run leaves Native and sets *error (the CPU backend then refuses to build).
CpuIsa requested_cpu_isa(std::string* error);

struct HostCompiler {
  std::string command;             // $CXX, else "c++"
  std::string version;             // first line of `command --version`; empty if it cannot run
  std::vector<std::string> flags;  // -O2 -march=native [-mno-avx512f | -mno-avx] -fPIC -shared -std=c++17 -fno-math-errno -I<dir>
  std::string isa_error;           // requested_cpu_isa()'s error: kernels must not be built
};

// One HostCompiler per ($CXX, include_dir), computed once and kept for the process; the
// reference stays valid forever. Thread-safe.
const HostCompiler& host_compiler(const std::string& include_dir);

struct CompileOutcome {
  bool ok = false;
  std::string log;      // compiler stdout+stderr, plus a note of why it failed when it did
  std::string command;  // shell-quoted command line that reproduces the build of output_path
};

// Runs the compiler directly (posix_spawnp, no shell). The output appears at output_path only
// when the build succeeded, whole, so concurrent builders of one path never see a partial file.
CompileOutcome compile_shared_object(const HostCompiler& compiler, const std::string& source_path,
                                     const std::string& output_path);

// Precompiles `header_path` (C++ header) into `output_path` (a .gch beside it, which the compiler
// then uses for `-include header_path`) with the compiler's flags, atomically as above.
CompileOutcome compile_precompiled_header(const HostCompiler& compiler, const std::string& header_path,
                                          const std::string& output_path);

// A dlopen'ed shared object (RTLD_NOW | RTLD_LOCAL), closed when destroyed.
class SharedLibrary {
 public:
  // nullptr and *error set (when non-null) on failure.
  static std::unique_ptr<SharedLibrary> open(const std::string& path, std::string* error);
  // nullptr and *error set (when non-null) if the symbol is missing.
  void* symbol(const char* name, std::string* error) const;
  const std::string& path() const { return path_; }
  ~SharedLibrary();
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

 private:
  SharedLibrary(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}
  void* handle_;
  std::string path_;
};

// Stable description of the host ISA for cache keys, e.g.
// "x86_64+avx2+avx512f+fma+f16c;model=Intel(R) Xeon(R) ...", since -march=native output depends on it;
// a forced level adds ";isa=avx2" (or avx512, scalar).
std::string cpu_isa_description();

// Quotes `arg` for a POSIX shell when it has characters the shell would interpret.
std::string shell_quote(const std::string& arg);

}  // namespace tilec
