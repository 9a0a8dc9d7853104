// Input: launches of (n, fn, ctx). Output: fn run over grains of [0, n), each thread first through
// its own contiguous share, then through the others'; a launch's fields and shares are not touched
// by a worker after the caller has closed the launch and seen every joined worker's slot cleared.
//
// Protocol (no mutex on the hot path; a mutex convoy of 15 waking workers cost more than a launch):
// - state_ = generation << 1 | open. The caller fills fn_/ctx_/shares, stores a new generation
//   with the open bit (publish), runs its share, stores the same generation closed (close), then
//   waits until no slot holds the open value. Only the caller writes state_, under launch_mu_.
// - A worker that sees a new open value s stores s into its slot, then re-reads state_: only if it
//   still equals s has the worker joined (it runs shares, then clears its slot); otherwise it
//   clears its slot without touching the launch. Slot store then state load (worker) against close
//   store then slot load (caller), all seq_cst: either the worker sees the close or the caller sees
//   the slot, so no worker runs on unnoticed. Generations never repeat (64 bits), so a worker
//   that wakes late for an old launch sees a different value and backs out (no ABA).
// - Sleeping is the same Dekker pair: a worker counts itself in sleepers_ before re-checking
//   state_ under mu_; the caller reads sleepers_ after publishing and notifies only if it is
//   nonzero. caller_waiting_ does the same for the caller's block on stragglers.
#include "runtime/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

namespace tilec {

namespace {

// Set while a thread runs grains, so a nested parallel_for runs inline instead of deadlocking
// on launch_mu_ or waiting for workers that are busy with the outer launch.
thread_local bool t_in_launch = false;

// Spin before sleeping (workers) or blocking (caller). Timed, not counted: a pause costs ~140
// cycles on Skylake-SP and ~10 elsewhere, so 4000 of them spanned 15-200 µs. Long enough to catch
// back-to-back launches a few µs of Python apart, short enough not to burn an idle core for long.
constexpr auto kSpinBudget = std::chrono::microseconds(100);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#else
  std::this_thread::yield();
#endif
}

// Spins until done() holds or kSpinBudget passed; returns done(). The clock is read once at the
// start and then every 64 pauses, so it adds little to a pause's cost; a wait that is over at
// once reads no clock.
template <class Done>
bool spin_until(Done done) {
  if (done()) return true;
  auto deadline = std::chrono::steady_clock::now() + kSpinBudget;
  for (int i = 1;; ++i) {
    cpu_relax();
    if (done()) return true;
    if (i % 64 == 0 && std::chrono::steady_clock::now() > deadline) return false;
  }
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
  slots_ = std::make_unique<Slot[]>(workers + 1);
  workers_.reserve(workers);
  // The caller owns share 0, worker i share i + 1.
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this, i] { worker_loop(i + 1); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> launch(launch_mu_);
    stop_.store(true, std::memory_order_seq_cst);
    // A new closed generation: spinning and sleeping workers see a change and then stop_.
    state_.store((state_.load(std::memory_order_relaxed) | 1) + 1, std::memory_order_seq_cst);
  }
  { std::lock_guard<std::mutex> lock(mu_); }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::run_shares(int self) {
  bool outer = t_in_launch;
  t_in_launch = true;
  for (int s = 0; s < num_shares_; ++s) {
    Share& share = shares_[(self + s) % num_shares_];
    // Read before claiming: a drained share's line then stays shared among the late threads
    // instead of bouncing between them on claims that would all fail.
    while (share.next.load(std::memory_order_relaxed) < share.end) {
      int64_t begin = share.next.fetch_add(share.grain, std::memory_order_relaxed);
      if (begin >= share.end) break;
      fn_(ctx_, begin, std::min(begin + share.grain, share.end));
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
  const int num_shares = size();
  // Equal contiguous shares, each claimed in about 4 grains: grid programs cost about the same, so
  // an owner usually runs its whole share with 4 counter updates, and a thief's grain is small
  // enough to balance a late or descheduled owner.
  for (int t = 0; t < num_shares; ++t) {
    Share& share = shares_[t];
    int64_t begin = n * t / num_shares, end = n * (t + 1) / num_shares;
    share.next.store(begin, std::memory_order_relaxed);
    share.end = end;
    share.grain = std::max<int64_t>(1, (end - begin + 3) / 4);
  }
  // Written right before state_, on its line, so the spinning workers see that line change once.
  fn_ = fn;
  ctx_ = ctx;
  num_shares_ = num_shares;
  // The previous launch left state_ closed (even); the next odd value is this launch, open.
  const uint64_t open = state_.load(std::memory_order_relaxed) + 1;
  state_.store(open, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    // Empty critical section: a worker between its re-check of state_ and its wait holds mu_, so
    // the notify cannot fall in that gap.
    { std::lock_guard<std::mutex> lock(mu_); }
    work_cv_.notify_all();
  }
  run_shares(0);
  // Every grain is claimed; stop new joiners, then wait for joined workers to finish theirs.
  state_.store(open + 1, std::memory_order_seq_cst);
  // A slot that stopped holding `open` never holds it again, so the scan resumes where it stopped.
  int t = 1;
  auto drained = [&] {
    while (t < num_shares_ && slots_[t].inside.load(std::memory_order_seq_cst) != open) ++t;
    return t == num_shares_;
  };
  if (spin_until(drained)) return;
  caller_waiting_.store(true, std::memory_order_seq_cst);
  {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, drained);
  }
  caller_waiting_.store(false, std::memory_order_relaxed);
}

void ThreadPool::worker_loop(int self) {
  Slot& slot = slots_[self];
  uint64_t seen = 0;
  auto changed = [&] { return state_.load(std::memory_order_acquire) != seen; };
  for (;;) {
    if (!spin_until(changed)) {
      std::unique_lock<std::mutex> lock(mu_);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      work_cv_.wait(lock, [&] { return state_.load(std::memory_order_seq_cst) != seen; });
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    uint64_t s = state_.load(std::memory_order_acquire);
    seen = s;
    if (!(s & 1)) continue;  // closed: woke after the caller finished that launch
    slot.inside.store(s, std::memory_order_seq_cst);
    if (state_.load(std::memory_order_seq_cst) == s) run_shares(self);
    slot.inside.store(0, std::memory_order_seq_cst);
    if (caller_waiting_.load(std::memory_order_seq_cst)) {
      { std::lock_guard<std::mutex> lock(mu_); }
      done_cv_.notify_all();
    }
  }
}

}  // namespace tilec
