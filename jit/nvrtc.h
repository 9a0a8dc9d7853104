// Input: CUDA C source text and a target SM arch. Output: a cubin or PTX image plus the NVRTC log,
// compiled in-process through libnvrtc opened with dlopen; no CUDA headers or link-time CUDA needed.
#pragma once
#include <atomic>
#include <string>
#include <vector>

namespace tilec {

// Result of one NVRTC compilation; `log` is filled even on success (warnings).
struct NvrtcOutput {
  bool ok = false;
  std::string log;                   // NVRTC program log, or why compilation could not start
  std::string ptx;                   // set when compiling to PTX
  std::string cubin;                 // set when compiling to a cubin (an ELF image)
  std::vector<std::string> options;  // the exact option list given to nvrtcCompileProgram
};

// The NVRTC library, loaded once per process. Every method is thread-safe: NVRTC programs are
// independent objects and the loaded state is immutable after get().
class Nvrtc {
 public:
  // Loads libnvrtc on first call: $TILEC_NVRTC_PATH, then libnvrtc.so.13, .so.12, .so in each
  // folder (or file) given to set_search_dirs (the Python package gives the nvidia-cuda-nvrtc wheel's and
  // torch's folders), then on the loader path, then $CUDA_HOME/lib64 and /usr/local/cuda/lib64.
  // Returns nullptr and sets *error (listing every path tried) when none loads.
  static const Nvrtc* get(std::string* error);
  // Folders (searched for the names above) and library files, tried before the loader path;
  // takes effect only before the first get().
  static void set_search_dirs(std::vector<std::string> dirs);
  static std::vector<std::string> search_dirs();

  std::string version() const;              // "13.0"
  std::vector<int> supported_archs() const;  // e.g. {75, 80, 86, ..., 120}, ascending
  const std::string& library_path() const { return path_; }
  const std::string& include_dir() const { return include_dir_; }

  // Compiles `source` for sm_<arch><suffix> (cubin true: -arch=sm_XY, SASS) or compute_<arch> (PTX);
  // suffix "a" selects the arch-specific features (sm_90a: wgmma). The tilec device header is
  // available as "tilec_cuda.h". Default options: --std=c++17, -default-device, -lineinfo,
  // -minimal (where NVRTC knows it); `extra_options` follow them.
  NvrtcOutput compile(const std::string& source, const std::string& program_name, int arch, bool cubin,
                      const std::vector<std::string>& extra_options, const std::string& arch_suffix = "") const;

  struct Api;  // resolved entry points, defined in nvrtc.cpp

 private:
  Nvrtc() = default;
  const Api* api_ = nullptr;
  std::string path_;
  std::string include_dir_;  // toolkit headers passed with -I; empty when none was found
  std::vector<int> archs_;
  int major_ = 0;
  int minor_ = 0;
  mutable std::atomic<bool> minimal_supported_{true};  // cleared by the first compile that rejects -minimal
};

// The nvcc command line that reproduces an NVRTC compile of `cu_path` with `options` (as in
// NvrtcOutput::options) for `arch`: cubin unless options ask for compute_XX, then PTX.
// NVRTC-only options without an nvcc spelling are dropped (see nvrtc.cpp).
std::string nvcc_equivalent(const std::string& cu_path, const std::vector<std::string>& options, int arch);

// Picks the compile target for a device of arch `device_arch` (e.g. 90): the device's own arch
// when NVRTC supports it (*use_ptx = false, load the cubin), else the newest supported arch
// below it (*use_ptx = true, the driver JITs the PTX). Returns -1 when every supported arch is
// newer than the device (NVRTC cannot target it).
int choose_arch(int device_arch, const std::vector<int>& supported, bool* use_ptx);

}  // namespace tilec
