// Input: values in the layouts gpu-ir gave them. Output: the CUDA C that moves data between layouts:
// conversions (recomputed or through shared memory), broadcasts, permutes and same-order reshapes.
#include "tilec/codegen/cuda_gen.h"

namespace tilec::cuda_gen {

// The layout the passes chose, or the one an operand was converted to for the op being printed.
Layout CudaGen::layout(const Value* v) const {
  int64_t n = v->type.is_tile() ? v->type.numel() : 1;
  auto it = converted_.find(v);
  return Layout(it != converted_.end() ? it->second : m_.layout(v), n, threads_);
}

// ---- data movement between threads ---------------------------------------------------------
// dst element e takes src element src_index(e). Stays in registers when every thread already
// owns the elements it needs at a slot that is the same for all threads; else via shared memory.
void CudaGen::remap(const Value* src, const Value* dst, const std::function<int64_t(int64_t)>& src_index, const std::function<std::string(const std::string&)>& src_index_expr) {
  Layout ls = layout(src), ld = layout(dst);
  std::string t = ctype(dst->type);
  if (!dst->type.is_tile()) {
    declare(dst);
    exchange_begin(src, ls);
    line(name(dst) + " = xs[" + src_index_expr("0") + "];");
    line("__syncthreads();");
    close();
    return;
  }
  if (src->type.is_tile() && ls.blocked() && ld.blocked()) {
    std::vector<int64_t> slot_map(ld.regs, -1);
    bool local = true;
    for (int64_t i = 0; i < ld.regs && local; ++i)
      for (int64_t th = 0; th < threads_ && local; ++th) {
        int64_t e = ld.elem_of(th, i);
        if (e >= ld.n) continue;
        int64_t s = src_index(e);
        if (ls.owner(s) != th || (slot_map[i] >= 0 && slot_map[i] != ls.slot(s))) local = false;
        else slot_map[i] = ls.slot(s);
      }
    if (local) {
      declare(dst);
      for (int64_t i = 0; i < ld.regs; ++i)
        line(name(dst) + "[" + std::to_string(i) + "] = " + name(src) + "[" + std::to_string(std::max<int64_t>(0, slot_map[i])) + "];");
      return;
    }
  }
  declare(dst);
  exchange_begin(src, ls);
  unroll(ld.regs);
  line("const int e = " + ld.elem("i") + ";");
  line(std::string(ld.guard ? "if (e < " + std::to_string(ld.n) + ") " : "") + name(dst) + "[i] = xs[" + src_index_expr("e") + "];");
  close();
  line("__syncthreads();");
  close();
}

// Opens a block holding `xs`, the shared-memory copy of src (every element, row-major).
void CudaGen::exchange_begin(const Value* src, const Layout& ls) {
  std::string t = ctype(src->type);
  need_smem(ls.n * (src->type.is_ptr ? 8 : dtype_bytes(src->type.dtype)));
  open("");
  line(t + "* xs = reinterpret_cast<" + t + "*>(smem);");
  if (src->type.is_tile()) {
    unroll(ls.regs);
    line("const int e = " + ls.elem("i") + ";");
    line(std::string(ls.guard ? "if (e < " + std::to_string(ls.n) + ") " : "") + "xs[e] = " + name(src) + "[i];");
    close();
  } else {
    line("if (tid == 0) xs[0] = " + name(src) + ";");
  }
  line("__syncthreads();");
}

std::vector<int64_t> CudaGen::strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

// Coordinates (one expression per dimension) of the element register `i` holds. An mma fragment's
// row and column come straight from its map: decomposing a flat index instead would leave ptxas
// integer divisions it cannot fold (it does not know the column is below the width), and the
// attention mask's compare would carry them per element. Other layouts decompose `e`, the
// element index the caller defines.
std::vector<std::string> CudaGen::elem_coords(const Layout& l, const std::vector<int64_t>& shape, const std::string& i) {
  if (l.kind == gpu::LayoutKind::Mma && shape.size() == 2)
    return {gpu::mma_row_expr(l.mma, "tid >> 5", "tid & 31", l.frag_i(i), l.frag_j(i)),
            gpu::mma_col_expr(l.mma, "tid >> 5", "tid & 31", l.frag_i(i), l.frag_j(i))};
  if (l.kind == gpu::LayoutKind::Slice && shape.size() == 1) return {gpu::slice_row_expr(l.mma, "tid >> 5", "tid & 31", i)};
  std::vector<int64_t> st = strides(shape);
  std::vector<std::string> c;
  for (size_t d = 0; d < shape.size(); ++d) c.push_back("((e) / " + std::to_string(st[d]) + " % " + std::to_string(shape[d]) + ")");
  return c;
}

// A broadcast's source coordinates: its size-1 dimensions read index 0.
std::vector<std::string> CudaGen::broadcast_coords(const Type& src, const std::vector<std::string>& dst_coords) {
  std::vector<std::string> c = dst_coords;
  for (size_t d = 0; d < c.size() && d < src.shape.size(); ++d)
    if (src.shape[d] == 1) c[d] = "0";
  return c;
}

// The element at `coords` of an index chain (gpu::is_index_chain), recomputed from scratch.
std::string CudaGen::remat(const Value* v, const std::vector<std::string>& coords) {
  if (!v->type.is_tile()) return name(v);
  const Op& op = *v->def;
  // Parenthesized: the expression printers combine operands as if they were names.
  auto arg = [&](size_t i) { return "(" + remat(op.operands[i], coords) + ")"; };
  switch (op.kind) {
    case OpKind::Constant: return const_literal(v->type.dtype, op);
    case OpKind::Arange: return "static_cast<int>(" + std::to_string(op.ints.at(0)) + " + " + coords.at(0) + ")";
    case OpKind::Splat: return name(op.operands[0]);
    case OpKind::ExpandDims: {
      std::vector<std::string> src = coords;
      src.erase(src.begin() + op.axis);
      return "(" + remat(op.operands[0], src) + ")";
    }
    case OpKind::Hint: return arg(0);
    case OpKind::Broadcast: return remat(op.operands[0], broadcast_coords(op.operands[0]->type, coords));
    case OpKind::Cast: return cast_expr(op.operands[0]->type.dtype, v->type.dtype, arg(0));
    case OpKind::Binary: return binary_expr(op, arg(0), arg(1));
    case OpKind::Compare: return cmp_expr(op, arg(0), arg(1));
    case OpKind::Unary: return unary_expr(op, arg(0));
    case OpKind::Select: return "(" + arg(0) + " ? " + arg(1) + " : " + arg(2) + ")";
    case OpKind::AddPtr: return "(" + arg(0) + " + " + arg(1) + ")";
    case OpKind::Fma:
    case OpKind::Libdevice:
    case OpKind::Barrier:
    case OpKind::Print:
    case OpKind::InlineAsm:
    case OpKind::ProgramId:
    case OpKind::NumPrograms:
    case OpKind::Reshape:
    case OpKind::Permute:
    case OpKind::Load:
    case OpKind::Store:
    case OpKind::Reduce:
    case OpKind::Scan:
    case OpKind::Dot:
    case OpKind::AtomicRMW:
    case OpKind::AtomicCAS:
    case OpKind::Assert:
    case OpKind::For:
    case OpKind::If:
    case OpKind::While:
    case OpKind::Yield:
    case OpKind::Condition: break;
  }
  fail(op, "internal: rematerialized a value that is not an index chain");
  return "0";
}

void CudaGen::emit_broadcast(const Op& op) {
  const Value *src = op.operands[0], *dst = op.result();
  if (!src->type.is_tile()) {
    define(dst, [&] { return name(src); });
    return;
  }
  Layout ls = layout(src), ld = layout(dst);
  if (ls.kind == gpu::LayoutKind::Slice && ld.kind == gpu::LayoutKind::Mma) {
    // Each mma register reads the row value its thread already holds.
    define(dst, [&] { return name(src) + "[" + gpu::slice_reg_expr(ld.mma, ld.frag_i("i"), ld.frag_j("i")) + "]"; });
    return;
  }
  if (m_.remat.count(&op)) {
    define(dst, [&] { return remat(src, broadcast_coords(src->type, elem_coords(ld, dst->type.shape, "i"))); }, true);
    return;
  }
  std::vector<int64_t> ds = dst->type.shape, ss = src->type.shape, dst_st = strides(ds), src_st = strides(ss);
  auto index = [=](int64_t e) {
    int64_t s = 0;
    for (size_t d = 0; d < ds.size(); ++d)
      if (ss[d] != 1) s += (e / dst_st[d]) % ds[d] * src_st[d];
    return s;
  };
  auto expr = [=](const std::string& e) {
    std::string s;
    for (size_t d = 0; d < ds.size(); ++d)
      if (ss[d] != 1) s += (s.empty() ? "" : " + ") + ("(" + e + " / " + std::to_string(dst_st[d]) + ") % " + std::to_string(ds[d]) + " * " + std::to_string(src_st[d]));
    return s.empty() ? std::string("0") : s;
  };
  if (src->type.numel() == dst->type.numel()) {
    define(dst, [&] { return el(src); });
    return;
  }
  remap(src, dst, index, expr);
}

void CudaGen::emit_permute(const Op& op) {
  const Value *src = op.operands[0], *dst = op.result();
  std::vector<int64_t> ds = dst->type.shape, order = op.ints, src_st = strides(src->type.shape), dst_st = strides(ds);
  if (order.size() != ds.size()) {
    fail(op, "permute order does not match the rank");
    return;
  }
  auto index = [=](int64_t e) {
    int64_t s = 0;
    for (size_t d = 0; d < ds.size(); ++d) s += (e / dst_st[d]) % ds[d] * src_st[order[d]];
    return s;
  };
  auto expr = [=](const std::string& e) {
    std::string s;
    for (size_t d = 0; d < ds.size(); ++d)
      s += (s.empty() ? "" : " + ") + ("(" + e + " / " + std::to_string(dst_st[d]) + ") % " + std::to_string(ds[d]) + " * " + std::to_string(src_st[order[d]]));
    return s;
  };
  remap(src, dst, index, expr);
}

// Same element count and order: the same registers, except a one-element tile that becomes a
// scalar, which thread 0 alone holds.
void CudaGen::emit_same_order(const Op& op) {
  const Value *src = op.operands[0], *dst = op.result();
  if (src->type.is_tile() && !dst->type.is_tile()) {
    remap(src, dst, [](int64_t) { return 0; }, [](const std::string&) { return std::string("0"); });
    return;
  }
  define(dst, [&] { return el(src); });
}

// ---- layout conversions --------------------------------------------------------------------
// Prints `body` with every operand of `op` in the layout operand_layout asks for, converting
// those that are in another one into temporaries for the duration.
void CudaGen::with_operands_converted(const Op& op, const std::function<void()>& body) {
  struct Saved {
    const Value* v;
    std::string name;
    std::optional<gpu::Layout> layout;
  };
  std::vector<Saved> saved;
  for (size_t i = 0; i < op.operands.size(); ++i) {
    const Value* v = op.operands[i];
    std::optional<gpu::Layout> want = gpu::operand_layout(m_, op, i);
    if (!want || *want == current_layout(v)) continue;
    auto it = converted_.find(v);
    saved.push_back({v, name(v), it == converted_.end() ? std::nullopt : std::optional<gpu::Layout>(it->second)});
    std::string n = convert(v, *want);
    names_[v] = n;
    converted_[v] = *want;
  }
  body();
  for (auto it = saved.rbegin(); it != saved.rend(); ++it) {
    names_[it->v] = it->name;
    if (it->layout) converted_[it->v] = *it->layout;
    else converted_.erase(it->v);
  }
}

gpu::Layout CudaGen::current_layout(const Value* v) const {
  auto it = converted_.find(v);
  return it != converted_.end() ? it->second : m_.layout(v);
}

// Fills `dst` (layout `lw`) from the row-major [rows][cols] tile in `buf`, whose rows are padded by
// 16 bytes; each V-group of a blocked layout is one aligned vector read.
void CudaGen::read_padded_rows(const std::string& dst, const Layout& lw, const std::string& t, int64_t es, const std::string& buf,
                               int64_t cols) {
  std::string N = std::to_string(cols), LD = std::to_string(cols + 16 / es);
  auto at = [&](const std::string& e) { return "(" + e + ") / " + N + " * " + LD + " + (" + e + ") % " + N; };
  int64_t pack = std::min<int64_t>(lw.v, 16 / es);
  if (lw.blocked() && !lw.guard && pack >= 2 && cols % lw.v == 0) {
    std::string pt = "tc_pack<" + t + ", " + std::to_string(pack) + ">";
    unroll(lw.regs / pack, "g");
    line("const int e = " + lw.elem("g * " + std::to_string(pack)) + ";");
    line("const " + pt + " p = *reinterpret_cast<const " + pt + "*>(&" + buf + "[" + at("e") + "]);");
    unroll(pack, "j");
    line(dst + "[g * " + std::to_string(pack) + " + j] = p.v[j];");
    close();
    close();
  } else if (lw.kind == gpu::LayoutKind::Mma) {
    unroll(lw.regs);
    std::vector<std::string> c = elem_coords(lw, {lw.n / cols, cols}, "i");
    line(dst + "[i] = " + buf + "[" + c[0] + " * " + LD + " + " + c[1] + "];");
    close();
  } else {
    unroll(lw.regs);
    line("const int e = " + lw.elem("i") + ";");
    line(std::string(lw.guard ? "if (e < " + std::to_string(lw.n) + ") " : "") + dst + "[i] = " + buf + "[" + at("e") + "];");
    close();
  }
}

// `v` in layout `want`, in a new register array: recomputed there when it is an index chain,
// else exchanged through shared memory.
std::string CudaGen::convert(const Value* v, const gpu::Layout& want) {
  std::string n = name(v) + "_cvt" + std::to_string(tmp_counter_++);
  Layout ls = layout(v), lw(want, v->type.numel(), threads_);
  gpu::ConvertKind kind = gpu::convert_kind(v);
  line("// convert_layout " + name(v) + ": " + current_layout(v).str() + " -> " + want.str() + " (" + gpu::convert_kind_name(kind) + ")");
  line(ctype(v->type) + " " + n + "[" + std::to_string(lw.regs) + "];");
  if (kind == gpu::ConvertKind::Remat) {
    unroll(lw.regs);
    line("const int e = " + lw.elem("i") + ";");
    line(std::string(lw.guard ? "if (e < " + std::to_string(lw.n) + ") " : "") + n + "[i] = " + remat(v, elem_coords(lw, v->type.shape, "i")) + ";");
    close();
    return n;
  }
  // A 2-D tile leaving or entering an mma layout goes through rows padded by 16 bytes: the eight rows
  // a warp's fragments touch at once then fall in distinct banks, and each blocked V-group stays
  // one aligned vector.
  const std::vector<int64_t>& shape = v->type.shape;
  int64_t es = v->type.is_ptr ? 8 : dtype_bytes(v->type.dtype);
  bool padded = shape.size() == 2 && (ls.kind == gpu::LayoutKind::Mma || lw.kind == gpu::LayoutKind::Mma) && es <= 16 &&
                (shape[1] * es) % 16 == 0;
  if (!padded) {
    exchange_begin(v, ls);
    unroll(lw.regs);
    line("const int e = " + lw.elem("i") + ";");
    line(std::string(lw.guard ? "if (e < " + std::to_string(lw.n) + ") " : "") + n + "[i] = xs[e];");
    close();
    line("__syncthreads();");
    close();
    return n;
  }
  std::string t = ctype(v->type), N = std::to_string(shape[1]), LD = std::to_string(shape[1] + 16 / es);
  auto at = [&](const std::string& e) { return "(" + e + ") / " + N + " * " + LD + " + (" + e + ") % " + N; };
  need_smem(shape[0] * (shape[1] + 16 / es) * es);
  open("");
  line(t + "* xs = reinterpret_cast<" + t + "*>(smem);");
  if (ls.kind == gpu::LayoutKind::Mma) {
    // Registers 2g and 2g + 1 of a fragment hold columns 2c and 2c + 1 of one row: one paired store.
    std::string pt = "tc_pack<" + t + ", 2>";
    unroll(ls.regs / 2, "g");
    std::vector<std::string> c = elem_coords(ls, shape, "g * 2");
    line("*reinterpret_cast<" + pt + "*>(&xs[" + c[0] + " * " + LD + " + " + c[1] + "]) = " + pt + "{{" + name(v) + "[g * 2], " + name(v) +
         "[g * 2 + 1]}};");
  } else {
    unroll(ls.regs);
    line("const int e = " + ls.elem("i") + ";");
    line(std::string(ls.guard ? "if (e < " + std::to_string(ls.n) + ") " : "") + "xs[" + at("e") + "] = " + name(v) + "[i];");
  }
  close();
  line("__syncthreads();");
  read_padded_rows(n, lw, t, es, "xs", shape[1]);
  line("__syncthreads();");
  close();
  return n;
}

}  // namespace tilec::cuda_gen
