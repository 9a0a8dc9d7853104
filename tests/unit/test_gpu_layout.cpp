// Tests of tilec/gpu/layout: every mma layout owns each tile element exactly once, the swizzled
// shared layout is a conflict-free bijection, and an emulated wgmma over tiles placed by
// shared_offset and read through wgmma_desc_a/b with the v3 fragment map computes A @ B.
#include <gtest/gtest.h>

#include <array>
#include <random>
#include <set>
#include <vector>

#include "tilec/gpu/layout.h"

using namespace tilec::gpu;

namespace {

void expect_bijection(const MmaLayout& l, int64_t warps) {
  std::vector<int> seen(l.m * l.n, 0);
  for (int64_t w = 0; w < warps; ++w)
    for (int64_t lane = 0; lane < 32; ++lane)
      for (int64_t i = 0; i < l.outer(); ++i)
        for (int64_t j = 0; j < l.inner(); ++j) {
          Coord c = mma_coord(l, w, lane, i, j);
          ASSERT_TRUE(c.row >= 0 && c.row < l.m && c.col >= 0 && c.col < l.n) << c.row << "," << c.col;
          ++seen[c.row * l.n + c.col];
        }
  for (int s : seen) ASSERT_EQ(s, 1);
}

}  // namespace

TEST(GpuLayout, MmaV2OwnsEachElementOnce) {
  for (auto [m, n, wm, wn] : std::vector<std::array<int64_t, 4>>{{64, 64, 2, 2}, {128, 128, 2, 2}, {128, 64, 4, 1}, {32, 256, 1, 8}})
    expect_bijection(MmaLayout{2, m, n, wm, wn}, wm * wn);
}

TEST(GpuLayout, MmaV3OwnsEachElementOnce) {
  for (auto [m, n, warps] : std::vector<std::array<int64_t, 3>>{{64, 64, 4}, {128, 128, 4}, {128, 256, 8}, {256, 128, 8}})
    expect_bijection(MmaLayout{3, m, n, warps, 1}, warps);
}

TEST(GpuLayout, SwizzledSharedIsAConflictFreeBijection) {
  for (auto [rows, cols] : std::vector<std::array<int64_t, 2>>{{128, 64}, {64, 128}, {64, 256}}) {
    SharedLayout l{rows, cols, 2, 3, 128, 0};
    std::set<int64_t> offsets;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        int64_t o = shared_offset(l, r, c);
        ASSERT_TRUE(o >= 0 && o < rows * cols * 2);
        offsets.insert(o);
      }
    EXPECT_EQ(static_cast<int64_t>(offsets.size()), rows * cols);
    // Eight rows' 16-byte chunks of one column group fall in eight distinct 16-byte bank groups.
    for (int64_t r0 = 0; r0 < rows; r0 += 8)
      for (int64_t c = 0; c < cols; c += 8) {
        std::set<int64_t> banks;
        for (int64_t r = r0; r < r0 + 8; ++r) banks.insert(shared_offset(l, r, c) % 128 / 16);
        EXPECT_EQ(banks.size(), 8u);
      }
  }
}

// A [m][k] and B [k][n] (small integers, exact in float) placed as the cp.async copies place them;
// each warpgroup's m64nNk16 steps read them through the descriptors the CUDA printer emits.
TEST(GpuLayout, EmulatedWgmmaComputesTheProduct) {
  std::mt19937 rng(7);
  for (auto [m, n, k, warps] : std::vector<std::array<int64_t, 4>>{{128, 128, 64, 4}, {128, 256, 64, 8}, {64, 64, 128, 4}}) {
    SharedLayout la{m, k, 2, 1, 128, 0}, lb{k, n, 2, 1, 128, 0};
    std::vector<int> a(m * k), b(k * n);
    for (int& x : a) x = static_cast<int>(rng() % 7) - 3;
    for (int& x : b) x = static_cast<int>(rng() % 7) - 3;
    std::vector<int> sa(la.stage_bytes() / 2, 0), sb(lb.stage_bytes() / 2, 0);
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < k; ++c) sa[shared_offset(la, r, c) / 2] = a[r * k + c];
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < n; ++c) sb[shared_offset(lb, r, c) / 2] = b[r * n + c];
    MmaLayout acc{3, m, n, warps, 1};
    int64_t groups = warps / 4, rows_per_group = m / groups;
    std::vector<long> c(m * n, 0);
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t mi = 0; mi < acc.outer(); ++mi)
        for (int64_t k0 = 0; k0 < k; k0 += 16) {
          WgmmaDesc da = wgmma_desc_a(la, mi * 64, k0), db = wgmma_desc_b(lb, k0);
          da.offset += shared_offset(la, g * rows_per_group, 0);
          // The fragment registers of every thread of warpgroup g for this m64 block.
          for (int64_t w = g * 4; w < g * 4 + 4; ++w)
            for (int64_t lane = 0; lane < 32; ++lane)
              for (int64_t j = 0; j < acc.inner(); ++j) {
                Coord at = mma_coord(acc, w, lane, mi, j);
                int64_t r = at.row - g * rows_per_group - mi * 64;
                ASSERT_TRUE(r >= 0 && r < 64);
                long s = 0;
                for (int64_t kk = 0; kk < 16; ++kk)
                  s += static_cast<long>(sa[wgmma_read_a(da, 2, r, kk) / 2]) * sb[wgmma_read_b(db, 2, kk, at.col) / 2];
                c[at.row * n + at.col] += s;
              }
        }
    for (int64_t r = 0; r < m; ++r)
      for (int64_t cc = 0; cc < n; ++cc) {
        long ref = 0;
        for (int64_t kk = 0; kk < k; ++kk) ref += static_cast<long>(a[r * k + kk]) * b[kk * n + cc];
        ASSERT_EQ(c[r * n + cc], ref) << "m=" << m << " n=" << n << " k=" << k << " at " << r << "," << cc;
      }
  }
}
