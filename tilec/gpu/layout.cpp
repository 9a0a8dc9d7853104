// Input: layout parameters. Output: printed forms (#blocked<...>, #mma<...>, #shared<...>) and the
// element maps the CUDA printer spells out; the numeric and C-expression maps are one formula each.
#include "tilec/gpu/layout.h"

#include <algorithm>

namespace tilec::gpu {
namespace {

std::string s(int64_t v) { return std::to_string(v); }

int64_t groups(const MmaLayout& l) { return l.warps_m / 4; }

}  // namespace

int64_t MmaLayout::outer() const { return version == 3 ? m / groups(*this) / 64 : (m / warps_m / 16) * (n / warps_n / 8); }
int64_t MmaLayout::inner() const { return version == 3 ? n / 2 : 4; }

int64_t SharedLayout::stage_bytes() const {
  int64_t b = swizzle ? rows * cols * elem_bytes : rows * (cols + pad) * elem_bytes;
  return (b + 1023) / 1024 * 1024;  // each stage starts 1024-byte aligned (swizzle atoms, descriptors)
}

Layout blocked_layout(int64_t numel, int64_t threads, int64_t vec) {
  Layout l;
  l.kind = LayoutKind::Blocked;
  BlockedLayout& b = l.blocked;
  b.numel = numel;
  b.threads = threads;
  b.vec = std::min<int64_t>(vec, std::max<int64_t>(1, numel / threads));
  b.reps = std::max<int64_t>(1, numel / (threads * b.vec));
  b.guard = numel < threads * b.vec;
  return l;
}

std::string Layout::str() const {
  switch (kind) {
    case LayoutKind::Blocked:
      return "#blocked<vec=" + s(blocked.vec) + ", threads=" + s(blocked.threads) + ", reps=" + s(blocked.reps) +
             (blocked.guard ? ", guarded" : "") + ">";
    case LayoutKind::Mma:
      if (mma.version == 3)
        return "#mma<v3, wgmma m64n" + s(mma.n) + "k16, warpgroups=" + s(groups(mma)) + ", blocks=" + s(mma.outer()) + ">";
      return "#mma<v2, mma.sync m16n8k16, warps=[" + s(mma.warps_m) + "," + s(mma.warps_n) + "], tiles=" + s(mma.outer()) + ">";
    case LayoutKind::Slice: return "#slice<dim=1, parent=" + Layout{LayoutKind::Mma, {}, mma, {}}.str() + ">";
    case LayoutKind::Shared:
      return "#shared<[" + s(shared.rows) + "," + s(shared.cols) + "] x " + s(shared.stages) + " stages, " +
             (shared.swizzle ? "swizzle=" + s(shared.swizzle) + "B" : "pad=" + s(shared.pad)) +
             (shared.groups_outer ? ", column groups outer" : "") + ">";
  }
  return "#?";
}

bool Layout::operator==(const Layout& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case LayoutKind::Blocked:
      return blocked.numel == o.blocked.numel && blocked.threads == o.blocked.threads && blocked.vec == o.blocked.vec;
    case LayoutKind::Mma:
    case LayoutKind::Slice:
      // A slice's rows do not depend on the parent's width when every warp spans all of it.
      return mma.version == o.mma.version && mma.m == o.mma.m && mma.warps_m == o.mma.warps_m && mma.warps_n == o.mma.warps_n &&
             (mma.n == o.mma.n || (kind == LayoutKind::Slice && mma.warps_n == 1));
    case LayoutKind::Shared:
      return shared.rows == o.shared.rows && shared.cols == o.shared.cols && shared.elem_bytes == o.shared.elem_bytes &&
             shared.stages == o.shared.stages && shared.swizzle == o.shared.swizzle && shared.pad == o.shared.pad &&
             shared.groups_outer == o.shared.groups_outer;
  }
  return false;
}

Coord mma_coord(const MmaLayout& l, int64_t warp, int64_t lane, int64_t i, int64_t j) {
  if (l.version == 3) {
    int64_t rows_per_group = l.m / groups(l);
    return {(warp / 4) * rows_per_group + i * 64 + (warp % 4) * 16 + lane / 4 + 8 * ((j % 4) / 2), (j / 4) * 8 + 2 * (lane % 4) + j % 2};
  }
  int64_t tiles_n = l.n / l.warps_n / 8;
  int64_t wr = (warp / l.warps_n) * (l.m / l.warps_m), wc = (warp % l.warps_n) * (l.n / l.warps_n);
  return {wr + (i / tiles_n) * 16 + lane / 4 + 8 * (j / 2), wc + (i % tiles_n) * 8 + 2 * (lane % 4) + j % 2};
}

std::string mma_row_expr(const MmaLayout& l, const std::string& warp, const std::string& lane, const std::string& i,
                         const std::string& j) {
  if (l.version == 3)
    return "((" + warp + ") / 4 * " + s(l.m / groups(l)) + " + (" + i + ") * 64 + (" + warp + ") % 4 * 16 + (" + lane +
           ") / 4 + 8 * (((" + j + ") % 4) / 2))";
  int64_t tiles_n = l.n / l.warps_n / 8;
  return "((" + warp + ") / " + s(l.warps_n) + " * " + s(l.m / l.warps_m) + " + (" + i + ") / " + s(tiles_n) + " * 16 + (" +
         lane + ") / 4 + 8 * ((" + j + ") / 2))";
}

std::string mma_col_expr(const MmaLayout& l, const std::string& warp, const std::string& lane, const std::string& i,
                         const std::string& j) {
  if (l.version == 3) return "((" + j + ") / 4 * 8 + 2 * ((" + lane + ") % 4) + (" + j + ") % 2)";
  int64_t tiles_n = l.n / l.warps_n / 8;
  return "((" + warp + ") % " + s(l.warps_n) + " * " + s(l.n / l.warps_n) + " + (" + i + ") % " + s(tiles_n) + " * 8 + 2 * ((" +
         lane + ") % 4) + (" + j + ") % 2)";
}

int64_t slice_regs(const MmaLayout& l) { return l.version == 3 ? l.outer() * 2 : (l.m / l.warps_m / 16) * 2; }

int64_t slice_reg(const MmaLayout& l, int64_t i, int64_t j) {
  if (l.version == 3) return i * 2 + (j % 4) / 2;
  return (i / (l.n / l.warps_n / 8)) * 2 + j / 2;
}

std::string slice_reg_expr(const MmaLayout& l, const std::string& i, const std::string& j) {
  if (l.version == 3) return "((" + i + ") * 2 + ((" + j + ") % 4) / 2)";
  return "((" + i + ") / " + s(l.n / l.warps_n / 8) + " * 2 + (" + j + ") / 2)";
}

// Slice register r is parent block r / 2 (fragment row r / 2 of the warp's m16 tiles), half r % 2.
std::string slice_row_expr(const MmaLayout& l, const std::string& warp, const std::string& lane, const std::string& r) {
  std::string block = l.version == 3 ? "(" + r + ") / 2" : "(" + r + ") / 2 * " + s(l.n / l.warps_n / 8);
  return mma_row_expr(l, warp, lane, block, "(" + r + ") % 2 * 2");
}

// Swizzled: 1024-byte atoms of 8 rows x 128 bytes, row-major over atoms (column-group-major when
// groups_outer); inside an atom the 16-byte chunk c of row r sits at chunk c ^ r (the wgmma and
// TMA 128-byte swizzle, bank-conflict free).
int64_t shared_offset(const SharedLayout& l, int64_t row, int64_t col) {
  int64_t es = l.elem_bytes;
  if (!l.swizzle) return (row * (l.cols + l.pad) + col) * es;
  int64_t atom_cols = 128 / es, atoms_per_row = l.cols / atom_cols;
  int64_t atom = l.groups_outer ? (col / atom_cols) * (l.rows / 8) + row / 8 : (row / 8) * atoms_per_row + col / atom_cols;
  int64_t chunk = ((col % atom_cols) * es / 16) ^ (row % 8);
  return atom * 1024 + (row % 8) * 128 + chunk * 16 + (col * es) % 16;
}

std::string shared_offset_expr(const SharedLayout& l, const std::string& row, const std::string& col) {
  int64_t es = l.elem_bytes;
  if (!l.swizzle) return "((" + row + ") * " + s(l.cols + l.pad) + " + (" + col + ")) * " + s(es);
  int64_t atom_cols = 128 / es, atoms_per_row = l.cols / atom_cols;
  std::string atom = l.groups_outer ? "(" + col + ") / " + s(atom_cols) + " * " + s(l.rows / 8) + " + (" + row + ") / 8"
                                    : "(" + row + ") / 8 * " + s(atoms_per_row) + " + (" + col + ") / " + s(atom_cols);
  return "(((" + atom + ") * 1024) + ((" + row +
         ") % 8) * 128 + (((((" + col + ") % " + s(atom_cols) + ") * " + s(es) + ") / 16) ^ ((" + row + ") % 8)) * 16 + ((" +
         col + ") * " + s(es) + ") % 16)";
}

WgmmaDesc wgmma_desc_a(const SharedLayout& l, int64_t row0, int64_t k0) {
  int64_t atoms_per_row = l.cols * l.elem_bytes / 128;
  // Inside an atom the start moves by k0's bytes; the hardware applies the swizzle to the address.
  return {shared_offset(l, row0, k0 - k0 % (128 / l.elem_bytes)) + (k0 % (128 / l.elem_bytes)) * l.elem_bytes, 16,
          l.groups_outer ? 1024 : atoms_per_row * 1024};
}

WgmmaDesc wgmma_desc_b(const SharedLayout& l, int64_t k0) {
  int64_t atoms_per_row = l.cols * l.elem_bytes / 128;
  if (l.groups_outer) return {shared_offset(l, k0, 0), l.rows / 8 * 1024, 1024};
  return {shared_offset(l, k0, 0), 1024, atoms_per_row * 1024};
}

namespace {
int64_t swizzle128(int64_t a) { return a ^ (((a >> 7) & 7) << 4); }
}  // namespace

int64_t wgmma_read_a(const WgmmaDesc& d, int64_t elem_bytes, int64_t r, int64_t k) {
  return swizzle128(d.offset + (r / 8) * d.sbo + (r % 8) * 128 + k * elem_bytes);
}

int64_t wgmma_read_b(const WgmmaDesc& d, int64_t elem_bytes, int64_t k, int64_t n) {
  int64_t atom_cols = 128 / elem_bytes;
  return swizzle128(d.offset + (n / atom_cols) * d.lbo + (k / 8) * d.sbo + (k % 8) * 128 + (n % atom_cols) * elem_bytes);
}

}  // namespace tilec::gpu
