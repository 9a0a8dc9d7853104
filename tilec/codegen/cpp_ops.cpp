// Input: elementwise, broadcast, permute, print and memory ops of tile IR. Output: their C++: Lazy (fused)
// expressions with Vec<T, W> forms where the types allow, index loops, masked loads and stores, atomics.
#include "tilec/codegen/cpp_gen.h"

namespace tilec::cpp_gen {

// tl.device_print: each element once, in row-major order, in the GPU's format (device_print.h).
void CppGen::print(const Op* op) {
  if (op->operands.empty()) line("std::printf(" + quote(device_print_line(*op, 0).format) + ", pid0, pid1, pid2);");
  for (size_t k = 0; k < op->operands.size(); ++k) {
    const Value* v = op->operands[k];
    PrintLine pl = device_print_line(*op, k);
    DType t = v->type.dtype;
    std::string x = elem(v, "i"), value;
    switch (pl.value) {
      case PrintValue::Signed: value = "static_cast<long long>(" + x + ")"; break;
      case PrintValue::Unsigned: value = "static_cast<unsigned long long>(" + x + ")"; break;
      case PrintValue::Float:
        value = is_narrow_float(t) ? "static_cast<double>(static_cast<float>(" + x + "))" : "static_cast<double>(" + x + ")";
        break;
      case PrintValue::Bits: value = "tilec_rt::print_bits(" + x + ")"; break;
    }
    std::string idx;
    int64_t stride = v->type.numel();
    for (int64_t d : v->type.shape) {
      stride /= d;
      idx += ", static_cast<int>((i / " + num(stride) + ") % " + num(d) + ")";
    }
    std::string call = "std::printf(" + quote(pl.format) + ", pid0, pid1, pid2" + idx + ", " + value + ");";
    if (v->type.is_tile()) line("for (int64_t i = 0; i < " + num(v->type.numel()) + "; ++i) " + call);
    else line("{ const int i = 0; (void)i; " + call + " }");
  }
  line("std::fflush(stdout);");
}

std::string CppGen::quote(const std::string& s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    if (c == '\n') { r += "\\n"; continue; }
    r += c;
  }
  return r + "\"";
}

// Replaces %0, %1, %2 by the operands' elements at `idx`.
std::string CppGen::subst(const std::string& pat, const Op* op, const std::string& idx) {
  std::string r;
  for (size_t i = 0; i < pat.size(); ++i) {
    if (pat[i] == '%' && i + 1 < pat.size() && std::isdigit(static_cast<unsigned char>(pat[i + 1]))) {
      size_t k = static_cast<size_t>(pat[++i] - '0');
      r += k < op->operands.size() ? elem(op->operands[k], idx) : "0";
    } else {
      r += pat[i];
    }
  }
  return r;
}

void CppGen::scalar_def(const Value* r, const std::string& expr) {
  line(elem_ctype(r->type) + " const " + vname(r) + " = " + expr + ";");
  info_[r] = Info{Kind::Scalar, vname(r), 0, "", Affine::Uniform};
}

// A scalar-only elementwise op; on Uniform operands the result stays Uniform (no array).
void CppGen::unary_like(const Op* op, const std::string& pat, Affine a, bool heavy) {
  Value* r = op->result();
  if (!r->type.is_tile()) return scalar_def(r, subst(pat, op, "0"));
  if (all_uniform(op)) {
    std::string n = vname(r) + "_s";
    line(elem_ctype(r->type) + " const " + n + " = " + subst(pat, op, "0") + ";");
    info_[r] = Info{Kind::Uniform, n, 0, "", Affine::Uniform};
    return;
  }
  define_lazy(op, a, [=, this](const std::string& i) { return subst(pat, op, i); },
              [](const std::string&, DType) -> std::optional<std::string> { return std::nullopt; }, heavy);
}

// A binary vector form: `a op b` for one-character operators, `op(a, b)` otherwise.
std::function<std::optional<std::string>(const std::string&, DType)> CppGen::vec_binary(const Op* op, const std::string& vop, const std::string& pre,
                                                                                        const std::string& post) {
  DType t = op->operands[0]->type.dtype;
  return [=, this](const std::string& i, DType) -> std::optional<std::string> {
    if (vop.empty()) return std::nullopt;
    auto x = vexpr(op->operands[0], i, t), y = vexpr(op->operands[1], i, t);
    if (!x || !y) return std::nullopt;
    return pre + (vop.size() == 1 ? "(" + *x + " " + vop + " " + *y + ")" : vop + "(" + *x + ", " + *y + ")") + post;
  };
}

void CppGen::binary(const Op* op) {
  Value* r = op->result();
  DType t = r->type.dtype;
  bool fl = is_float(t);
  std::string pat, vop;
  switch (op->binary) {
    case BinaryKind::Add: pat = "(%0 + %1)"; vop = "+"; break;
    case BinaryKind::Sub: pat = "(%0 - %1)"; vop = "-"; break;
    case BinaryKind::Mul: pat = "(%0 * %1)"; vop = "*"; break;
    case BinaryKind::Div: pat = "tilec_rt::div_(%0, %1)"; if (fl) { pat = "(%0 / %1)"; vop = "/"; } break;
    case BinaryKind::Rem: pat = "tilec_rt::rem_(%0, %1)"; break;
    case BinaryKind::Shl: pat = "tilec_rt::shl_(%0, %1)"; break;
    case BinaryKind::Shr: pat = "tilec_rt::shr_(%0, %1)"; break;
    case BinaryKind::And: pat = "(%0 & %1)"; break;
    case BinaryKind::Or: pat = "(%0 | %1)"; break;
    case BinaryKind::Xor: pat = "(%0 ^ %1)"; break;
    case BinaryKind::Max: pat = "tilec_rt::max_(%0, %1)"; vop = "max"; break;
    case BinaryKind::Min: pat = "tilec_rt::min_(%0, %1)"; vop = "min"; break;
  }
  if (is_narrow_float(t)) {
    // Narrow float (fp8/fp16/bf16) arithmetic computes in float and rounds once on the store.
    pat = op->binary == BinaryKind::Rem ? "tilec_rt::rem_(float(%0), float(%1))" : pat;
    if (op->binary == BinaryKind::Add || op->binary == BinaryKind::Sub || op->binary == BinaryKind::Mul || op->binary == BinaryKind::Div) {
      std::string o = pat.substr(4, 1);
      pat = "(float(%0) " + o + " float(%1))";
    }
    if (op->binary == BinaryKind::Max) pat = "tilec_rt::max_(float(%0), float(%1))";
    if (op->binary == BinaryKind::Min) pat = "tilec_rt::min_(float(%0), float(%1))";
  } else if (is_int(t) && dtype_bits(t) < 32) {
    // C++ promotes narrow integers to int inside fused expressions; the helpers (and logical
    // shifts of unsigned types) need the operands back in the op's own type.
    std::string cast = std::string("static_cast<") + ctype(t) + ">(";
    std::string typed;
    for (size_t k = 0; k < pat.size(); ++k) {
      if (pat[k] == '%' && k + 1 < pat.size() && (pat[k + 1] == '0' || pat[k + 1] == '1')) {
        typed += cast + pat.substr(k, 2) + ")";
        ++k;
      } else {
        typed += pat[k];
      }
    }
    pat = typed;
  }
  Affine a0 = op->operands[0]->type.is_tile() ? affine_of(op->operands[0]) : Affine::Uniform;
  Affine a1 = op->operands[1]->type.is_tile() ? affine_of(op->operands[1]) : Affine::Uniform;
  Affine a = Affine::None;
  if (a0 == Affine::Uniform && a1 == Affine::Uniform) a = Affine::Uniform;
  else if (is_int(t) && op->binary == BinaryKind::Add && ((a0 == Affine::Contig && a1 == Affine::Uniform) || (a0 == Affine::Uniform && a1 == Affine::Contig))) a = Affine::Contig;
  else if (is_int(t) && op->binary == BinaryKind::Sub && a0 == Affine::Contig && a1 == Affine::Uniform) a = Affine::Contig;
  // offs[None, :] * stride with stride specialized to 1 (Triton's row-major tiles) stays contiguous.
  else if (is_int(t) && op->binary == BinaryKind::Mul && ((a0 == Affine::Contig && is_one(op->operands[1])) || (is_one(op->operands[0]) && a1 == Affine::Contig))) a = Affine::Contig;
  bool heavy = op->binary == BinaryKind::Div || op->binary == BinaryKind::Rem;
  if (!r->type.is_tile() || all_uniform(op)) return unary_like(op, pat, a);
  if (t == DType::I1) return mask_binary(op, pat, a);
  if (!vectorizable(t)) vop.clear();
  define_lazy(op, a, [=, this](const std::string& i) { return subst(pat, op, i); }, vec_binary(op, vop), heavy);
}

// &, |, ^ of i1 tiles: in vector form both masks are built in the consumer's lane type and
// combined there (tilec_rt::mask_and ...), so a masked 2-D load or store stays vectorized.
void CppGen::mask_binary(const Op* op, const std::string& pat, Affine a) {
  std::string fn;  // empty: arithmetic on i1 keeps the scalar form
  switch (op->binary) {
    case BinaryKind::And: fn = "tilec_rt::mask_and"; break;
    case BinaryKind::Or: fn = "tilec_rt::mask_or"; break;
    case BinaryKind::Xor: fn = "tilec_rt::mask_xor"; break;
    case BinaryKind::Add:
    case BinaryKind::Sub:
    case BinaryKind::Mul:
    case BinaryKind::Div:
    case BinaryKind::Rem:
    case BinaryKind::Shl:
    case BinaryKind::Shr:
    case BinaryKind::Max:
    case BinaryKind::Min: break;
  }
  define_lazy(op, a, [=, this](const std::string& i) { return subst(pat, op, i); },
              [=, this](const std::string& i, DType as) -> std::optional<std::string> {
                if (fn.empty()) return std::nullopt;
                auto x = vexpr(op->operands[0], i, as), y = vexpr(op->operands[1], i, as);
                if (!x || !y) return std::nullopt;
                return fn + "(" + *x + ", " + *y + ")";
              }, false);
}

void CppGen::compare(const Op* op) {
  Value* r = op->result();
  const char* sym = "==";
  const char* vf = "cmp_eq";
  switch (op->cmp) {
    case CmpKind::Eq: sym = "=="; vf = "cmp_eq"; break;
    case CmpKind::Ne: sym = "!="; vf = "cmp_ne"; break;
    case CmpKind::Lt: sym = "<"; vf = "cmp_lt"; break;
    case CmpKind::Le: sym = "<="; vf = "cmp_le"; break;
    case CmpKind::Gt: sym = ">"; vf = "cmp_gt"; break;
    case CmpKind::Ge: sym = ">="; vf = "cmp_ge"; break;
  }
  std::string pat = std::string("(%0 ") + sym + " %1)";
  DType t = op->operands[0]->type.dtype;
  if (!r->type.is_tile() || all_uniform(op)) return unary_like(op, pat, all_uniform(op) ? Affine::Uniform : Affine::None);
  // The mask comes out in the operands' lane type; a consumer of another lane type converts it.
  std::string fn = vectorizable(t) && !op->operands[0]->type.is_ptr ? vf : "";
  auto cmp = vec_binary(op, fn);
  define_lazy(op, Affine::None, [=, this](const std::string& i) { return subst(pat, op, i); },
              [=](const std::string& i, DType as) -> std::optional<std::string> {
                auto m = cmp(i, t);
                if (!m || !vectorizable(as)) return std::nullopt;
                return as == t ? *m : "tilec_rt::mask_as<" + vec_w(as) + ">(" + *m + ")";
              }, false);
}

void CppGen::unary(const Op* op) {
  Value* r = op->result();
  DType t = r->type.dtype;
  std::string pat, vec;
  switch (op->unary) {
    case UnaryKind::Neg: pat = is_float(t) ? "static_cast<" + std::string(ctype(t)) + ">(-%0)" : "static_cast<" + std::string(ctype(t)) + ">(0 - %0)"; break;
    case UnaryKind::Not: pat = t == DType::I1 ? "static_cast<uint8_t>(!%0)" : "static_cast<" + std::string(ctype(t)) + ">(~%0)"; break;
    case UnaryKind::Exp: pat = "tilec_rt::exp_(%0)"; vec = "tilec_rt::exp"; break;
    case UnaryKind::Exp2: pat = "tilec_rt::exp2_(%0)"; vec = "tilec_rt::exp2"; break;
    case UnaryKind::Log: pat = "tilec_rt::log_(%0)"; vec = "tilec_rt::log"; break;
    case UnaryKind::Log2: pat = "tilec_rt::log2_(%0)"; vec = "tilec_rt::log2"; break;
    case UnaryKind::Sqrt: pat = "tilec_rt::sqrt_(%0)"; vec = "tilec_rt::sqrt"; break;
    case UnaryKind::Rsqrt: pat = "tilec_rt::rsqrt_(%0)"; vec = "tilec_rt::rsqrt"; break;
    case UnaryKind::Abs: pat = "tilec_rt::abs_(%0)"; break;
    case UnaryKind::Sin: pat = "tilec_rt::sin_(%0)"; vec = "tilec_rt::sin"; break;
    case UnaryKind::Cos: pat = "tilec_rt::cos_(%0)"; vec = "tilec_rt::cos"; break;
    case UnaryKind::Erf: pat = "tilec_rt::erf_(%0)"; break;
    case UnaryKind::Floor: pat = "tilec_rt::floor_(%0)"; break;
    case UnaryKind::Ceil: pat = "tilec_rt::ceil_(%0)"; break;
  }
  Affine a = affine_of(op->operands[0]) == Affine::Uniform ? Affine::Uniform : Affine::None;
  bool heavy = !(op->unary == UnaryKind::Neg || op->unary == UnaryKind::Not || op->unary == UnaryKind::Abs);
  if (!r->type.is_tile() || all_uniform(op)) return unary_like(op, pat, a);
  if (t != DType::F32) vec.clear();
  define_lazy(op, a, [=, this](const std::string& i) { return subst(pat, op, i); },
              [=, this](const std::string& i, DType) -> std::optional<std::string> {
                auto x = vexpr(op->operands[0], i, t);
                if (!x || vec.empty()) return std::nullopt;
                return vec + "(" + *x + ")";
              }, heavy);
}

// True when v is the integer constant 1 (a stride specialized to 1).
bool CppGen::is_one(const Value* v) {
  return v->def && v->def->kind == OpKind::Constant && is_int(v->type.dtype) && dtype_bits(v->type.dtype) >= 32 && v->def->ival == 1;
}

// Nested loops over a result of `shape`, with the flat source index from per-dim strides.
void CppGen::index_loops(const std::vector<int64_t>& shape, const std::vector<int64_t>& src_strides, const std::string& body_prefix,
                         const Value* src) {
  size_t rank = shape.size();
  std::string dst_idx, src_idx;
  int64_t stride = 1;
  std::vector<int64_t> dst_strides(rank);
  for (size_t k = rank; k-- > 0;) {
    dst_strides[k] = stride;
    stride *= shape[k];
  }
  for (size_t k = 0; k < rank; ++k) {
    std::string i = "i" + std::to_string(k);
    line(std::string(k * 2, ' ') + "for (int " + i + " = 0; " + i + " < " + num(shape[k]) + "; ++" + i + ")");
    dst_idx += (k ? " + " : "") + i + " * " + num(dst_strides[k]);
    if (src_strides[k]) src_idx += (src_idx.empty() ? "" : " + ") + i + " * " + num(src_strides[k]);
  }
  if (src_idx.empty()) src_idx = "0";
  line(std::string(rank * 2, ' ') + body_prefix + "[" + dst_idx + "] = " + elem(src, src_idx) + ";");
}

// Lazy: element i of the result is element src(i) of the source, with the flat source index
// computed from i. A materialized broadcast cost a matmul's K loop a BM x BK (and BK x BN) array of
// offsets re-read with every vector of its tile copies: 96 KB of index loads per K block, which
// evicted the packed tiles from L1 (the hottest loads of a 1024^3 fp32 matmul's profile).
void CppGen::broadcast(const Op* op) {
  Value* r = op->result();
  const Value* s = op->operands[0];
  const Info& si = info(s);
  if (si.kind == Kind::Uniform || si.kind == Kind::Scalar) {
    info_[r] = Info{Kind::Uniform, si.name, 0, "", Affine::Uniform};
    return;
  }
  if (si.kind == Kind::Lazy && si.heavy) materialize(s);  // read many times below
  const auto& ss = s->type.shape;
  const auto& rs = r->type.shape;
  Affine a = ss.back() == 1 ? Affine::Uniform : affine_of(s);
  // src(i) = sum over the kept dims k of ((i / inner_k) % rs[k]) * stride_k (the source's row-major
  // stride); the outermost dim needs no %, the innermost no /.
  auto src_index = [ss, rs](const std::string& idx) {
    std::string e;
    int64_t inner = 1, sst = 1;
    for (size_t k = rs.size(); k-- > 0;) {
      if (ss[k] != 1) {
        std::string t = inner == 1 ? "(" + idx + ")" : "((" + idx + ") / " + num(inner) + ")";
        if (k > 0) t = "(" + t + " % " + num(rs[k]) + ")";
        if (sst != 1) t += " * " + num(sst);
        e = e.empty() ? t : t + " + " + e;
      }
      inner *= rs[k];
      sst *= ss[k];
    }
    return e.empty() ? std::string("0") : "(" + e + ")";
  };
  int64_t src_numel = s->type.numel();
  define_lazy(op, a, [=, this](const std::string& i) { return elem(s, src_index(i)); },
              [=, this](const std::string& i, DType as) -> std::optional<std::string> {
                // W lanes inside one row of the result: the source's element (broadcast last dim)
                // or its W contiguous elements (kept last dim). A vector at any offset (edge_)
                // may cross rows, so only a one-element source has that form.
                if (edge_ && src_numel != 1) return std::nullopt;
                DType t = s->type.dtype;
                if (src_numel != 1) vconds_.push_back(num(rs.back()) + " % W == 0");
                if (ss.back() != 1) return vexpr(s, src_index(i), as);
                std::string e = elem(s, src_index(i));
                if (t == DType::I1) return vectorizable(as) ? std::optional<std::string>("tilec_rt::mask_splat<" + vec_w(as) + ">(" + e + ")") : std::nullopt;
                if (!vectorizable(t)) return std::nullopt;
                return vec_w(t) + "::broadcast(" + e + ")";
              }, false);
}

void CppGen::permute(const Op* op) {
  Value* r = op->result();
  const Value* s = op->operands[0];
  const Info& si = info(s);
  if (si.kind == Kind::Uniform) {
    info_[r] = si;
    return;
  }
  if (si.kind == Kind::Lazy && si.heavy) materialize(s);
  std::string n = declare_array(r);
  const auto& ss = s->type.shape;
  std::vector<int64_t> sstr(ss.size());
  int64_t st = 1;
  for (size_t k = ss.size(); k-- > 0;) {
    sstr[k] = st;
    st *= ss[k];
  }
  std::vector<int64_t> strides;
  for (int64_t o : op->ints) strides.push_back(sstr.at(static_cast<size_t>(o)));
  index_loops(r->type.shape, strides, n, s);
}

// ---- Memory ----

// Contiguous rows (the pointer tile is row_start + j along the last dim): W lanes are one vector
// load or store at the first lane's address, masked lanes through masked vector instructions
// (which do not touch memory). A flat index stays in one row for 1-D tiles, or when W divides
// the row length. Pointers contiguous only in aligned runs (AxisAnalysis: `(start + arange) % N`
// with N a multiple of 16, `1 * arange`) qualify when W divides the run.
std::optional<std::string> CppGen::contig_address(const Value* p, const std::string& idx) {
  if (!p->type.is_tile()) return std::nullopt;
  if (edge_ && affine_of(p) != Affine::Contig) return std::nullopt;  // vectors at any offset need one run
  if (affine_of(p) != Affine::Contig) {
    int64_t run = axis_.get(p).contig;
    if (run < 2) return std::nullopt;
    vconds_.push_back(num(run) + " % W == 0");
  }
  if (p->type.shape.size() > 1) vconds_.push_back(num(p->type.shape.back()) + " % W == 0");
  return elem(p, idx);
}

void CppGen::load(const Op* op) {
  Value* r = op->result();
  const Value* p = op->operands[0];
  const Value* m = op->has_mask ? op->operands[1] : nullptr;
  const Value* o = op->has_other ? op->operands[2] : nullptr;
  DType t = r->type.dtype;
  std::string T = ctype(t);
  if (!r->type.is_tile()) {
    std::string e = m ? "(" + elem(m, "0") + " ? *" + elem(p, "0") + " : " + (o ? elem(o, "0") : T + "()") + ")" : "*" + elem(p, "0");
    return scalar_def(r, e);
  }
  define_lazy(op, Affine::None,
              [=, this](const std::string& i) {
                return m ? "(" + elem(m, i) + " ? *" + elem(p, i) + " : " + (o ? elem(o, i) : T + "()") + ")" : "*" + elem(p, i);
              },
              [=, this](const std::string& i, DType) -> std::optional<std::string> {
                if (!vectorizable(t)) return std::nullopt;
                auto addr = contig_address(p, i);
                if (!addr) return std::nullopt;
                if (!m || true_masks_.count(m)) {
                  if (edge_) return vec_w(t) + "::load_masked(" + *addr + ", " + edge_lanes(r, i, t) + ", " + vec_w(t) + "::broadcast(" + T + "()))";
                  return vec_w(t) + "::load(" + *addr + ")";
                }
                auto mv = vexpr(m, i, t);
                if (mv && edge_) mv = "tilec_rt::mask_and(" + *mv + ", " + edge_lanes(r, i, t) + ")";
                auto ov = o ? vexpr(o, i, t) : vec_w(t) + "::broadcast(" + T + "())";
                if (!mv || !ov) return std::nullopt;
                return vec_w(t) + "::load_masked(" + *addr + ", " + *mv + ", " + *ov + ")";
              },
              true);
}

// A scalar condition under which every lane of the mask m holds, where its form gives one: lanes
// of a broadcast, expand_dims or reshape are lanes of its source; a comparison of an index that
// grows by one per lane with a uniform bound holds on every lane when it holds on the first and
// the last (`offsets < n`, `offsets >= lo`); `&` of such masks; and a small mask (a K block's
// `offs_k[:, None] < K - k * BLOCK_K`) is checked lane by lane, once, instead of per element.
std::optional<std::string> CppGen::all_lanes_condition(const Value* m) {
  switch (info(m).kind) {
    case Kind::Scalar:
    case Kind::Uniform: return elem(m, "0");
    case Kind::Array:
    case Kind::Iota:
    case Kind::Lazy: break;
  }
  const Op* d = m->def;
  if (!d || !m->type.is_tile()) return std::nullopt;
  if (d->kind == OpKind::Broadcast || d->kind == OpKind::ExpandDims || d->kind == OpKind::Reshape) return all_lanes_condition(d->operands[0]);
  if (d->kind == OpKind::Binary && d->binary == BinaryKind::And) {
    auto a = all_lanes_condition(d->operands[0]), b = all_lanes_condition(d->operands[1]);
    if (!a || !b) return std::nullopt;
    return "(" + *a + " && " + *b + ")";
  }
  int64_t n = m->type.numel();
  bool monotone = false;
  if (d->kind == OpKind::Compare && is_int(d->operands[0]->type.dtype) && n == m->type.shape.back()) {
    Affine a = affine_of(d->operands[0]), b = affine_of(d->operands[1]);
    switch (d->cmp) {
      case CmpKind::Lt:
      case CmpKind::Le:
      case CmpKind::Gt:
      case CmpKind::Ge: monotone = (a == Affine::Contig && b == Affine::Uniform) || (a == Affine::Uniform && b == Affine::Contig); break;
      case CmpKind::Eq:
      case CmpKind::Ne: break;
    }
  }
  if (monotone) return "(" + elem(m, "0") + " && " + elem(m, num(n - 1)) + ")";
  if (n <= 256) return "[&] { for (int i = 0; i < " + num(n) + "; ++i) if (!(" + elem(m, "i") + ")) return false; return true; }()";
  return std::nullopt;
}

void CppGen::store(const Op* op) {
  const Value* p = op->operands[0];
  const Value* v = op->operands[1];
  const Value* m = op->has_mask ? op->operands[2] : nullptr;
  if (!p->type.is_tile()) {
    line((m ? "if (" + elem(m, "0") + ") " : std::string()) + "*" + elem(p, "0") + " = " + elem(v, "0") + ";");
    return;
  }
  DType t = v->type.dtype;
  std::string scalar = (m ? "if (" + elem(m, "i") + ") " : std::string()) + "*" + elem(p, "i") + " = " + elem(v, "i");
  vconds_.clear();
  bool vector = vectorizable(t) && contig_address(p, "i") && vexpr(v, "i", t) && (!m || vexpr(m, "i", t));
  if (!vector) {
    line("for (int i = 0; i < " + num(p->type.numel()) + "; ++i) " + scalar + ";");
    vconds_.clear();
    return;
  }
  vconds_.clear();  // each loop below collects its own
  auto value = [&](const std::string& i) { return *vexpr(v, i, t); };
  auto store = [&](const std::string& i, const std::string& vec) { return vec + ".store(" + *contig_address(p, i) + ")"; };
  auto store_masked = [&](const std::string& i, const std::string& vec) {
    return vec + ".store_masked(" + *contig_address(p, i) + ", " + *vexpr(m, i, t) + ")";
  };
  std::optional<std::string> whole = m ? all_lanes_condition(m) : std::nullopt;
  if (!m) {
    fused_loop(p->type.numel(), t, value, store, scalar);
  } else if (!whole) {
    fused_loop(p->type.numel(), t, value, store_masked, scalar);
  } else {
    // The whole tile in bounds (every program but the last, usually): no mask per vector; a 1-D
    // tile (one contiguous run) also aligned to the output.
    split_on_mask(m, *whole, [&] {
      std::optional<std::string> edge;
      if (p->type.numel() == p->type.shape.back() && affine_of(p) == Affine::Contig) {
        edge_ = true;
        edge = vexpr(v, "i", t);
        edge_ = false;
      }
      std::optional<AlignedStore> align;
      if (edge) align = AlignedStore{*edge + ".store_masked(" + *contig_address(p, "i") + ", " + edge_lanes(v, "i", t) + ")", *contig_address(p, "0")};
      fused_loop(p->type.numel(), t, value, store, scalar, align);
    }, [&] { fused_loop(p->type.numel(), t, value, store_masked, scalar); });
  }
  vconds_.clear();
}

void CppGen::atomic(const Op* op) {
  Value* r = op->result();
  std::string call;
  bool cas = op->kind == OpKind::AtomicCAS;
  if (cas) {
    call = "tilec_rt::atomic_cas(%0, %1, %2)";
  } else {
    switch (op->atomic) {
      case AtomicKind::Add: call = "tilec_rt::atomic_add(%0, %1)"; break;
      case AtomicKind::Max: call = "tilec_rt::atomic_max(%0, %1)"; break;
      case AtomicKind::Min: call = "tilec_rt::atomic_min(%0, %1)"; break;
      case AtomicKind::Xchg: call = "tilec_rt::atomic_xchg(%0, %1)"; break;
      case AtomicKind::And: call = "tilec_rt::atomic_and(%0, %1)"; break;
      case AtomicKind::Or: call = "tilec_rt::atomic_or(%0, %1)"; break;
      case AtomicKind::Xor: call = "tilec_rt::atomic_xor(%0, %1)"; break;
    }
  }
  if (r->type.dtype == DType::I1 || (dtype_bits(r->type.dtype) < 32 && r->type.dtype != DType::F16 && !(op->atomic == AtomicKind::Xchg && !cas))) {
    error(op, std::string("atomics on ") + dtype_name(r->type.dtype) + " are not supported");
    return;
  }
  std::string T = ctype(r->type.dtype);
  const Value* m = !cas && op->has_mask ? op->operands[2] : nullptr;
  if (!r->type.is_tile()) {
    std::string e = subst(call, op, "0");
    line(T + " " + vname(r) + " = " + T + "();");
    line((m ? "if (" + elem(m, "0") + ") " : std::string()) + vname(r) + " = " + e + ";");
    info_[r] = Info{Kind::Scalar, vname(r), 0, "", Affine::None};
    return;
  }
  std::string n = declare_array(r);
  // Masked-out lanes do not touch memory and read as zero.
  line("for (int i = 0; i < " + num(r->type.numel()) + "; ++i) " + n + "[i] = " + (m ? elem(m, "i") + " ? " : std::string()) +
       subst(call, op, "i") + (m ? " : " + T + "()" : std::string()) + ";");
}

}  // namespace tilec::cpp_gen
