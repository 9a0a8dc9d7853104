// Input: TILEC_LOG and the stages a caller marks. Output: StageTimer's line on stderr; the stages
// are listed with ", " and a stage's CPU/fault note uses "; ", so tools split the line on ", ".
#include "jit/stage_timer.h"

#include <sys/resource.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace tilec {

namespace {

std::string ms(StageTimer::Clock::time_point a, StageTimer::Clock::time_point b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f ms", std::chrono::duration<double, std::milli>(b - a).count());
  return buf;
}

}  // namespace

bool log_compile() {
  static const bool on = [] {
    const char* v = std::getenv("TILEC_LOG");
    std::stringstream items(v ? v : "");
    std::string item;
    while (std::getline(items, item, ','))
      if (item == "compile") return true;
    return false;
  }();
  return on;
}

StageTimer::StageTimer(bool on) : on_(on) {
  if (!on_) return;
  start_ = last_ = Clock::now();
  last_usage_ = thread_usage();
}

void StageTimer::mark(const char* stage) {
  if (!on_) return;
  Clock::time_point now = Clock::now();
  Usage usage = thread_usage();
  stages_ += std::string(stages_.empty() ? "" : ", ") + stage + " " + ms(last_, now);
  if (now - last_ >= std::chrono::milliseconds(1)) {
    char buf[96];
    std::snprintf(buf, sizeof buf, " (cpu %.2f ms; %ld major faults)", (usage.cpu_s - last_usage_.cpu_s) * 1e3,
                  usage.major_faults - last_usage_.major_faults);
    stages_ += buf;
  }
  last_ = now;
  last_usage_ = usage;
}

void StageTimer::finish(const std::string& kernel, const char* backend, const char* how) const {
  if (!on_) return;
  std::fprintf(stderr, "tilec: compile %s%s[%s, %s]: %s%stotal %s\n", kernel.c_str(), kernel.empty() ? "" : " ", backend, how,
               stages_.c_str(), stages_.empty() ? "" : ", ", ms(start_, Clock::now()).c_str());
}

// CPU time from the thread's CPU clock (to the nanosecond; getrusage's times may advance by whole
// scheduler ticks), faults from getrusage.
StageTimer::Usage StageTimer::thread_usage() {
  Usage u;
  struct timespec ts;
  if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) u.cpu_s = static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
  struct rusage ru;
  if (::getrusage(RUSAGE_THREAD, &ru) == 0) u.major_faults = ru.ru_majflt;
  return u;
}

}  // namespace tilec
