// Input: optional pool sizes on the command line (default 2 4 8 16). Output: per pool size, the
// median µs per back-to-back parallel_for of n=64 and n=1024 with an empty callback and with
// ~0.25 µs of work per index (every thread then joins), that work's ideal time (serial time over
// min(threads, cores)), and the host's core count.
#include "runtime/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// Each thread's own sink: the callback must not share a written cache line, or the benchmark would
// time that line's bouncing instead of the pool's synchronization.
thread_local volatile int64_t t_sink = 0;

void empty_range(void*, int64_t begin, int64_t end) { t_sink = t_sink + end - begin; }

// A dependent chain the compiler cannot fold, `iters` steps per index.
void busy_range(void* ctx, int64_t begin, int64_t end) {
  int64_t iters = *static_cast<int64_t*>(ctx), x = t_sink;
  for (int64_t i = begin * iters; i < end * iters; ++i) x = x * 6364136223846793005 + i;
  t_sink = x;
}

// Steps of busy_range per index for about 0.25 µs, like a small kernel program.
int64_t calibrate_iters() {
  int64_t iters = 1 << 20;
  auto t0 = Clock::now();
  busy_range(&iters, 0, 16);
  double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
  return std::max<int64_t>(1, static_cast<int64_t>(250.0 * 16 * iters / ns));
}

// Median of several batches, so a batch that met another process on the shared cores does not count.
double median_us_per_launch(tilec::ThreadPool& pool, int64_t n, tilec::ThreadPool::RangeFn fn, void* ctx) {
  constexpr int kBatches = 15;
  const int launches = fn == empty_range ? 2000 : 200;
  for (int i = 0; i < launches; ++i) pool.parallel_for(n, fn, ctx);  // warm-up
  std::vector<double> batch_us;
  for (int b = 0; b < kBatches; ++b) {
    auto t0 = Clock::now();
    for (int i = 0; i < launches; ++i) pool.parallel_for(n, fn, ctx);
    batch_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / launches);
  }
  std::nth_element(batch_us.begin(), batch_us.begin() + kBatches / 2, batch_us.end());
  return batch_us[kBatches / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::max(1, std::atoi(argv[i])));
  if (sizes.empty()) sizes = {2, 4, 8, 16};
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  int64_t iters = calibrate_iters();
  double serial_us;
  {
    tilec::ThreadPool inline_pool(1);
    serial_us = median_us_per_launch(inline_pool, 1024, busy_range, &iters);
  }
  std::printf("host cores (hardware_concurrency): %u; busy: %.3f us per index on one thread\n", cores,
              serial_us / 1024);
  std::printf("%8s %12s %12s %12s %12s %12s\n", "threads", "empty n=64", "empty n=1024", "busy n=64", "busy n=1024",
              "ideal 1024");
  for (int threads : sizes) {
    tilec::ThreadPool pool(threads);
    double e64 = median_us_per_launch(pool, 64, empty_range, nullptr);
    double e1024 = median_us_per_launch(pool, 1024, empty_range, nullptr);
    double b64 = median_us_per_launch(pool, 64, busy_range, &iters);
    double b1024 = median_us_per_launch(pool, 1024, busy_range, &iters);
    double ideal = serial_us / std::min<unsigned>(threads, cores);
    std::printf("%8d %12.3f %12.3f %12.3f %12.3f %12.3f\n", threads, e64, e1024, b64, b1024, ideal);
  }
  return 0;
}
