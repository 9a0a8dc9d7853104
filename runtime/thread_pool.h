// Input: a grid size n and a C callback over [begin, end) ranges. Output: every index in [0, n)
// run exactly once across the caller and the pool's workers before parallel_for returns; thread t
// starts on the t-th contiguous share of [0, n), the same share on every launch of that size.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tilec {

// TILEC_NUM_THREADS when it is a positive integer, else OMP_NUM_THREADS when it is one, else
// std::thread::hardware_concurrency() (at least 1). Read on every call; ThreadPool::instance()
// reads it once.
int default_thread_count();

// Persistent pool for kernel grids. Workers spin for ~100 µs (kSpinBudget) after a launch, then
// sleep on a condition variable; the caller takes part in every launch. A launch takes no mutex
// unless a worker went to sleep or the caller waited past its own spin (see thread_pool.cpp). Each
// thread owns one contiguous share of the grid, so back-to-back launches over the same buffers find
// their data in that core's cache (the way OpenMP's static schedule keeps torch's elementwise
// kernels in L2); a thread that finishes its share takes grains from the others', so a descheduled
// thread delays no one.
class ThreadPool {
 public:
  using RangeFn = void (*)(void* ctx, int64_t begin, int64_t end);

  // Process-wide pool of default_thread_count() threads; never destroyed, so kernels running on
  // other threads during exit never meet a dead pool.
  static ThreadPool& instance();

  // num_threads counts the caller: a pool of 1 has no workers and runs everything inline.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn over disjoint ranges covering [0, n) and returns when all are done. n <= 1, a pool
  // of 1, or a call from inside a running launch (nesting) runs fn(ctx, 0, n) inline with no
  // synchronization. Launches from several threads at once are serialized.
  void parallel_for(int64_t n, RangeFn fn, void* ctx);

 private:
  // One thread's share [next, end) of a launch, claimed grain by grain by its owner first and
  // then by thieves. Every claim writes `next`, so each share has a cache line of its own: sharing
  // one with fields that other threads read would bounce that line between the cores.
  struct alignas(64) Share {
    std::atomic<int64_t> next{0};
    int64_t end = 0;
    int64_t grain = 1;
  };
  // Worker t's announcement: the launch state it is joining or running, 0 when none. Written by
  // its worker twice per launch and polled by the caller, so on a line of its own.
  struct alignas(64) Slot {
    std::atomic<uint64_t> inside{0};
  };

  // Runs share `self` of the published launch to the end, then helps with the others in order.
  void run_shares(int self);
  void worker_loop(int self);

  std::vector<std::thread> workers_;
  std::unique_ptr<Share[]> shares_;  // size() of them, refilled by each launch under launch_mu_
  std::unique_ptr<Slot[]> slots_;    // size() of them; slot 0 (the caller's) unused
  std::mutex mu_;  // only for the sleep paths: pairs with work_cv_ and done_cv_
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  // One launch at a time. Locked and unlocked by every launch: on a line of its own, so that the
  // workers' reads of shares_ during the launch do not miss.
  alignas(64) std::mutex launch_mu_;
  // The launch: generation << 1 | open, written only by the caller. Spun on by idle workers, so the
  // launch's fields, written just before it, share its line: a worker's one miss fetches them all.
  alignas(64) std::atomic<uint64_t> state_{0};
  RangeFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int num_shares_ = 0;
  // Written only on the sleep paths, read on every launch: apart from the lines written per launch.
  alignas(64) std::atomic<int> sleepers_{0};       // workers in (or entering) work_cv_.wait
  std::atomic<bool> caller_waiting_{false};        // the caller is in (or entering) done_cv_.wait
  std::atomic<bool> stop_{false};
};

}  // namespace tilec
