// Tests of tilec/gpu/layout: every mma layout owns each tile element exactly once (and its slice
// the rows, reducible within a quad; its registers are the next dot's A fragment), the swizzled
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

// One TMA box per 128-byte column group: with groups_outer, box g holds its rows 128 bytes apart
// from byte g * rows * 128, each row's 16-byte chunks swizzled by the row (CU_TENSOR_MAP_SWIZZLE_128B).
TEST(GpuLayout, ColumnGroupsOuterIsWhereTmaBoxesLand) {
  for (auto [rows, cols, es] : std::vector<std::array<int64_t, 3>>{{64, 128, 2}, {128, 64, 2}, {64, 64, 4}, {32, 512, 1}}) {
    SharedLayout l{rows, cols, es, 1, 128, 0, true};
    int64_t box_cols = 128 / es;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        int64_t chunk = ((c % box_cols) * es / 16) ^ (r % 8);
        ASSERT_EQ(shared_offset(l, r, c), (c / box_cols) * rows * 128 + r * 128 + chunk * 16 + (c * es) % 16);
      }
  }
}

// A [m][k] and B [k][n] (small integers, exact in float) placed as the cp.async copies place them;
// each warpgroup's m64nNk16 steps read them through the descriptors the CUDA printer emits.
// Also with the column groups outermost, as TMA boxes land.
TEST(GpuLayout, EmulatedWgmmaComputesTheProduct) {
  std::mt19937 rng(7);
  for (bool outer : {false, true})
  for (auto [m, n, k, warps] : std::vector<std::array<int64_t, 4>>{{128, 128, 64, 4}, {128, 256, 64, 8}, {64, 64, 128, 4}}) {
    SharedLayout la{m, k, 2, 1, 128, 0, outer}, lb{k, n, 2, 1, 128, 0, outer};
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

// The slice of an mma layout (row reductions): slice register slice_reg(i, j) of a thread holds the
// row that parent register (i, j) holds, the four lanes of a quad hold the same rows, and a row
// maximum built per thread and then across the quad (xor 1, xor 2, as the printer shuffles) equals
// the true one. Slices with warps_n = 1 do not depend on the parent's width.
TEST(GpuLayout, SliceRegistersHoldTheirRowsAndQuadsReduceThem) {
  std::mt19937 rng(7);
  for (MmaLayout l : {MmaLayout{2, 128, 64, 4, 1}, MmaLayout{2, 64, 128, 4, 1}, MmaLayout{3, 128, 64, 8, 1},
                      MmaLayout{3, 128, 128, 4, 1}, MmaLayout{3, 64, 256, 4, 1}}) {
    int64_t warps = l.warps_m * l.warps_n, regs = slice_regs(l);
    auto slice_row = [&](int64_t w, int64_t lane, int64_t r) {
      int64_t block = l.version == 3 ? r / 2 : r / 2 * (l.n / l.warps_n / 8);
      return mma_coord(l, w, lane, block, r % 2 * 2).row;
    };
    std::vector<int> x(l.m * l.n), row_max(l.m, -1);
    for (int64_t e = 0; e < l.m * l.n; ++e) {
      x[e] = static_cast<int>(rng() % 1000);
      row_max[e / l.n] = std::max(row_max[e / l.n], x[e]);
    }
    std::vector<std::vector<int>> partial(warps * 32, std::vector<int>(regs, -1));
    for (int64_t w = 0; w < warps; ++w)
      for (int64_t lane = 0; lane < 32; ++lane)
        for (int64_t i = 0; i < l.outer(); ++i)
          for (int64_t j = 0; j < l.inner(); ++j) {
            int64_t r = slice_reg(l, i, j);
            ASSERT_TRUE(r >= 0 && r < regs);
            Coord c = mma_coord(l, w, lane, i, j);
            ASSERT_EQ(c.row, slice_row(w, lane, r));
            int& p = partial[w * 32 + lane][r];
            p = std::max(p, x[c.row * l.n + c.col]);
          }
    for (int64_t w = 0; w < warps; ++w)
      for (int64_t lane = 0; lane < 32; ++lane)
        for (int64_t r = 0; r < regs; ++r) {
          int m = -1;
          for (int64_t q = 0; q < 4; ++q) {
            ASSERT_EQ(slice_row(w, lane, r), slice_row(w, (lane & ~3) | q, r));
            m = std::max(m, partial[w * 32 + ((lane & ~3) | q)][r]);
          }
          EXPECT_EQ(m, row_max[slice_row(w, lane, r)]);
        }
    MmaLayout wider = l;
    wider.n *= 2;
    EXPECT_TRUE((Layout{LayoutKind::Slice, {}, l, {}} == Layout{LayoutKind::Slice, {}, wider, {}}));
  }
}

// A from registers: the wgmma m64k16 (and mma.sync m16k16) A fragment a_q of a warp holds rows lane/4 + 8*(q%2) and
// columns 2*(lane%4) + 8*(q/2) + {0, 1} of its 16 rows and the k16 step; the printer packs it from
// accumulator registers kk*8 + 2q and +1 of the same m64 block.
TEST(GpuLayout, AccumulatorRegistersAreTheWgmmaAFragment) {
  for (MmaLayout p : {MmaLayout{3, 128, 64, 8, 1}, MmaLayout{3, 128, 128, 4, 1}}) {
    for (int64_t w = 0; w < p.warps_m; ++w)
      for (int64_t lane = 0; lane < 32; ++lane)
        for (int64_t mi = 0; mi < p.outer(); ++mi)
          for (int64_t kk = 0; kk < p.n / 16; ++kk)
            for (int64_t q = 0; q < 4; ++q)
              for (int64_t half = 0; half < 2; ++half) {
                Coord c = mma_coord(p, w, lane, mi, kk * 8 + 2 * q + half);
                int64_t rows_per_group = p.m / (p.warps_m / 4);
                EXPECT_EQ(c.row, (w / 4) * rows_per_group + mi * 64 + (w % 4) * 16 + lane / 4 + 8 * (q % 2));
                EXPECT_EQ(c.col, kk * 16 + 8 * (q / 2) + 2 * (lane % 4) + half);
              }
  }
  // mma.sync m16k16: a_q comes from n-tile 2*kk + q/2, registers (q % 2) * 2 and +1.
  for (MmaLayout p : {MmaLayout{2, 128, 64, 4, 1}, MmaLayout{2, 64, 32, 4, 1}}) {
    int64_t tiles_n = p.n / 8, rows = p.m / p.warps_m;
    for (int64_t w = 0; w < p.warps_m; ++w)
      for (int64_t lane = 0; lane < 32; ++lane)
        for (int64_t mi = 0; mi < rows / 16; ++mi)
          for (int64_t kk = 0; kk < p.n / 16; ++kk)
            for (int64_t q = 0; q < 4; ++q)
              for (int64_t half = 0; half < 2; ++half) {
                Coord c = mma_coord(p, w, lane, mi * tiles_n + 2 * kk + q / 2, (q % 2) * 2 + half);
                EXPECT_EQ(c.row, w * rows + mi * 16 + lane / 4 + 8 * (q % 2));
                EXPECT_EQ(c.col, kk * 16 + 8 * (q / 2) + 2 * (lane % 4) + half);
              }
  }
}
