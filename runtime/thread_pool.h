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

// Persistent pool for kernel grids. Workers sleep on a condition variable between launches after
// a short spin; the caller takes part in every launch. Each thread owns one contiguous share of
// the grid, so back-to-back launches over the same buffers find their data in that core's cache
// (the way OpenMP's static schedule keeps torch's elementwise kernels in L2); a thread that
// finishes its share takes grains from the others', so a descheduled thread delays no one.
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
  struct Job {
    RangeFn fn;
    void* ctx;
    Share* shares;
    int num_shares;
    alignas(64) std::atomic<int> inside{0};  // workers that joined this job and have not left yet
  };

  // Runs share `self` to the end, then helps with the others in order.
  static void run_shares(Job& job, int self);
  void worker_loop(int self);

  std::vector<std::thread> workers_;
  std::unique_ptr<Share[]> shares_;  // size() of them, refilled by each launch under launch_mu_
  std::mutex launch_mu_;  // one launch at a time
  std::mutex mu_;         // guards job_, stop_, sleepers_ and Job::inside changes
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  Job* job_ = nullptr;  // published job; null when none is accepting workers
  // Spun on by idle workers: apart from the fields written under mu_.
  alignas(64) std::atomic<uint64_t> generation_{0};
  int sleepers_ = 0;
  bool stop_ = false;
};

}  // namespace tilec
