// Input: elementwise, memory, reduction and scan ops of gpu-ir. Output: their CUDA C in the layouts the
// passes chose: expressions per register, 16-byte vector accesses, atomics, asserts, prints, inline asm.
#include "tilec/codegen/cuda_gen.h"

namespace tilec::cuda_gen {

// ---- elementwise --------------------------------------------------------------------------
std::string CudaGen::binary_expr(const Op& op, const std::string& a0, const std::string& b0) {
  DType t = op.result()->type.dtype;
  DType ct = compute_dtype(t);
  std::string a = to_compute(t, a0), b = to_compute(t, b0), r;
  bool f = is_float(t), dbl = t == DType::F64;
  switch (op.binary) {
    case BinaryKind::Add: r = a + " + " + b; break;
    case BinaryKind::Sub: r = a + " - " + b; break;
    case BinaryKind::Mul: r = a + " * " + b; break;
    // Tiles divide as Triton's fp32 `/` does, div.full.f32 (full range, within 2 ulp); a scalar
    // keeps the exact division: measured on the H200 (bench/ab_rmsnorm.py), RMSNorm's per-row
    // `1.0 / tl.sqrt(...)` ran 18% slower with div.full than with div.rn.
    case BinaryKind::Div:
      if (!f) r = "tc_idiv(" + a + ", " + b + ")";  // x / 0 == 0 as on the CPU
      else r = ct == DType::F32 && op.result()->type.is_tile() ? "tc_div_full(" + a + ", " + b + ")" : a + " / " + b;
      break;
    case BinaryKind::Rem: r = f ? (dbl ? "fmod(" : "fmodf(") + a + ", " + b + ")" : "tc_irem(" + a + ", " + b + ")"; break;
    case BinaryKind::Shl: r = a + " << " + b; break;
    case BinaryKind::Shr: r = a + " >> " + b; break;
    case BinaryKind::And: r = a + " & " + b; break;
    case BinaryKind::Or: r = a + " | " + b; break;
    case BinaryKind::Xor: r = a + " ^ " + b; break;
    case BinaryKind::Max: r = f ? (dbl ? "fmax(" : "fmaxf(") + a + ", " + b + ")" : "(" + a + " > " + b + " ? " + a + " : " + b + ")"; break;
    case BinaryKind::Min: r = f ? (dbl ? "fmin(" : "fminf(") + a + ", " + b + ")" : "(" + a + " < " + b + " ? " + a + " : " + b + ")"; break;
  }
  if (ct != t || t == DType::I1) return from_compute(t, "(" + r + ")");
  return r;
}

std::string CudaGen::unary_expr(const Op& op, const std::string& x0) {
  DType t = op.result()->type.dtype;
  bool f = is_float(t), dbl = t == DType::F64;
  std::string x = to_compute(t, x0), r;
  auto fn = [&](const char* name) { return std::string(name) + (dbl ? "" : "f") + "(" + x + ")"; };
  switch (op.unary) {
    case UnaryKind::Neg: r = "-" + x; break;
    case UnaryKind::Not: r = t == DType::I1 ? "!" + x0 : "~" + x; break;
    case UnaryKind::Exp: r = dbl ? "exp(" + x + ")" : "__expf(" + x + ")"; break;
    case UnaryKind::Exp2: r = dbl ? "exp2(" + x + ")" : "tc_exp2(" + x + ")"; break;
    case UnaryKind::Log: r = fn("log"); break;
    case UnaryKind::Log2: r = fn("log2"); break;
    case UnaryKind::Sqrt: r = fn("sqrt"); break;
    case UnaryKind::Rsqrt: r = dbl ? "rsqrt(" + x + ")" : "rsqrtf(" + x + ")"; break;
    case UnaryKind::Abs:
      r = f ? fn("fabs") : (is_unsigned(t) || t == DType::I1 ? x : "(" + x + " < 0 ? -" + x + " : " + x + ")");
      break;
    case UnaryKind::Sin: r = fn("sin"); break;
    case UnaryKind::Cos: r = fn("cos"); break;
    case UnaryKind::Erf: r = fn("erf"); break;
    case UnaryKind::Floor: r = f ? fn("floor") : x; break;
    case UnaryKind::Ceil: r = f ? fn("ceil") : x; break;
  }
  bool math = op.unary != UnaryKind::Neg && op.unary != UnaryKind::Not && op.unary != UnaryKind::Abs &&
              op.unary != UnaryKind::Floor && op.unary != UnaryKind::Ceil;
  if (math && !f) {
    fail(op, std::string("tl.") + unary_name(op.unary) + " needs a floating-point operand, got " + dtype_name(t));
    return x0;
  }
  if (op.unary == UnaryKind::Not && t == DType::I1) return r;
  return from_compute(t, "(" + r + ")");
}

std::string CudaGen::cmp_expr(const Op& op, const std::string& a0, const std::string& b0) {
  DType t = op.operands[0]->type.dtype;
  std::string a = op.operands[0]->type.is_ptr ? a0 : to_compute(t, a0), b = op.operands[0]->type.is_ptr ? b0 : to_compute(t, b0);
  const char* s = "==";
  switch (op.cmp) {
    case CmpKind::Eq: s = "=="; break;
    case CmpKind::Ne: s = "!="; break;
    case CmpKind::Lt: s = "<"; break;
    case CmpKind::Le: s = "<="; break;
    case CmpKind::Gt: s = ">"; break;
    case CmpKind::Ge: s = ">="; break;
  }
  return "(" + a + " " + s + " " + b + ")";
}

// ---- memory -------------------------------------------------------------------------------
// Elements per access and whether a thread's V-groups can move as aligned vectors under a
// group-uniform mask.
int64_t CudaGen::vector_pack(const Op& op, const Value* ptr, const Value* mask) {
  if (!ptr->type.is_tile()) return 0;
  Layout l = layout(ptr);
  if (!l.blocked()) return 0;
  int64_t es = dtype_bytes(ptr->type.dtype);
  int64_t pack = std::min<int64_t>(l.v, target_.vec_bytes / es);
  if (l.v < 2 || pack < 2 || l.guard || ptr->type.shape.back() % l.v != 0) return 0;
  AxisInfo p = axis_.get(ptr);
  if (p.contig < l.v || p.div < pack * es) return 0;
  if (mask && mask->type.is_tile() && axis_.get(mask).cnst < l.v) return 0;
  return pack;
}

// tl.load/tl.store cache_modifier=, eviction_policy=, volatile=: the tilec_cuda.h access that
// carries the op's PTX qualifiers (tc_ld_cg, tc_st_evict_first, ...); "" for a plain access.
std::string CudaGen::qualified_access(const Op& op) {
  std::string q = op.is_volatile                      ? "volatile"
                  : op.cache != CacheModifier::None ? cache_modifier_name(op.cache) + 1  // without the dot
                                                    : eviction_policy_name(op.evict);
  return q.empty() ? q : (op.kind == OpKind::Load ? "tc_ld_" : "tc_st_") + q;
}

std::string CudaGen::load_from(const Op& op, const std::string& addr) {
  std::string f = qualified_access(op);
  return f.empty() ? "*" + addr : f + "(" + addr + ")";
}

std::string CudaGen::store_to(const Op& op, const std::string& addr, const std::string& value) {
  std::string f = qualified_access(op);
  return f.empty() ? "*" + addr + " = " + value + ";" : f + "(" + addr + ", " + value + ");";
}

void CudaGen::emit_load(const Op& op) {
  const Value* ptr = op.operands[0];
  const Value* mask = op.has_mask ? op.operands[1] : nullptr;
  const Value* other = op.has_other ? op.operands[1 + op.has_mask] : nullptr;
  const Value* res = op.result();
  DType t = res->type.dtype;
  std::string zero = int_literal(t, 0);
  auto other_at = [&](const std::string& i) { return other ? el(other, i) : zero; };
  if (!res->type.is_tile()) {
    line(ctype(t) + " " + name(res) + " = " + (mask ? name(mask) + " ? " + load_from(op, name(ptr)) + " : " + other_at("") : load_from(op, name(ptr))) + ";");
    return;
  }
  Layout l = layout(res);
  declare(res);
  if (int64_t pack = vector_pack(op, ptr, mask)) {
    std::string pt = "tc_pack<" + ctype(t) + ", " + std::to_string(pack) + ">";
    line("// " + std::to_string(pack * dtype_bytes(t)) + "-byte vector loads (contiguous, aligned" + (mask ? ", mask uniform per group)" : ")"));
    unroll(l.iters, "k");
    if (mask) open("if (" + el(mask, "k * " + std::to_string(l.v)) + ")");
    unroll(l.v / pack, "q");
    line("const " + pt + " t = " + load_from(op, "reinterpret_cast<const " + pt + "*>(" + name(ptr) + "[k * " + std::to_string(l.v) + " + q * " + std::to_string(pack) + "])") + ";");
    unroll(pack, "j");
    line(name(res) + "[k * " + std::to_string(l.v) + " + q * " + std::to_string(pack) + " + j] = t.v[j];");
    close();
    close();
    if (mask) {
      close(" else {");
      ++indent_;
      unroll(l.v, "j");
      std::string s = "k * " + std::to_string(l.v) + " + j";
      line(name(res) + "[" + s + "] = " + other_at(s) + ";");
      close();
      close();
    }
    close();
    return;
  }
  unroll(l.regs);
  std::string cond = lane_condition(l, mask);
  line(name(res) + "[i] = " + (cond.empty() ? load_from(op, el(ptr)) : "(" + cond + ") ? " + load_from(op, el(ptr)) + " : " + other_at("i")) + ";");
  close();
}

// A descriptor load or store outside pipelines, as one TMA copy of the whole block through dense
// rows of scratch shared memory: a load's copy completes on an mbarrier before the threads read
// their elements; a store's threads write theirs, fence them for the async proxy, and one thread
// issues the copy and waits for it. TMA masks the edges (zero or NaN fill; unwritten on stores).
void CudaGen::emit_tma_access(const Op& op, int map) {
  bool load = op.kind == OpKind::Load;
  const Value* tile = load ? op.result() : op.operands[0];
  const Value* val = load ? op.result() : op.operands[1];
  DType t = tile->type.dtype;
  int64_t es = dtype_bytes(t), bytes = tile->type.numel() * es;
  need_smem(bytes + 128 + 16);
  Layout l = layout(tile);
  std::optional<DescAccess> d = desc_access(op);
  std::string coords;
  for (auto it = d->offsets.rbegin(); it != d->offsets.rend(); ++it) coords += ", " + name(*it);  // innermost first
  std::string tm = "&tm" + std::to_string(map);
  if (load) declare(val);
  open("");
  line("// TMA " + std::string(load ? "load" : "store") + " of the whole " + tile->type.str() + " block (tensor map " + std::to_string(map) + ")");
  line("const unsigned tma_buf = (tc_smem_addr(smem) + 127u) & ~127u, tma_bar = tma_buf + " + std::to_string(align16(bytes)) + "u;");
  line(std::string(load ? "const " : "") + ctype(t) + "* tma_elems = reinterpret_cast<" + (load ? "const " : "") + ctype(t) +
       "*>(smem + (tma_buf - tc_smem_addr(smem)));");
  int64_t pack = std::min<int64_t>(l.v, std::max<int64_t>(1, 16 / es));
  std::string pt = "tc_pack<" + ctype(t) + ", " + std::to_string(pack) + ">";
  std::string at = "k * " + std::to_string(l.threads * l.v) + " + tid * " + std::to_string(l.v) + " + q * " + std::to_string(pack);
  std::string slot = "k * " + std::to_string(l.v) + " + q * " + std::to_string(pack) + " + j";
  auto each_pack = [&](const std::function<void()>& body) {
    unroll(l.iters, "k");
    unroll(l.v / pack, "q");
    body();
    close();
    close();
  };
  if (load) {
    open("if (tid == 0)");
    line("tc_mbar_init(tma_bar, 1u);");
    line("tc_fence_mbar_init();");
    line("tc_mbar_expect_tx(tma_bar, " + std::to_string(bytes) + "u);");
    line("tc_tma_load(tma_buf, " + tm + ", tma_bar" + coords + ");");
    close();
    line("__syncthreads();  // the barrier is initialized before anyone waits on it");
    line("tc_mbar_wait(tma_bar, 0u);");
    each_pack([&] {
      line("const " + pt + " t = *reinterpret_cast<const " + pt + "*>(tma_elems + " + at + ");");
      unroll(pack, "j");
      line(name(val) + "[" + slot + "] = t.v[j];");
      close();
    });
    line("__syncthreads();  // every thread has read the block");
    line("if (tid == 0) tc_mbar_inval(tma_bar);");
  } else {
    line("__syncthreads();  // the scratch buffer is free");
    each_pack([&] {
      line(pt + " t;");
      unroll(pack, "j");
      line("t.v[j] = " + el(val, slot) + ";");
      close();
      line("*reinterpret_cast<" + pt + "*>(tma_elems + " + at + ") = t;");
    });
    line("tc_fence_proxy_async();");
    line("__syncthreads();");
    open("if (tid == 0)");
    line("tc_tma_store(" + tm + ", tma_buf" + coords + ");");
    line("tc_bulk_commit();");
    line("tc_bulk_wait_read();");
    close();
    line("__syncthreads();  // the copy has read the buffer");
  }
  close();
}

// Inside an unrolled register loop: the condition under which register i is a real, unmasked
// element (empty when every one is), declaring `e` when the tile has fewer elements than slots.
std::string CudaGen::lane_condition(const Layout& l, const Value* mask) {
  std::string cond;
  if (l.guard) {
    line("const int e = " + l.elem("i") + ";");
    cond = "e < " + std::to_string(l.n);
  }
  if (mask) cond += (cond.empty() ? "" : " && ") + el(mask);
  return cond;
}

void CudaGen::emit_store(const Op& op) {
  const Value *ptr = op.operands[0], *val = op.operands[1];
  const Value* mask = op.has_mask ? op.operands[2] : nullptr;
  DType t = ptr->type.dtype;
  if (!ptr->type.is_tile()) {
    line("if (tid == 0" + (mask ? " && " + name(mask) : std::string()) + ") " + store_to(op, name(ptr), name(val)));
    return;
  }
  Layout l = layout(ptr);
  if (int64_t pack = vector_pack(op, ptr, mask)) {
    std::string pt = "tc_pack<" + ctype(t) + ", " + std::to_string(pack) + ">";
    line("// " + std::to_string(pack * dtype_bytes(t)) + "-byte vector stores (contiguous, aligned" + (mask ? ", mask uniform per group)" : ")"));
    unroll(l.iters, "k");
    if (mask) open("if (" + el(mask, "k * " + std::to_string(l.v)) + ")");
    unroll(l.v / pack, "q");
    line(pt + " t;");
    unroll(pack, "j");
    line("t.v[j] = " + el(val, "k * " + std::to_string(l.v) + " + q * " + std::to_string(pack) + " + j") + ";");
    close();
    line(store_to(op, "reinterpret_cast<" + pt + "*>(" + name(ptr) + "[k * " + std::to_string(l.v) + " + q * " + std::to_string(pack) + "])", "t"));
    close();
    if (mask) close();
    close();
    return;
  }
  unroll(l.regs);
  std::string cond = lane_condition(l, mask);
  line((cond.empty() ? "" : "if (" + cond + ") ") + store_to(op, el(ptr), el(val)));
  close();
}

void CudaGen::emit_atomic(const Op& op) {
  const Value* ptr = op.operands[0];
  const Value* res = op.result();
  DType t = ptr->type.dtype;
  bool cas = op.kind == OpKind::AtomicCAS;
  bool wide = t == DType::I32 || t == DType::U32 || t == DType::I64 || t == DType::U64 || t == DType::F32 || t == DType::F64;
  std::string fn;
  if (cas) fn = "tc_atomic_cas";
  else switch (op.atomic) {
    case AtomicKind::Add: fn = "tc_atomic_add"; wide = wide || t == DType::F16 || (t == DType::BF16 && target_.arch >= 80); break;
    case AtomicKind::Max: fn = "tc_atomic_max"; break;
    case AtomicKind::Min: fn = "tc_atomic_min"; break;
    case AtomicKind::Xchg: fn = "tc_atomic_xchg"; break;
    case AtomicKind::And: fn = "tc_atomic_and"; break;
    case AtomicKind::Or: fn = "tc_atomic_or"; break;
    case AtomicKind::Xor: fn = "tc_atomic_xor"; break;
  }
  if (!wide) {
    fail(op, std::string(cas ? "atomic_cas" : std::string("atomic_") + atomic_name(op.atomic)) + " on " + dtype_name(t) + " is not supported");
    return;
  }
  const Value* mask = !cas && op.has_mask ? op.operands[2] : nullptr;
  auto call = [&](const std::string& i) {
    std::string args = el(ptr, i) + ", " + el(op.operands[1], i);
    if (cas) args += ", " + el(op.operands[2], i);
    return fn + "(" + args + ")";
  };
  std::string zero = int_literal(t, 0);
  // Triton's sem= as fences around the (relaxed) atomic: a release fence orders the accesses
  // before it, an acquire fence those after it. __threadfence* is fence.sc at its scope, at least
  // as strong as the atom.acq_rel Triton emits.
  std::string fence = op.scope == MemScope::Cta ? "__threadfence_block();" : op.scope == MemScope::Sys ? "__threadfence_system();" : "__threadfence();";
  bool fence_before = op.sem == MemSem::Release || op.sem == MemSem::AcqRel;
  bool fence_after = op.sem == MemSem::Acquire || op.sem == MemSem::AcqRel;
  if (!res->type.is_tile()) {
    // One thread performs a scalar atomic; its old value is broadcast to the program.
    need_smem(8);
    line(ctype(t) + " " + name(res) + ";");
    open("");
    line(ctype(t) + "* xs = reinterpret_cast<" + ctype(t) + "*>(smem);");
    if (fence_before) line(fence);
    line("if (tid == 0) xs[0] = " + (mask ? name(mask) + " ? " + call("") + " : " + zero : call("")) + ";");
    if (fence_after) line(fence);
    line("__syncthreads();");
    line(name(res) + " = xs[0];");
    line("__syncthreads();");
    close();
    return;
  }
  Layout l = layout(res);
  declare(res);
  if (fence_before) line(fence);
  unroll(l.regs);
  std::string cond = lane_condition(l, mask);
  line(name(res) + "[i] = " + (cond.empty() ? call("i") : "(" + cond + ") ? " + call("i") + " : " + zero) + ";");
  close();
  if (fence_after) line(fence);
}

// A failed check (debug mode's bounds checks, with operands cond, ptr, base, extent, and
// tl.device_assert) masks nothing itself: it records the first failure in the module's
// tc_failure, which the launcher reads after the kernel and raises as the launch's error, as the
// CPU backend does. No trap: the CUDA context stays usable.
void CudaGen::emit_assert(const Op& op) {
  const Value* c = op.operands[0];
  bool bounds = op.operands.size() == 4;
  std::string where = op.loc.file ? op.loc.file->path() + ":" + std::to_string(op.loc.line) : fn_.name;
  // The launcher's text for check k (tc_failure_text entry k): 'B' + message for a bounds check,
  // 'A' + where + '\x1f' + message for an assertion.
  int check = static_cast<int>(failure_texts_.size());
  failure_texts_.push_back(bounds ? "B" + op.str : "A" + where + "\x1f" + op.str);
  auto fail = [&](const std::string& i) {
    auto at = [&](const Value* v) { return v->type.is_tile() ? el(v, i) : name(v); };
    std::string offset = bounds ? "(long long)(" + at(op.operands[1]) + " - " + at(op.operands[2]) + ")" : "0LL";
    std::string extent = bounds ? "(long long)(" + at(op.operands[3]) + ")" : "-1LL";
    return "tc_fail(" + std::to_string(check) + ", " + offset + ", " + extent + ", " + (c->type.is_tile() ? "e" : "0") + ");";
  };
  if (!c->type.is_tile()) {
    line("if (!" + name(c) + ") " + fail(""));
    return;
  }
  Layout l = layout(c);
  unroll(l.regs);
  line("const int e = " + l.elem("i") + ";");
  line("if (" + std::string(l.guard ? "e < " + std::to_string(l.n) + " && " : "") + "!" + name(c) + "[i]) " + fail("i"));
  close();
}

// tl.device_print: each element once per program, printed by the thread that holds it (format:
// device_print.h); a scalar by thread 0.
void CudaGen::emit_print(const Op& op) {
  const std::string pid = "(int)blockIdx.x, (int)blockIdx.y, (int)blockIdx.z";
  if (op.operands.empty()) {
    line("if (tid == 0) printf(\"" + c_escape(device_print_line(op, 0).format, false) + "\", " + pid + ");");
    return;
  }
  for (size_t k = 0; k < op.operands.size(); ++k) {
    const Value* v = op.operands[k];
    PrintLine pl = device_print_line(op, k);
    std::string fmt = "\"" + c_escape(pl.format, false) + "\"";
    auto value = [&](const std::string& x) {
      DType t = v->type.dtype;
      switch (pl.value) {
        case PrintValue::Signed: return "(long long)(" + x + ")";
        case PrintValue::Unsigned: return "(unsigned long long)(" + x + ")";
        case PrintValue::Float: return is_narrow_float(t) ? "(double)(float)(" + x + ")" : "(double)(" + x + ")";
        case PrintValue::Bits: break;
      }
      return "tc_print_bits(" + x + ")";
    };
    if (!v->type.is_tile()) {
      line("if (tid == 0) printf(" + fmt + ", " + pid + ", " + value(name(v)) + ");");
      continue;
    }
    Layout l = layout(v);
    unroll(l.regs);
    line("const int e = " + l.elem("i") + ";");
    std::string idx;
    int64_t stride = v->type.numel();
    for (int64_t d : v->type.shape) {
      stride /= d;
      idx += ", (e / " + std::to_string(stride) + ") % " + std::to_string(d);
    }
    line((l.guard ? "if (e < " + std::to_string(l.n) + ") " : std::string()) + "printf(" + fmt + ", " + pid + idx + ", " + value(el(v)) + ");");
    close();
  }
}

// tl.inline_asm_elementwise: the PTX once per `pack` consecutive registers of the thread, with
// Triton's operand numbering ($0.. outputs, then inputs) and packing (elements narrower than
// 32 bits share a register, up to `pack` of them).
void CudaGen::emit_inline_asm(const Op& op) {
  std::string text;
  for (size_t i = 0; i < op.str.size(); ++i) {
    char c = op.str[i];
    if (c == '$' && i + 1 < op.str.size() && op.str[i + 1] == '$') text += '$', ++i;
    else if (c == '$') text += '%';
    else if (c == '%') text += "%%";
    else text += c;
  }
  std::vector<std::string> cons;
  for (size_t start = 0; start <= op.aux.size();) {
    size_t comma = op.aux.find(',', start);
    std::string c = op.aux.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!c.empty()) cons.push_back(c[0] == '=' ? c.substr(1) : c);
    start = comma == std::string::npos ? op.aux.size() + 1 : comma + 1;
  }
  const int64_t pack = op.ival;
  auto per_reg = [&](DType t) {
    int bits = dtype_bits(t);
    return bits < 32 ? std::min<int64_t>(32 / std::max(bits, 8), pack) : int64_t{1};
  };
  auto reg_type = [](const std::string& letter) -> std::string {
    if (letter == "l") return "unsigned long long";
    if (letter == "h" || letter == "c") return "unsigned short";
    if (letter == "f") return "float";
    if (letter == "d") return "double";
    return "unsigned";
  };
  const Value* r0 = op.results.at(0);
  for (const Value* r : op.results) {
    if (r->type.is_tile()) declare(r);
    else line(ctype(r->type) + " " + name(r) + ";");
  }
  if (r0->type.is_tile()) {
    Layout l = layout(r0);
    if (l.regs % pack) {
      fail(op, "inline_asm_elementwise pack=" + std::to_string(pack) + " does not divide the " + std::to_string(l.regs) +
                   " elements each thread holds; use a smaller pack or a larger tile");
      return;
    }
    line("#pragma unroll");
    open("for (int i0 = 0; i0 < " + std::to_string(l.regs) + "; i0 += " + std::to_string(pack) + ")");
  } else {
    open("");
    line("const int i0 = 0;");
  }
  size_t reg = 0;
  std::vector<std::string> outs, ins;
  auto at = [&](const Value* v, int64_t j) { return v->type.is_tile() ? name(v) + "[i0 + " + std::to_string(j) + "]" : name(v); };
  for (const Value* r : op.results) {
    int64_t per = per_reg(r->type.dtype);
    for (int64_t q = 0; q < pack / per; ++q, ++reg) {
      std::string rn = "asm_r" + std::to_string(reg), letter = reg < cons.size() ? cons[reg] : "r";
      line(reg_type(letter) + " " + rn + ";");
      outs.push_back("\"=" + std::string(letter == "c" ? "h" : letter) + "\"(" + rn + ")");
    }
  }
  for (const Value* v : op.operands) {
    int64_t per = per_reg(v->type.dtype);
    for (int64_t q = 0; q < pack / per; ++q, ++reg) {
      std::string rn = "asm_r" + std::to_string(reg), letter = reg < cons.size() ? cons[reg] : "r", elems;
      for (int64_t k = 0; k < per; ++k) elems += (k ? ", " : "") + at(v, q * per + k);
      line(reg_type(letter) + " " + rn + " = 0;");
      open("");
      line("const " + ctype(v->type.dtype) + " x[" + std::to_string(per) + "] = {" + elems + "};");
      line("memcpy(&" + rn + ", x, sizeof x);");
      close();
      ins.push_back("\"" + std::string(letter == "c" ? "h" : letter) + "\"(" + rn + ")");
    }
  }
  auto join = [](const std::vector<std::string>& xs) {
    std::string r;
    for (const std::string& x : xs) r += (r.empty() ? "" : ", ") + x;
    return r;
  };
  line(std::string(op.ints.at(0) ? "asm(" : "asm volatile(") + "\"" + c_escape(text, false) + "\" : " + join(outs) + " : " + join(ins) + ");");
  reg = 0;
  for (const Value* r : op.results) {
    int64_t per = per_reg(r->type.dtype);
    for (int64_t q = 0; q < pack / per; ++q, ++reg) {
      open("");
      line(ctype(r->type.dtype) + " x[" + std::to_string(per) + "];");
      line("memcpy(x, &asm_r" + std::to_string(reg) + ", sizeof x);");
      for (int64_t k = 0; k < per; ++k) line(at(r, q * per + k) + " = x[" + std::to_string(k) + "];");
      close();
    }
  }
  close();
}

// ---- reductions and scans -----------------------------------------------------------------
std::string CudaGen::combine(ReduceKind k, DType ct, const std::string& acc, const std::string& x) {
  bool f = is_float(ct), dbl = ct == DType::F64;
  switch (k) {
    case ReduceKind::Sum: return acc + " = " + acc + " + " + x + ";";
    case ReduceKind::Max: return acc + " = " + (f ? std::string(dbl ? "fmax(" : "fmaxf(") + acc + ", " + x + ")" : "(" + x + " > " + acc + " ? " + x + " : " + acc + ")") + ";";
    case ReduceKind::Min: return acc + " = " + (f ? std::string(dbl ? "fmin(" : "fminf(") + acc + ", " + x + ")" : "(" + x + " < " + acc + " ? " + x + " : " + acc + ")") + ";";
    case ReduceKind::ArgMax:
    case ReduceKind::ArgMin: break;
  }
  return "";
}

// Arg-reductions keep (value, index); ties go to the lower index.
std::string CudaGen::combine_arg(ReduceKind k, const std::string& acc, const std::string& idx, const std::string& x, const std::string& xi) {
  const char* better = k == ReduceKind::ArgMax ? ">" : "<";
  return "if (" + x + " " + better + " " + acc + " || (" + x + " == " + acc + " && " + xi + " < " + idx + ")) { " + acc + " = " + x +
         "; " + idx + " = " + xi + "; }";
}

std::string CudaGen::identity(ReduceKind k, DType ct) {
  switch (k) {
    case ReduceKind::Sum: return "static_cast<" + ctype(ct) + ">(0)";
    case ReduceKind::Max:
    case ReduceKind::ArgMax: return extreme(ct, false);
    case ReduceKind::Min:
    case ReduceKind::ArgMin: return extreme(ct, true);
  }
  return "0";
}

void CudaGen::emit_reduce(const Op& op) {
  const Value *src = op.operands[0], *res = op.result();
  DType t = src->type.dtype, ct = compute_dtype(t);
  std::string cts = ctype(ct);
  bool arg = op.reduce == ReduceKind::ArgMax || op.reduce == ReduceKind::ArgMin;
  if (!src->type.is_tile()) {
    define(res, [&] { return arg ? std::string("0") : name(src); });
    return;
  }
  if (layout(res).kind == gpu::LayoutKind::Slice) {
    emit_row_reduce(op);
    return;
  }
  std::vector<int64_t> shape = src->type.shape;
  int64_t len = shape.at(op.axis), inner = 1;
  for (size_t d = op.axis + 1; d < shape.size(); ++d) inner *= shape[d];
  std::string acc = name(res) + "_acc", idx = name(res) + "_idx";
  std::string result_expr = arg ? idx : from_compute(res->type.dtype, acc);
  if (!res->type.is_tile()) {
    // Whole-tile reduction: per-thread partial, warp butterfly, then across warps.
    Layout l = layout(src);
    line(cts + " " + acc + " = " + identity(op.reduce, ct) + ";");
    if (arg) line("int " + idx + " = 2147483647;");
    unroll(l.regs);
    line("const int e = " + l.elem("i") + ";");
    std::string x = to_compute(t, name(src) + "[i]");
    std::string step = arg ? combine_arg(op.reduce, acc, idx, x, "e") : combine(op.reduce, ct, acc, x);
    line(l.guard ? "if (e < " + std::to_string(l.n) + ") { " + step + " }" : step);
    close();
    unroll(5, "s");
    line("const " + cts + " o = __shfl_xor_sync(0xffffffffu, " + acc + ", 16 >> s);");
    if (arg) line("const int oi = __shfl_xor_sync(0xffffffffu, " + idx + ", 16 >> s);");
    line(arg ? combine_arg(op.reduce, acc, idx, "o", "oi") : combine(op.reduce, ct, acc, "o"));
    close();
    int w = m_.num_warps;
    if (w > 1) {
      int64_t vbytes = align16(w * 8);
      need_smem(vbytes + w * 4);
      open("");
      line(cts + "* xs = reinterpret_cast<" + cts + "*>(smem);");
      if (arg) line("int* xi = reinterpret_cast<int*>(smem + " + std::to_string(vbytes) + ");");
      line("if ((tid & 31) == 0) { xs[tid >> 5] = " + acc + ";" + (arg ? " xi[tid >> 5] = " + idx + ";" : "") + " }");
      line("__syncthreads();");
      line(acc + " = xs[0];");
      if (arg) line(idx + " = xi[0];");
      unroll(w - 1, "s");
      line(arg ? combine_arg(op.reduce, acc, idx, "xs[s + 1]", "xi[s + 1]") : combine(op.reduce, ct, acc, "xs[s + 1]"));
      close();
      line("__syncthreads();");
      close();
    }
    line(ctype(res->type) + " " + name(res) + " = " + result_expr + ";");
    return;
  }
  // Axis reduction: each thread reduces its own result elements from a shared-memory copy.
  Layout ls = layout(src), lr = layout(res);
  need_smem(ls.n * dtype_bytes(ct));
  declare(res);
  open("");
  line(cts + "* xs = reinterpret_cast<" + cts + "*>(smem);");
  unroll(ls.regs);
  line("const int e = " + ls.elem("i") + ";");
  line(std::string(ls.guard ? "if (e < " + std::to_string(ls.n) + ") " : "") + "xs[e] = " + to_compute(t, name(src) + "[i]") + ";");
  close();
  line("__syncthreads();");
  unroll(lr.regs, "r");
  line("const int e = " + lr.elem("r") + ";");
  // Threads past a small result own no element; reading for them would run past the copy.
  if (lr.guard) line("if (e >= " + std::to_string(lr.n) + ") continue;");
  line("const int base = (e / " + std::to_string(inner) + ") * " + std::to_string(len * inner) + " + e % " + std::to_string(inner) + ";");
  line(cts + " " + acc + " = " + identity(op.reduce, ct) + ";");
  if (arg) line("int " + idx + " = 2147483647;");
  open("for (int l = 0; l < " + std::to_string(len) + "; ++l)");
  line("const " + cts + " x = xs[base + l * " + std::to_string(inner) + "];");
  line(arg ? combine_arg(op.reduce, acc, idx, "x", "l") : combine(op.reduce, ct, acc, "x"));
  close();
  line(name(res) + "[r] = " + result_expr + ";");
  close();
  line("__syncthreads();");
  close();
}

// Row reduction of an mma tile into its slice: each thread combines its registers of a row,
// then the four lanes of a quad that share the row; warps side by side meet in shared memory.
void CudaGen::emit_row_reduce(const Op& op) {
  const Value *src = op.operands[0], *res = op.result();
  Layout ls = layout(src), lr = layout(res);
  if (ls.kind != gpu::LayoutKind::Mma) {
    fail(op, "internal: a row reduction into an mma slice of a tile that is not in the mma layout");
    return;
  }
  const MmaLayout& p = ls.mma;
  DType t = src->type.dtype, ct = compute_dtype(t);
  std::string cts = ctype(ct), acc = name(res) + "_acc", R = std::to_string(lr.regs);
  line(cts + " " + acc + "[" + R + "];");
  unroll(lr.regs, "r");
  line(acc + "[r] = " + identity(op.reduce, ct) + ";");
  close();
  unroll(ls.regs);
  line("const int r = " + gpu::slice_reg_expr(p, ls.frag_i("i"), ls.frag_j("i")) + ";");
  line(combine(op.reduce, ct, acc + "[r]", to_compute(t, name(src) + "[i]")));
  close();
  unroll(lr.regs, "r");
  unroll(2, "s");
  line("const " + cts + " o = __shfl_xor_sync(0xffffffffu, " + acc + "[r], 1 << s);");
  line(combine(op.reduce, ct, acc + "[r]", "o"));
  close();
  close();
  if (p.warps_n > 1) {
    std::string M = std::to_string(p.m);
    need_smem(p.warps_n * p.m * dtype_bytes(ct));
    open("");
    line(cts + "* xs = reinterpret_cast<" + cts + "*>(smem);");
    unroll(lr.regs, "r");
    line("const int row = " + lr.elem("r") + ";");
    line("if ((tid & 3) == 0) xs[((tid >> 5) % " + std::to_string(p.warps_n) + ") * " + M + " + row] = " + acc + "[r];");
    close();
    line("__syncthreads();");
    unroll(lr.regs, "r");
    line("const int row = " + lr.elem("r") + ";");
    line(acc + "[r] = xs[row];");
    unroll(p.warps_n - 1, "w");
    line(combine(op.reduce, ct, acc + "[r]", "xs[(w + 1) * " + M + " + row]"));
    close();
    close();
    line("__syncthreads();");
    close();
  }
  define(res, [&] { return from_compute(res->type.dtype, acc + "[i]"); });
}

// Scans along the last dim of a blocked tile stay in registers: each thread scans its run of v
// elements, a segmented warp shuffle-up scan carries the runs' totals along a row, and a row longer
// than a warp's 32 runs adds the totals of its earlier warps from shared memory. A serial loop over a
// shared-memory copy (the general case below) costs the last element of a row `len` loads.
void CudaGen::emit_scan(const Op& op) {
  const Value* src = op.operands[0];
  std::vector<int64_t> shape = src->type.shape;
  int64_t len = shape.at(op.axis), inner = 1;
  for (size_t d = op.axis + 1; d < shape.size(); ++d) inner *= shape[d];
  Layout l = layout(src);
  int64_t runs = len / std::max<int64_t>(l.v, 1);
  bool pow2 = runs > 0 && (runs & (runs - 1)) == 0;
  if (inner == 1 && l.blocked() && len % l.v == 0 && pow2 && (runs <= 32 || runs % 32 == 0) && threads_ % 32 == 0)
    emit_register_scan(op, l, len);
  else
    emit_shared_scan(op, l, len, inner);
}

void CudaGen::emit_register_scan(const Op& op, const Layout& l, int64_t len) {
  const Value *src = op.operands[0], *res = op.result();
  DType t = src->type.dtype, ct = compute_dtype(t);
  std::string cts = ctype(ct), init = "0", sym = " + ";
  switch (op.scan) {
    case ScanKind::CumSum: break;
    case ScanKind::CumProd: init = "1"; sym = " * "; break;
  }
  std::string V = std::to_string(l.v), N = std::to_string(l.n), tot = name(res) + "_tot", sc = name(res) + "_s";
  int64_t runs = len / l.v, width = std::min<int64_t>(runs, 32), warps = threads_ / 32;
  std::string W = std::to_string(width);
  declare(res);
  line(cts + " " + sc + "[" + std::to_string(l.regs) + "];");
  line(cts + " " + tot + "[" + std::to_string(l.iters) + "];");
  unroll(l.iters, "c");
  line("const int e0 = " + l.elem("c * " + V) + ";");
  line(cts + " s = " + init + ";");
  unroll(l.v, "j");
  line("s = s" + sym + "(e0 + j < " + N + " ? " + to_compute(t, name(src) + "[c * " + V + " + j]") + " : static_cast<" + cts + ">(" + init + "));");
  line(sc + "[c * " + V + " + j] = s;");
  close();
  // Inclusive scan of the run totals over the `width` lanes that share a row.
  int64_t steps = 0;
  while ((int64_t{1} << steps) < width) ++steps;
  unroll(steps, "k");
  line("const " + cts + " y = __shfl_up_sync(0xffffffffu, s, 1 << k, " + W + ");");
  line("if ((tid & " + std::to_string(width - 1) + ") >= (1 << k)) s = y" + sym + "s;");
  close();
  line(cts + " before = __shfl_up_sync(0xffffffffu, s, 1, " + W + ");");
  line("if ((tid & " + std::to_string(width - 1) + ") == 0) before = " + init + ";");
  line(tot + "[c] = s;");
  unroll(l.v, "j");
  line(sc + "[c * " + V + " + j] = before" + sym + sc + "[c * " + V + " + j];");
  close();
  close();
  if (runs > 32) {
    std::string segs = std::to_string(runs / 32), wpc = std::to_string(warps);
    need_smem(l.iters * warps * dtype_bytes(ct));
    open("");
    line(cts + "* xs = reinterpret_cast<" + cts + "*>(smem);");
    unroll(l.iters, "c");
    line("if ((tid & 31) == 31) xs[c * " + wpc + " + (tid >> 5)] = " + tot + "[c];");
    close();
    line("__syncthreads();");
    unroll(l.iters, "c");
    line("const int g = c * " + wpc + " + (tid >> 5);");
    line(cts + " p = " + init + ";");
    line("for (int k = g - g % " + segs + "; k < g; ++k) p = p" + sym + "xs[k];");
    unroll(l.v, "j");
    line(sc + "[c * " + V + " + j] = p" + sym + sc + "[c * " + V + " + j];");
    close();
    close();
    line("__syncthreads();");
    close();
  }
  unroll(l.regs);
  line(name(res) + "[i] = " + from_compute(t, sc + "[i]") + ";");
  close();
}

void CudaGen::emit_shared_scan(const Op& op, const Layout& l, int64_t len, int64_t inner) {
  const Value *src = op.operands[0], *res = op.result();
  DType t = src->type.dtype, ct = compute_dtype(t);
  std::string cts = ctype(ct);
  need_smem(l.n * dtype_bytes(ct));
  declare(res);
  open("");
  line(cts + "* xs = reinterpret_cast<" + cts + "*>(smem);");
  unroll(l.regs);
  line("const int e = " + l.elem("i") + ";");
  line(std::string(l.guard ? "if (e < " + std::to_string(l.n) + ") " : "") + "xs[e] = " + to_compute(t, name(src) + "[i]") + ";");
  close();
  line("__syncthreads();");
  unroll(l.regs);
  line("const int e = " + l.elem("i") + ";");
  if (l.guard) line("if (e >= " + std::to_string(l.n) + ") continue;");
  line("const int pos = (e / " + std::to_string(inner) + ") % " + std::to_string(len) + ";");
  line("const int base = e - pos * " + std::to_string(inner) + ";");
  const char *init = "0", *update = " += ";
  switch (op.scan) {
    case ScanKind::CumSum: break;
    case ScanKind::CumProd: init = "1"; update = " *= "; break;
  }
  line(cts + " s = " + std::string(init) + ";");
  line("for (int l = 0; l <= pos; ++l) s" + std::string(update) + "xs[base + l * " + std::to_string(inner) + "];");
  line(name(res) + "[i] = " + from_compute(t, "s") + ";");
  close();
  line("__syncthreads();");
  close();
}

}  // namespace tilec::cuda_gen
