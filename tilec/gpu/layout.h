// Input: none (definitions). Output: the layouts of gpu-ir -- which thread holds which tile element
// (blocked, mma accumulator) or where shared memory keeps it -- with printers and element maps.
#pragma once
#include <cstdint>
#include <string>

namespace tilec::gpu {

enum class LayoutKind {
  Blocked,  // thread t holds elements k*T*V + t*V + j (k < reps, j < V): contiguous V-groups
  Mma,      // tensor-core accumulator fragments (mma.sync m16n8 tiles or wgmma m64nN blocks)
  Shared,   // a [rows][cols] tile in shared memory, `stages` copies, padded or 128-byte swizzled
  Slice,    // a per-row vector ([m] or [m, 1]) of an mma parent: each thread holds the rows it owns there
};

struct BlockedLayout {
  int64_t numel = 1, threads = 1, vec = 1, reps = 1;
  bool guard = false;  // some slots hold no element (numel < threads * vec)
  int64_t regs() const { return reps * vec; }
};

// version 2 (mma.sync): warp w = (wm_i, wn_i) = (w / warps_n, w % warps_n) owns the contiguous
// (m / warps_m) x (n / warps_n) sub-tile; its fragment t = mi * tiles_n + ni, register r holds
// row mi*16 + lane/4 + 8*(r/2), col ni*8 + 2*(lane%4) + r%2 of it.  Registers: [tiles][4].
// version 3 (wgmma): warpgroup g = w / 4 owns rows [g * m/groups, ...); its m64 block mi, register
// j holds row mi*64 + (w%4)*16 + lane/4 + 8*((j%4)/2), col (j/4)*8 + 2*(lane%4) + j%2.
// Registers: [blocks][n / 2].
struct MmaLayout {
  int version = 2;
  int64_t m = 0, n = 0, warps_m = 1, warps_n = 1;
  int64_t outer() const;  // first register-array extent
  int64_t inner() const;  // second register-array extent
};

struct SharedLayout {
  int64_t rows = 0, cols = 0, elem_bytes = 2, stages = 1;
  int swizzle = 0;   // 0: rows padded by `pad` elements; 128: 8 x 128-byte atoms, 16-byte chunks XOR row%8
  int64_t pad = 0;
  // Swizzled: the atoms of one 128-byte column group are adjacent (all its rows, then the next
  // group), which is what one TMA box per group writes; else a row's atoms are adjacent.
  bool groups_outer = false;
  int64_t stage_bytes() const;
};

struct Layout {
  LayoutKind kind = LayoutKind::Blocked;
  BlockedLayout blocked;
  MmaLayout mma;  // Mma: the layout itself; Slice: the parent
  SharedLayout shared;
  std::string str() const;
  bool operator==(const Layout& o) const;
  bool operator!=(const Layout& o) const { return !(*this == o); }
};

Layout blocked_layout(int64_t numel, int64_t threads, int64_t vec);

struct Coord {
  int64_t row = 0, col = 0;
};
// Element held by (warp, lane) in register [i][j] of an mma layout.
Coord mma_coord(const MmaLayout& l, int64_t warp, int64_t lane, int64_t i, int64_t j);
// The same map as C expressions over the names of warp, lane, i and j.
std::string mma_row_expr(const MmaLayout& l, const std::string& warp, const std::string& lane, const std::string& i,
                         const std::string& j);
std::string mma_col_expr(const MmaLayout& l, const std::string& warp, const std::string& lane, const std::string& i,
                         const std::string& j);

// Slice of an mma layout along its columns: one register per (m16 or m64 block, 8-row half) a
// thread owns; register (i, j) of the parent holds the row of slice register slice_reg(i, j).
int64_t slice_regs(const MmaLayout& l);
int64_t slice_reg(const MmaLayout& l, int64_t i, int64_t j);
std::string slice_reg_expr(const MmaLayout& l, const std::string& i, const std::string& j);
std::string slice_row_expr(const MmaLayout& l, const std::string& warp, const std::string& lane, const std::string& s);

// Byte offset of element (row, col) inside one stage of a shared layout, as a number and as C.
int64_t shared_offset(const SharedLayout& l, int64_t row, int64_t col);
std::string shared_offset_expr(const SharedLayout& l, const std::string& row, const std::string& col);

// A wgmma shared-memory matrix descriptor's variable fields, in bytes from the stage's start.
struct WgmmaDesc {
  int64_t offset = 0, lbo = 0, sbo = 0;
};
// A: the 64 x 16 block at (row0, k0) of a K-major [m][k] swizzled tile. B: the 16 x n block at k0
// of an N-major [k][n] swizzled tile (wgmma's transposed B).
WgmmaDesc wgmma_desc_a(const SharedLayout& l, int64_t row0, int64_t k0);
WgmmaDesc wgmma_desc_b(const SharedLayout& l, int64_t k0);
// Where wgmma reads element (r, k) of an A block / (k, n) of a B block: the PTX canonical 128-byte
// swizzle layouts (8-row groups SBO apart; B's 64-column groups LBO apart; 16-byte chunk c of row
// r at c ^ (r % 8)). For tests that emulate the instruction.
int64_t wgmma_read_a(const WgmmaDesc& d, int64_t elem_bytes, int64_t r, int64_t k);
int64_t wgmma_read_b(const WgmmaDesc& d, int64_t elem_bytes, int64_t k, int64_t n);

}  // namespace tilec::gpu
