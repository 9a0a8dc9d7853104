// Input: launches of (n, fn, ctx). Output: fn run over grains of [0, n), each thread first through
// its own contiguous share, then through the others'; a job stays alive until the caller has
// unpublished it and every joined worker has left.
#include "runtime/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace tilec {

namespace {

// Set while a thread runs grains, so a nested parallel_for runs inline instead of deadlocking
// on launch_mu_ or waiting for workers that are busy with the outer launch.
thread_local bool t_in_launch = false;

// Long enough to catch back-to-back launches, short enough (~tens of µs) not to burn an idle core.
constexpr int kSpinIterations = 4000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#else
  std::this_thread::yield();
#endif
}

}  // namespace

int default_thread_count() {
  // OMP_NUM_THREADS is what torch's and OpenBLAS's pools size themselves by: a process that limits
  // them (several workers on one host) limits tilec too instead of oversubscribing the cores.
  for (const char* var : {"TILEC_NUM_THREADS", "OMP_NUM_THREADS"}) {
    const char* env = std::getenv(var);
    if (!env || !*env) continue;
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (*end == '\0' && v > 0) return static_cast<int>(std::min<long>(v, 1024));
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

ThreadPool& ThreadPool::instance() {
  static ThreadPool* pool = new ThreadPool(default_thread_count());
  return *pool;
}

ThreadPool::ThreadPool(int num_threads) {
  int workers = std::max(num_threads, 1) - 1;
  shares_ = std::make_unique<Share[]>(workers + 1);
  workers_.reserve(workers);
  // The caller owns share 0, worker i share i + 1.
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this, i] { worker_loop(i + 1); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::run_shares(Job& job, int self) {
  bool outer = t_in_launch;
  t_in_launch = true;
  for (int s = 0; s < job.num_shares; ++s) {
    Share& share = job.shares[(self + s) % job.num_shares];
    for (;;) {
      int64_t begin = share.next.fetch_add(share.grain, std::memory_order_relaxed);
      if (begin >= share.end) break;
      job.fn(job.ctx, begin, std::min(begin + share.grain, share.end));
    }
  }
  t_in_launch = outer;
}

void ThreadPool::parallel_for(int64_t n, RangeFn fn, void* ctx) {
  if (n <= 0) return;
  if (n == 1 || workers_.empty() || t_in_launch) {
    fn(ctx, 0, n);
    return;
  }
  std::lock_guard<std::mutex> launch(launch_mu_);
  Job job;
  job.fn = fn;
  job.ctx = ctx;
  job.shares = shares_.get();
  job.num_shares = size();
  // Equal contiguous shares, each claimed in about 4 grains: grid programs cost about the same, so
  // an owner usually runs its whole share with 4 counter updates, and a thief's grain is small
  // enough to balance a late or descheduled owner.
  for (int t = 0; t < job.num_shares; ++t) {
    Share& share = shares_[t];
    int64_t begin = n * t / job.num_shares, end = n * (t + 1) / job.num_shares;
    share.next.store(begin, std::memory_order_relaxed);
    share.end = end;
    share.grain = std::max<int64_t>(1, (end - begin + 3) / 4);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &job;
    generation_.fetch_add(1, std::memory_order_release);
    if (sleepers_ > 0) work_cv_.notify_all();
  }
  run_shares(job, 0);
  // Every grain is claimed; stop new joiners, then wait for joined workers to finish theirs.
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = nullptr;
  }
  for (int i = 0; i < kSpinIterations && job.inside.load(std::memory_order_acquire) > 0; ++i)
    cpu_relax();
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return job.inside.load(std::memory_order_relaxed) == 0; });
}

void ThreadPool::worker_loop(int self) {
  uint64_t seen = 0;
  for (;;) {
    for (int i = 0; i < kSpinIterations && generation_.load(std::memory_order_acquire) == seen; ++i)
      cpu_relax();
    std::unique_lock<std::mutex> lock(mu_);
    if (!stop_ && generation_.load(std::memory_order_relaxed) == seen) {
      ++sleepers_;
      work_cv_.wait(lock, [&] {
        return stop_ || generation_.load(std::memory_order_relaxed) != seen;
      });
      --sleepers_;
    }
    if (stop_) return;
    seen = generation_.load(std::memory_order_relaxed);
    Job* job = job_;
    if (!job) continue;  // woke after the caller finished that launch
    job->inside.fetch_add(1, std::memory_order_relaxed);
    lock.unlock();
    run_shares(*job, self);
    lock.lock();
    if (job->inside.fetch_sub(1, std::memory_order_release) == 1) done_cv_.notify_all();
  }
}

}  // namespace tilec
