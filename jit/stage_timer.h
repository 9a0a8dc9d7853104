// Input: a compile's or a first launch's stages, marked as they end. Output: with TILEC_LOG=compile,
// one stderr line "tilec: compile KERNEL [BACKEND, HOW]: stage T ms, ..., total T ms"; nothing otherwise.
#pragma once
#include <chrono>
#include <string>

namespace tilec {

// True when TILEC_LOG (a comma-separated list, as for autotune) names `compile`. Read once per process.
bool log_compile();

// Stage times of one compile_kernel call (or of a kernel's first launch on a device), printed by
// finish(). A stage of 1 ms or more also shows this thread's CPU time and the major page faults in
// it: a stage that waits on the disk (NVRTC's library read for the first time after boot) or on
// another process (the host compiler) shows wall time well above CPU time. Costs nothing when off.
class StageTimer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit StageTimer(bool on);
  // Ends the stage that began at the previous mark (or at construction).
  void mark(const char* stage);
  // Prints the line; `kernel` may be empty (a device query).
  void finish(const std::string& kernel, const char* backend, const char* how) const;

 private:
  struct Usage {
    double cpu_s = 0;
    long major_faults = 0;
  };
  static Usage thread_usage();

  bool on_;
  Clock::time_point start_, last_;
  Usage last_usage_;
  std::string stages_;
};

}  // namespace tilec
