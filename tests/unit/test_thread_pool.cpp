// Input: grids of various sizes on pools of various sizes. Output: pass/fail that every index
// runs exactly once, under back-to-back, concurrent and nested launches, after workers slept, when
// the pool dies right after launching, inside one thread's share, and that 1-item launches are cheap.
#include "runtime/thread_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace tilec {
namespace {

struct SumCtx {
  std::atomic<int64_t> sum{0};
  std::atomic<int64_t> calls{0};
};

void add_range(void* ctx, int64_t begin, int64_t end) {
  auto* c = static_cast<SumCtx*>(ctx);
  int64_t local = 0;
  for (int64_t i = begin; i < end; ++i) local += i + 1;
  c->sum.fetch_add(local);
  c->calls.fetch_add(1);
}

struct CoverCtx {
  std::unique_ptr<std::atomic<int>[]> hits;
};

void mark_range(void* ctx, int64_t begin, int64_t end) {
  auto* c = static_cast<CoverCtx*>(ctx);
  for (int64_t i = begin; i < end; ++i) c->hits[i].fetch_add(1);
}

int64_t expected_sum(int64_t n) { return n * (n + 1) / 2; }

TEST(ThreadPool, SumsForManySizes) {
  for (int threads : {1, 2, 3, 4, 8}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {0, 1, 2, 3, 5, 7, 16, 31, 100, 1000, 12345, 1000000}) {
      SumCtx ctx;
      pool.parallel_for(n, add_range, &ctx);
      EXPECT_EQ(ctx.sum.load(), expected_sum(n)) << "threads " << threads << " n " << n;
    }
  }
}

TEST(ThreadPool, EveryIndexExactlyOnce) {
  ThreadPool pool(4);
  for (int rep = 0; rep < 200; ++rep) {
    int64_t n = 1 + rep * 37 % 2000;
    CoverCtx ctx{std::make_unique<std::atomic<int>[]>(n)};
    pool.parallel_for(n, mark_range, &ctx);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(ctx.hits[i].load(), 1) << "n " << n << " i " << i;
  }
}

TEST(ThreadPool, ConcurrentCallers) {
  ThreadPool pool(4);
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&, t] {
      for (int rep = 0; rep < 300; ++rep) {
        int64_t n = 1 + (rep * 13 + t * 101) % 5000;
        SumCtx ctx;
        pool.parallel_for(n, add_range, &ctx);
        if (ctx.sum.load() != expected_sum(n)) failures.fetch_add(1);
      }
    });
  for (auto& c : callers) c.join();
  EXPECT_EQ(failures.load(), 0);
}

struct ShareCtx {
  int64_t n;
  int threads;
  std::atomic<int> crossings{0};
};

// A range may be any grain of a share, but never spans two threads' shares: each thread's part of
// the grid is one contiguous block, the same on every launch, so its data stays in its cache.
void check_within_share(void* ctx, int64_t begin, int64_t end) {
  auto* c = static_cast<ShareCtx*>(ctx);
  int64_t t = 0;
  while (c->n * (t + 1) / c->threads <= begin) ++t;
  if (end > c->n * (t + 1) / c->threads) c->crossings.fetch_add(1);
}

TEST(ThreadPool, RangesStayInsideOneShare) {
  for (int threads : {2, 3, 16}) {
    ThreadPool pool(threads);
    for (int64_t n : {2, 5, 16, 100, 1024, 4099}) {
      ShareCtx ctx{n, threads};
      pool.parallel_for(n, check_within_share, &ctx);
      EXPECT_EQ(ctx.crossings.load(), 0) << "threads " << threads << " n " << n;
    }
  }
}

struct NestedCtx {
  ThreadPool* pool;
  std::atomic<int64_t> sum{0};
};

void nested_range(void* ctx, int64_t begin, int64_t end) {
  auto* c = static_cast<NestedCtx*>(ctx);
  for (int64_t i = begin; i < end; ++i) {
    SumCtx inner;
    c->pool->parallel_for(10, add_range, &inner);
    c->sum.fetch_add(inner.sum.load());
  }
}

TEST(ThreadPool, NestedLaunchRunsInline) {
  ThreadPool pool(3);
  NestedCtx ctx{&pool};
  pool.parallel_for(50, nested_range, &ctx);
  EXPECT_EQ(ctx.sum.load(), 50 * expected_sum(10));
}

// Pool sizes for the stress tests: 2 and 3 (fewer workers than most grids), 8, and 17 (more threads
// than this host's cores, so workers are descheduled mid-launch and wake late for old launches).
constexpr int kStressSizes[] = {2, 3, 8, 17};

// Hit counters reused across launches: each launch must leave exactly one hit on each of its n.
struct ExactlyOnce {
  explicit ExactlyOnce(int64_t capacity) : hits(std::make_unique<std::atomic<int>[]>(capacity)) {}
  // Runs one launch of n and returns the first index not hit exactly once, or -1; clears the hits.
  // The context lives on this frame, as a kernel launch's does: a worker touching it after
  // parallel_for returned would race with the next launch's (ThreadSanitizer sees that).
  int64_t launch(ThreadPool& pool, int64_t n) {
    CoverCtx ctx{std::move(hits)};
    pool.parallel_for(n, mark_range, &ctx);
    hits = std::move(ctx.hits);
    int64_t bad = -1;
    for (int64_t i = 0; i < n; ++i)
      if (hits[i].exchange(0) != 1 && bad < 0) bad = i;
    return bad;
  }
  std::unique_ptr<std::atomic<int>[]> hits;
};

// Sizes around the pool size and the grain boundaries, 0 and 1 included.
int64_t varied_n(int rep, int threads) {
  switch (rep % 6) {
    case 0: return rep % 3;                      // 0, 1, 2
    case 1: return 1 + rep % threads;            // fewer than the pool
    case 2: return threads + rep % 5;            // about the pool
    case 3: return 4 * threads - 1 + rep % 3;    // about one grain per thread
    case 4: return 64 + rep % 1000;
    default: return 1 + rep * 37 % 3000;
  }
}

TEST(ThreadPool, StressBackToBackExactlyOnce) {
  for (int threads : kStressSizes) {
    ThreadPool pool(threads);
    ExactlyOnce check(4096);
    for (int rep = 0; rep < 6000; ++rep) {
      int64_t n = varied_n(rep, threads);
      ASSERT_EQ(check.launch(pool, n), -1) << "threads " << threads << " rep " << rep << " n " << n;
    }
  }
}

TEST(ThreadPool, StressConcurrentCallersExactlyOnce) {
  for (int threads : kStressSizes) {
    ThreadPool pool(threads);
    std::atomic<int> failures{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < 4; ++c)
      callers.emplace_back([&, c] {
        ExactlyOnce check(4096);
        for (int rep = 0; rep < 1000; ++rep)
          if (check.launch(pool, varied_n(rep * 4 + c, threads)) != -1) failures.fetch_add(1);
      });
    for (auto& c : callers) c.join();
    EXPECT_EQ(failures.load(), 0) << "threads " << threads;
  }
}

TEST(ThreadPool, DestroyedRightAfterLaunches) {
  for (int threads : kStressSizes) {
    for (int round = 0; round < 40; ++round) {
      ThreadPool pool(threads);
      ExactlyOnce check(256);
      // Round 0 destroys a pool whose workers may not have started yet.
      for (int rep = 0; rep < round % 4; ++rep)
        ASSERT_EQ(check.launch(pool, varied_n(rep + round, threads) % 256), -1) << "threads " << threads;
    }
  }
}

TEST(ThreadPool, StressNestedLaunches) {
  for (int threads : kStressSizes) {
    ThreadPool pool(threads);
    for (int rep = 0; rep < 200; ++rep) {
      NestedCtx ctx{&pool};
      int64_t n = 1 + rep % (2 * threads + 3);
      pool.parallel_for(n, nested_range, &ctx);
      ASSERT_EQ(ctx.sum.load(), n * expected_sum(10)) << "threads " << threads << " rep " << rep;
    }
  }
}

struct ThreadsCtx {
  std::mutex mu;
  std::set<std::thread::id> ids;
  std::atomic<int> hits{0};
};

// Slow enough that the caller alone would still be on its own share when woken workers take theirs,
// and that the caller's wait for stragglers outlasts its spin and blocks.
void slow_range(void* ctx, int64_t begin, int64_t end) {
  auto* c = static_cast<ThreadsCtx*>(ctx);
  {
    std::lock_guard<std::mutex> lock(c->mu);
    c->ids.insert(std::this_thread::get_id());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(3) * (end - begin));
  c->hits.fetch_add(static_cast<int>(end - begin));
}

TEST(ThreadPool, SleepingWorkersWake) {
  for (int threads : kStressSizes) {
    ThreadPool pool(threads);
    ExactlyOnce check(4096);
    for (int rep = 0; rep < 8; ++rep) {
      // Past the workers' spin: they are asleep on the condition variable when this launch comes.
      std::this_thread::sleep_for(std::chrono::milliseconds(2 + rep % 3 * 4));
      if (rep % 2 == 0) {
        ASSERT_EQ(check.launch(pool, varied_n(rep, threads)), -1) << "threads " << threads;
        continue;
      }
      ThreadsCtx ctx;
      pool.parallel_for(threads, slow_range, &ctx);
      EXPECT_EQ(ctx.hits.load(), threads);
      EXPECT_GE(ctx.ids.size(), 2u) << "threads " << threads << ": no worker woke";
    }
  }
}

TEST(ThreadPool, EnvSingleThreadRunsInline) {
  std::string saved = std::getenv("TILEC_NUM_THREADS") ? std::getenv("TILEC_NUM_THREADS") : "";
  ::setenv("TILEC_NUM_THREADS", "1", 1);
  EXPECT_EQ(default_thread_count(), 1);
  ThreadPool pool(default_thread_count());
  EXPECT_EQ(pool.size(), 1);
  SumCtx ctx;
  pool.parallel_for(1000, add_range, &ctx);
  EXPECT_EQ(ctx.sum.load(), expected_sum(1000));
  EXPECT_EQ(ctx.calls.load(), 1);  // one inline call over the whole range
  ::setenv("TILEC_NUM_THREADS", "6", 1);
  EXPECT_EQ(default_thread_count(), 6);
  ::setenv("TILEC_NUM_THREADS", "zero", 1);
  EXPECT_GE(default_thread_count(), 1);
  // Without TILEC_NUM_THREADS, torch's and OpenBLAS's OMP_NUM_THREADS sizes the pool too.
  std::string saved_omp = std::getenv("OMP_NUM_THREADS") ? std::getenv("OMP_NUM_THREADS") : "";
  ::unsetenv("TILEC_NUM_THREADS");
  ::setenv("OMP_NUM_THREADS", "3", 1);
  EXPECT_EQ(default_thread_count(), 3);
  ::setenv("TILEC_NUM_THREADS", "5", 1);
  EXPECT_EQ(default_thread_count(), 5);
  if (saved_omp.empty())
    ::unsetenv("OMP_NUM_THREADS");
  else
    ::setenv("OMP_NUM_THREADS", saved_omp.c_str(), 1);
  if (saved.empty())
    ::unsetenv("TILEC_NUM_THREADS");
  else
    ::setenv("TILEC_NUM_THREADS", saved.c_str(), 1);
  EXPECT_GE(ThreadPool::instance().size(), 1);
  EXPECT_EQ(&ThreadPool::instance(), &ThreadPool::instance());
}

TEST(ThreadPool, LaunchOverhead) {
  ThreadPool pool(4);
  SumCtx ctx;
  constexpr int kReps = 100000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kReps; ++i) pool.parallel_for(1, add_range, &ctx);
  double single_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
      kReps;
  EXPECT_LT(single_us, 5.0);
  constexpr int kMultiReps = 2000;
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kMultiReps; ++i) pool.parallel_for(64, add_range, &ctx);
  double multi_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
      kMultiReps;
  std::printf("launch overhead: 1 item %.3f us, 64 items on 4 threads %.3f us\n", single_us,
              multi_us);
}

}  // namespace
}  // namespace tilec
