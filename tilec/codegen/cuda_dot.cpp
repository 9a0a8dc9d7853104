// Input: tl.dot ops and software-pipelined loops of gpu-ir. Output: their CUDA C: mma.sync and wgmma over
// registers and shared memory, staged and FMA fallbacks, and the cp.async issue of pipelined loops.
#include "tilec/codegen/cuda_gen.h"

namespace tilec::cuda_gen {

// ---- dot ----------------------------------------------------------------------------------
namespace {

// The mma.sync instruction for inputs of type `t`: one covers 32 bytes of k.
std::string mma_shape(DType t) {
  switch (t) {
    case DType::F16: return "m16n8k16.row.col.f32.f16.f16.f32";
    case DType::BF16: return "m16n8k16.row.col.f32.bf16.bf16.f32";
    case DType::F32: return "m16n8k8.row.col.f32.tf32.tf32.f32";
    case DType::I8: return "m16n8k32.row.col.s32.s8.s8.s32";
    case DType::F8E4: return "m16n8k32.row.col.f32.e4m3.e4m3.f32";
    case DType::F8E5: return "m16n8k32.row.col.f32.e5m2.e5m2.f32";
    case DType::I1:
    case DType::I16:
    case DType::I32:
    case DType::I64:
    case DType::U8:
    case DType::U16:
    case DType::U32:
    case DType::U64:
    case DType::F64: break;
  }
  return "";  // no tensor-core dot takes these (accelerate_dot never plans one)
}

}  // namespace

void CudaGen::store_matrix(const Value* v, const std::string& smem_name, const std::string& index_of_e, const std::string& conv) {
  Layout l = layout(v);
  unroll(l.regs);
  line("const int e = " + l.elem("i") + ";");
  std::string x = conv.empty() ? name(v) + "[i]" : conv + "(" + name(v) + "[i])";
  line(std::string(l.guard ? "if (e < " + std::to_string(l.n) + ") " : "") + smem_name + "[" + index_of_e + "] = " + x + ";");
  close();
}

void CudaGen::emit_dot(const Op& op) {
  const Value *a = op.operands[0], *b = op.operands[1], *c = op.operands[2], *res = op.result();
  int64_t m = a->type.shape.at(0), kd = a->type.shape.at(1), n = b->type.shape.at(1);
  DType ta = a->type.dtype, tc = c->type.dtype;
  bool staged = m_.dots.at(&op).kind == DotLowering::MmaStaged;
  bool tf32 = staged && ta == DType::F32, i8 = staged && ta == DType::I8;
  if (a->type.is_ptr || b->type.is_ptr || b->type.dtype != ta) {
    fail(op, "tl.dot needs two numeric operands of one dtype");
    return;
  }
  std::string M = std::to_string(m), K = std::to_string(kd), N = std::to_string(n);
  declare(res);
  open("");
  if (!staged) {
    // Plain FMA over shared-memory copies: small shapes, fp64, unsigned and 16-bit integers, IEEE fp32.
    int64_t es = dtype_bytes(ta), off_b = align16(m * kd * es);
    need_smem(off_b + kd * n * es);
    std::string in = ctype(ta), ct = ctype(compute_dtype(tc));
    line(in + "* sa = reinterpret_cast<" + in + "*>(smem);");
    line(in + "* sb = reinterpret_cast<" + in + "*>(smem + " + std::to_string(off_b) + ");");
    store_matrix(a, "sa", "e", "");
    store_matrix(b, "sb", "e", "");
    line("__syncthreads();");
    Layout l = layout(res);
    unroll(l.regs);
    line("const int e = " + l.elem("i") + ";");
    line("const int row = e / " + N + ", col = e % " + N + ";");
    line(ct + " s = " + to_compute(tc, name(c) + "[i]") + ";");
    open("if (e < " + std::to_string(m * n) + ")");
    line("for (int k = 0; k < " + K + "; ++k) s += static_cast<" + ct + ">(" + to_compute(ta, "sa[row * " + K + " + k]") +
         ") * static_cast<" + ct + ">(" + to_compute(ta, "sb[k * " + N + " + col]") + ");");
    close();
    line(name(res) + "[i] = " + from_compute(tc, "s") + ";");
    close();
    line("__syncthreads();");
    close();
    return;
  }
  // Tensor cores: A row-major and B transposed ([n][k]) in padded shared memory so that each
  // fragment register (2 fp16/bf16, 1 tf32 or 4 int8 along k) is one conflict-free 32-bit load;
  // the accumulator goes through shared memory (fp32 or int32) to and from the flat layout.
  int64_t es = dtype_bytes(ta), per_word = 4 / es, pad = 4 * per_word, ld = kd + pad, ldc = n + 4, kstep = 8 * per_word;
  int64_t off_b = align16(m * ld * es), off_c = align16(off_b + n * ld * es);
  need_smem(off_c + m * ldc * 4);
  std::string in = tf32 ? "unsigned" : ctype(ta), acc_t = i8 ? "int" : "float", LD = std::to_string(ld), LDC = std::to_string(ldc);
  line(in + "* sa = reinterpret_cast<" + in + "*>(smem);");
  line(in + "* sb = reinterpret_cast<" + in + "*>(smem + " + std::to_string(off_b) + ");");
  line(acc_t + "* sc = reinterpret_cast<" + acc_t + "*>(smem + " + std::to_string(off_c) + ");");
  std::string conv = tf32 ? "tc_tf32" : "";
  store_matrix(a, "sa", "(e / " + K + ") * " + LD + " + e % " + K, conv);
  store_matrix(b, "sb", "(e % " + N + ") * " + LD + " + e / " + N, conv);
  store_matrix(c, "sc", "(e / " + N + ") * " + LDC + " + e % " + N, is_half(tc) ? "static_cast<float>" : "");
  line("__syncthreads();");
  int64_t mt = m / 16, nt = n / 8, g = nt;
  while (g > 1 && (g > target_.mma_group || mt * (nt / g) < m_.num_warps)) g /= 2;
  int64_t ng = nt / g;
  std::string G = std::to_string(g);
  line("const int warp = tid >> 5, g = (tid & 31) >> 2, t4 = tid & 3;");
  open("for (int w = warp; w < " + std::to_string(mt * ng) + "; w += " + std::to_string(m_.num_warps) + ")");
  line("const int m0 = (w / " + std::to_string(ng) + ") * 16, n0 = (w % " + std::to_string(ng) + ") * " + std::to_string(g * 8) + ";");
  line(acc_t + " acc[" + G + "][4];");
  unroll(g, "q");
  line("const int cn = n0 + q * 8 + 2 * t4;");
  line("acc[q][0] = sc[(m0 + g) * " + LDC + " + cn]; acc[q][1] = sc[(m0 + g) * " + LDC + " + cn + 1];");
  line("acc[q][2] = sc[(m0 + g + 8) * " + LDC + " + cn]; acc[q][3] = sc[(m0 + g + 8) * " + LDC + " + cn + 1];");
  close();
  open("for (int k0 = 0; k0 < " + K + "; k0 += " + std::to_string(kstep) + ")");
  auto word = [&](const std::string& idx) {
    return tf32 ? idx : "*reinterpret_cast<const unsigned*>(&" + idx + ")";
  };
  std::string kc = "k0 + " + std::to_string(per_word) + " * t4", khi = " + " + std::to_string(4 * per_word);
  line("const unsigned a0 = " + word("sa[(m0 + g) * " + LD + " + " + kc + "]") + ";");
  line("const unsigned a1 = " + word("sa[(m0 + g + 8) * " + LD + " + " + kc + "]") + ";");
  line("const unsigned a2 = " + word("sa[(m0 + g) * " + LD + " + " + kc + khi + "]") + ";");
  line("const unsigned a3 = " + word("sa[(m0 + g + 8) * " + LD + " + " + kc + khi + "]") + ";");
  unroll(g, "q");
  line("const int bn = n0 + q * 8 + g;");
  line("const unsigned b0 = " + word("sb[bn * " + LD + " + " + kc + "]") + ";");
  line("const unsigned b1 = " + word("sb[bn * " + LD + " + " + kc + khi + "]") + ";");
  std::string shape = mma_shape(ta);
  std::string cons = i8 ? "\"+r\"" : "\"+f\"";
  line("asm volatile(\"mma.sync.aligned." + shape + " {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\"");
  line("    : " + cons + "(acc[q][0]), " + cons + "(acc[q][1]), " + cons + "(acc[q][2]), " + cons + "(acc[q][3])");
  line("    : \"r\"(a0), \"r\"(a1), \"r\"(a2), \"r\"(a3), \"r\"(b0), \"r\"(b1));");
  close();
  close();
  unroll(g, "q");
  line("const int cn = n0 + q * 8 + 2 * t4;");
  line("sc[(m0 + g) * " + LDC + " + cn] = acc[q][0]; sc[(m0 + g) * " + LDC + " + cn + 1] = acc[q][1];");
  line("sc[(m0 + g + 8) * " + LDC + " + cn] = acc[q][2]; sc[(m0 + g + 8) * " + LDC + " + cn + 1] = acc[q][3];");
  close();
  close();
  line("__syncthreads();");
  Layout l = layout(res);
  unroll(l.regs);
  line("const int e = " + l.elem("i") + ";");
  line(std::string(l.guard ? "if (e < " + std::to_string(l.n) + ") " : "") + name(res) + "[i] = " +
       from_compute(tc, "sc[(e / " + N + ") * " + LDC + " + e % " + N + "]") + ";");
  close();
  line("__syncthreads();");
  close();
}

// ---- register-resident dot accumulators -----------------------------------------------------
bool CudaGen::is_float_zero(const Value* v) {
  return v->def && v->def->kind == OpKind::Constant && is_float(v->type.dtype) && v->def->fval == 0.0;
}

// Opens unrolled loops over every fragment register [fi][fj], declaring its `row` and `col`.
void CudaGen::frag_loops(const MmaAcc& acc, int fj_step) {
  const MmaLayout& l = acc.layout;
  line("const int warp = tid >> 5, lane = tid & 31;");
  unroll(l.outer(), "fi");
  if (fj_step == 1) unroll(l.inner(), "fj");
  else {
    line("#pragma unroll");
    open("for (int fj = 0; fj < " + std::to_string(l.inner()) + "; fj += " + std::to_string(fj_step) + ")");
  }
  line("const int row = " + gpu::mma_row_expr(l, "warp", "lane", "fi", "fj") + ";");
  line("const int col = " + gpu::mma_col_expr(l, "warp", "lane", "fi", "fj") + ";");
}

// Moves every fragment register to or from sc[row * ldc + col].
void CudaGen::frag_smem(const MmaAcc& acc, int64_t ldc, bool to_smem) {
  frag_loops(acc);
  std::string at = "sc[row * " + std::to_string(ldc) + " + col]", f = acc.frag + "[fi][fj]";
  line(to_smem ? at + " = " + f + ";" : f + " = " + at + ";");
  close();
  close();
}

std::string CudaGen::frag_decl(const MmaAcc& acc) {
  return ctype(acc.dtype) + " " + acc.frag + "[" + std::to_string(acc.layout.outer()) + "][" + std::to_string(acc.layout.inner()) + "];";
}

void CudaGen::emit_frag_init(const MmaAcc& acc, const Value* init) {
  const MmaLayout& p = acc.layout;
  line("// accumulator in registers: " + gpu::Layout{gpu::LayoutKind::Mma, {}, p, {}}.str());
  line(frag_decl(acc));
  if (init->def && init->def->kind == OpKind::Constant) {
    std::string lit = const_literal(acc.dtype, *init->def);
    unroll(p.outer(), "fi");
    unroll(p.inner(), "fj");
    line(acc.frag + "[fi][fj] = " + lit + ";");
    close();
    close();
    return;
  }
  int64_t ldc = p.n + 4;
  need_smem(p.m * ldc * 4);
  open("");
  line(ctype(acc.dtype) + "* sc = reinterpret_cast<" + ctype(acc.dtype) + "*>(smem);");
  Layout l = layout(init);
  unroll(l.regs);
  line("const int e = " + l.elem("i") + ";");
  line(std::string(l.guard ? "if (e < " + std::to_string(l.n) + ") " : "") + "sc[(e / " + std::to_string(p.n) + ") * " +
       std::to_string(ldc) + " + e % " + std::to_string(p.n) + "] = " + name(init) + "[i];");
  close();
  line("__syncthreads();");
  frag_smem(acc, ldc, false);
  line("__syncthreads();");
  close();
}

void CudaGen::emit_frag_to_flat(const MmaAcc& acc, const Value* res) {
  const MmaLayout& p = acc.layout;
  DType t = res->type.dtype;
  bool narrow = is_half(t);
  // Rows padded by 16 bytes: the fragments' writes are conflict-free.
  int64_t es = narrow ? 2 : 4, ldc = p.n + 16 / es;
  need_smem(p.m * ldc * es);
  declare(res);
  open("");
  line("// convert_layout " + gpu::Layout{gpu::LayoutKind::Mma, {}, p, {}}.str() + " -> " + m_.layout(res).str() + " through shared memory" +
       (narrow ? std::string(", cast to ") + dtype_name(t) : std::string()));
  line(ctype(t) + "* sc = reinterpret_cast<" + ctype(t) + "*>(smem);");
  if (narrow) {
    // Columns 2c and 2c+1 of a row sit in registers fj and fj + 1 of one thread: one packed store.
    std::string pair = t == DType::F16 ? "__half2" : "__nv_bfloat162", pack = t == DType::F16 ? "__floats2half2_rn" : "__floats2bfloat162_rn";
    frag_loops(acc, 2);
    line("*reinterpret_cast<" + pair + "*>(&sc[row * " + std::to_string(ldc) + " + col]) = " + pack + "(" + acc.frag + "[fi][fj], " + acc.frag +
         "[fi][fj + 1]);");
    close();
    close();
  } else {
    frag_smem(acc, ldc, true);
  }
  line("__syncthreads();");
  read_padded_rows(name(res), layout(res), ctype(t), es, "sc", p.n);
  line("__syncthreads();");
  close();
}

// Row-major copy of a 2-D tile into s[row * ld + col]; 8-byte (or wider) stores per V-group when
// a group never crosses a row.
void CudaGen::stage_rows(const Value* v, const std::string& s, int64_t cols, int64_t ld) {
  Layout l = layout(v);
  std::string C = std::to_string(cols), LD = std::to_string(ld);
  if (l.v >= 2 && !l.guard && cols % l.v == 0 && ld % l.v == 0) {
    std::string pt = "tc_pack<" + ctype(v->type.dtype) + ", " + std::to_string(l.v) + ">";
    unroll(l.iters, "k");
    line("const int e = k * " + std::to_string(l.threads * l.v) + " + tid * " + std::to_string(l.v) + ";");
    line(pt + " t;");
    unroll(l.v, "j");
    line("t.v[j] = " + name(v) + "[k * " + std::to_string(l.v) + " + j];");
    close();
    line("*reinterpret_cast<" + pt + "*>(&" + s + "[(e / " + C + ") * " + LD + " + e % " + C + "]) = t;");
    close();
    return;
  }
  store_matrix(v, s, "(e / " + C + ") * " + LD + " + e % " + C, "");
}

// The pipeline buffer that a dot operand was copied to, or null when it is in registers.
const gpu::AsyncLoad* CudaGen::async_operand(const Value* v) const {
  if (!v->def) return nullptr;
  auto it = async_.find(v->def);
  return it == async_.end() ? nullptr : it->second;
}

std::string CudaGen::stage_addr(const gpu::AsyncLoad& a, const std::string& stage) {
  return "pipe_smem + " + std::to_string(a.offset) + "u + " + stage + " * " + std::to_string(a.smem.shared.stage_bytes()) + "u";
}

CudaGen::DotRegs CudaGen::carried_regs(const MmaAcc& acc) {
  std::string f = acc.frag, inner = std::to_string(acc.layout.inner());
  return {[=](const std::string& i) { return f + "[(" + i + ") / " + inner + "][(" + i + ") % " + inner + "]"; },
          [=](int64_t mi) { return f + "[" + std::to_string(mi) + "]"; }, f};
}

// A dot whose result lives in mma registers and is not a loop-carried accumulator: the result
// starts as the accumulator operand (already converted to the result's layout) or zero.
void CudaGen::emit_dot_regs(const Op& op) {
  const gpu::DotPlan& plan = m_.dots.at(&op);
  const Value *c = op.operands[2], *res = op.result();
  Layout lr = layout(res);
  declare(res);
  std::string R = name(res);
  unroll(lr.regs);
  line(R + "[i] = " + (is_float_zero(c) ? std::string("0.0f") : el(c)) + ";");
  close();
  std::string inner = std::to_string(plan.acc.mma.inner());
  DotRegs regs{[=](const std::string& i) { return R + "[" + i + "]"; },
               [=](int64_t mi) { return "reinterpret_cast<float(&)[" + inner + "]>(" + R + "[" + std::to_string(mi * plan.acc.mma.inner()) + "])"; },
               R};
  if (plan.kind == DotLowering::Wgmma) emit_dot_wgmma(op, plan.acc.mma, regs);
  else emit_dot_mma(op, plan.acc.mma, regs);
}

// mma.sync m16n8k16: A [m][k] and B either [k][n] (N-major) or, for tl.trans of a loaded [n][k]
// tile, [n][k] (K-major), row-major in shared memory with rows padded to an odd number of 16-byte
// chunks (conflict-free ldmatrix): from the pipeline's buffers or staged here from registers. A
// may instead come packed from the registers of an mma tile with the same rows (plan.a_regs).
// Each warp loads its fragments with ldmatrix once per k16 step and issues one mma per tile.
void CudaGen::emit_dot_mma(const Op& op, const MmaLayout& p, const DotRegs& regs) {
  const Value *a = op.operands[0], *b = op.operands[1];
  const gpu::DotPlan& plan = m_.dots.at(&op);
  int64_t m = p.m, n = p.n, kd = a->type.shape.at(1);
  int64_t mtw = m / p.warps_m / 16, ntw = n / p.warps_n / 8;
  DType ta = a->type.dtype;
  // One mma covers 32 bytes of k: m16n8k16 for fp16/bf16, m16n8k8 for tf32, m16n8k32 for int8; a
  // 16-byte ldmatrix row holds `chunk` elements.
  int64_t es = dtype_bytes(ta), chunk = 16 / es, kstep = 2 * chunk;
  bool half = is_half(ta), i8 = ta == DType::I8;
  std::string in = ctype(ta), MTW = std::to_string(mtw), NTW = std::to_string(ntw), CH = std::to_string(chunk);
  const gpu::AsyncLoad *pa = plan.a_regs ? nullptr : async_operand(a), *pb = async_operand(b);
  bool kmajor = pb && pb->permute;
  auto ld = [&](const gpu::AsyncLoad* x, int64_t cols) {
    return x ? x->smem.shared.cols + x->smem.shared.pad : (cols / chunk) % 2 ? cols : cols + chunk;
  };
  int64_t lda = ld(pa, kd), ldb = ld(pb, n);
  std::string LDA = std::to_string(lda), LDB = std::to_string(ldb);
  bool staged = (!plan.a_regs && !pa) || !pb;
  open("");
  auto smem_at = [&](const gpu::AsyncLoad& x) {
    return "reinterpret_cast<" + in + "*>(smem + (" + stage_addr(x, operand_stage(x)) + " - tc_smem_addr(smem)))";
  };
  int64_t off_b = plan.a_regs || pa ? 0 : align16(m * lda * es);
  if (pa) line(in + "* sa = " + smem_at(*pa) + ";  // the pipeline's shared memory");
  else if (!plan.a_regs) line(in + "* sa = reinterpret_cast<" + in + "*>(smem);");
  if (pb) line(in + "* sb = " + smem_at(*pb) + ";  // the pipeline's shared memory");
  else line(in + "* sb = reinterpret_cast<" + in + "*>(smem + " + std::to_string(off_b) + ");");
  if (staged) {
    need_smem(off_b + (pb ? 0 : kd * ldb * es));
    if (!plan.a_regs && !pa) stage_rows(a, "sa", kd, lda);
    if (!pb) stage_rows(b, "sb", n, ldb);
    line("__syncthreads();");
  }
  line("const int warp = tid >> 5, lane = tid & 31;");
  line("const int wr = (warp / " + std::to_string(p.warps_n) + ") * " + std::to_string(m / p.warps_m) + ", wc = (warp % " +
       std::to_string(p.warps_n) + ") * " + std::to_string(n / p.warps_n) + ";");
  line("(void)wr;");
  line("#pragma unroll");
  open("for (int k0 = 0; k0 < " + std::to_string(kd) + "; k0 += " + std::to_string(kstep) + ")");
  line("unsigned af[" + MTW + "][4], bf[" + NTW + "][2];");
  unroll(mtw, "mi");
  if (plan.a_regs) {
    // The accumulator fragments of n-tiles 2*k0/16 and +1 are this k16 step's A fragment.
    std::string A = name(a), TN = std::to_string(layout(a).mma.n / 8);
    auto at = [&](int tile, int r) {
      return A + "[(mi * " + TN + " + k0 / 8 + " + std::to_string(tile) + ") * 4 + " + std::to_string(r) + "]";
    };
    for (int q = 0; q < 4; ++q)
      line("af[mi][" + std::to_string(q) + "] = tc_pack2(" + at(q / 2, (q % 2) * 2) + ", " + at(q / 2, (q % 2) * 2 + 1) + ");");
  } else {
    line("tc_ldsm_x4(af[mi][0], af[mi][1], af[mi][2], af[mi][3], &sa[(wr + mi * 16 + (lane & 15)) * " + LDA + " + k0 + (lane >> 4) * " + CH +
         "]);");
    if (ta == DType::F32) line("for (int q = 0; q < 4; ++q) af[mi][q] = tc_tf32(__uint_as_float(af[mi][q]));");
  }
  close();
  // B fragments for n-tile pairs (x4) and an odd last tile (x2). K-major sb is [n][k]: plain
  // ldmatrix gives each thread B[k = (lane%4) * 4 bytes..][n = lane/4]; N-major sb [k][n] needs
  // .trans, which moves 16-bit elements only: tf32 and int8 read theirs one by one.
  std::string suffix = kmajor ? "" : "_trans";
  auto pair_addr = [&](const std::string& n0) {
    return kmajor ? "&sb[(wc + " + n0 + " + (lane >> 4) * 8 + (lane & 7)) * " + LDB + " + k0 + ((lane >> 3) & 1) * " + CH + "]"
                  : "&sb[(k0 + (lane & 15)) * " + LDB + " + wc + " + n0 + " + (lane >> 4) * 8]";
  };
  if (!kmajor && !half) {
    line("const int g = lane >> 2, t4 = lane & 3;");
    unroll(ntw, "ni");
    std::string col = "wc + ni * 8 + g";
    if (es == 1) {
      // b0 holds k = 4*t4 .. 4*t4+3 of column g, b1 the same 16 rows on.
      for (int q = 0; q < 2; ++q) {
        std::string r0 = "(k0 + " + std::to_string(16 * q) + " + 4 * t4";
        line("bf[ni][" + std::to_string(q) + "] = tc_pack_b8x4(sb[" + r0 + ") * " + LDB + " + " + col + "], sb[" + r0 + " + 1) * " + LDB +
             " + " + col + "], sb[" + r0 + " + 2) * " + LDB + " + " + col + "], sb[" + r0 + " + 3) * " + LDB + " + " + col + "]);");
      }
    } else {
      line("bf[ni][0] = tc_tf32(sb[(k0 + t4) * " + LDB + " + " + col + "]);");
      line("bf[ni][1] = tc_tf32(sb[(k0 + t4 + 4) * " + LDB + " + " + col + "]);");
    }
    close();
  } else if (ntw >= 2) {
    line("#pragma unroll");
    open("for (int ni = 0; ni + 1 < " + NTW + "; ni += 2)");
    line("tc_ldsm_x4" + suffix + "(bf[ni][0], bf[ni][1], bf[ni + 1][0], bf[ni + 1][1], " + pair_addr("ni * 8") + ");");
    close();
  }
  if ((kmajor || half) && ntw % 2) {
    std::string last = std::to_string(ntw - 1), n0 = std::to_string((ntw - 1) * 8);
    std::string addr = kmajor ? "&sb[(wc + " + n0 + " + (lane & 7)) * " + LDB + " + k0 + ((lane >> 3) & 1) * " + CH + "]"
                              : "&sb[(k0 + (lane & 15)) * " + LDB + " + wc + " + n0 + "]";
    line("tc_ldsm_x2" + suffix + "(bf[" + last + "][0], bf[" + last + "][1], " + addr + ");");
  }
  unroll(mtw, "mi");
  unroll(ntw, "ni");
  auto f = [&](int r) { return regs.flat("(mi * " + NTW + " + ni) * 4 + " + std::to_string(r)); };
  std::string shape = mma_shape(ta);
  std::string acc = i8 ? "\"+r\"(" : "\"+f\"(";
  line("asm volatile(\"mma.sync.aligned." + shape + " {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\"");
  line("    : " + acc + f(0) + "), " + acc + f(1) + "), " + acc + f(2) + "), " + acc + f(3) + ")");
  line("    : \"r\"(af[mi][0]), \"r\"(af[mi][1]), \"r\"(af[mi][2]), \"r\"(af[mi][3]), \"r\"(bf[ni][0]), \"r\"(bf[ni][1]));");
  close();
  close();
  close();
  if (staged) line("__syncthreads();");
  close();
}

// wgmma over the pipeline's buffers: A [m][k] K-major (or packed from mma registers, plan.a_regs)
// and B [k][n] N-major or, for tl.trans of a loaded [n][k] tile, K-major, in 128-byte swizzled
// atoms; each warpgroup issues m64nNkK per 64 of its rows and K of k (32 bytes: k16 for fp16, k8 for
// tf32, k32 for int8 and fp8), then waits (unless the loop waits after issuing its next copies).
void CudaGen::emit_dot_wgmma(const Op& op, const MmaLayout& p, const DotRegs& regs) {
  const Value *a = op.operands[0], *b = op.operands[1];
  const gpu::DotPlan& plan = m_.dots.at(&op);
  const gpu::AsyncLoad *pa = plan.a_regs ? nullptr : async_operand(a), *pb = async_operand(b);
  if ((!pa && !plan.a_regs) || !pb) {
    fail(op, "internal: a wgmma dot without pipelined operands");
    return;
  }
  bool pipelined = false;  // then the loop waits after issuing the next copies
  for (const auto& [loop, pl] : m_.pipelines) pipelined = pipelined || (pl.async_mma && pl.dots.at(0) == &op);
  const gpu::SharedLayout& lb = pb->smem.shared;
  bool kmajor = pb->permute != nullptr || pb->transpose;
  int64_t kd = a->type.shape.at(1), rows_per_group = p.m / (p.warps_m / 4);
  open("");
  // Descriptors are built once per dot and advanced by adding 16-byte units to their address
  // field (as CUTLASS's descriptor iterators do); the warpgroup index goes through a shuffle so
  // that ptxas sees it warp-uniform and keeps the descriptors in uniform registers: rebuilt per
  // instruction from a per-thread value, they cost the int8 linear layer a third more instructions.
  gpu::WgmmaDesc db0 = kmajor ? gpu::wgmma_desc_a(lb, 0, 0) : gpu::wgmma_desc_b(lb, 0);
  auto desc0 = [](const std::string& addr, const gpu::WgmmaDesc& d) {
    return "tc_wgmma_desc(" + addr + ", " + std::to_string(d.lbo) + "u, " + std::to_string(d.sbo) + "u)";
  };
  if (pa) {
    gpu::WgmmaDesc da0 = gpu::wgmma_desc_a(pa->smem.shared, 0, 0);
    line("const unsigned wg_rows = __shfl_sync(0xffffffffu, tid >> 7, 0) * " +
         std::to_string(gpu::shared_offset(pa->smem.shared, rows_per_group, 0)) + "u;  // this warpgroup's rows");
    line("const unsigned long long da = " + desc0(stage_addr(*pa, operand_stage(*pa)) + " + wg_rows", da0) + ";");
  }
  line("const unsigned long long db = " + desc0(stage_addr(*pb, operand_stage(*pb)), db0) + ";");
  if (plan.a_regs) {
    // Packed before the fence: registers written between it and the wgmma would make ptxas
    // insert another warpgroup arrive per instruction.
    Layout la = layout(a);
    line("unsigned af[" + std::to_string(p.outer()) + "][" + std::to_string(kd / 16) + "][4];");
    unroll(p.outer(), "mi");
    unroll(kd / 16, "kk");
    unroll(4, "q");
    std::string base = "mi * " + std::to_string(la.mma.inner()) + " + kk * 8 + q * 2";
    line("af[mi][kk][q] = tc_pack2(" + name(a) + "[" + base + "], " + name(a) + "[" + base + " + 1]);");
    close();
    close();
    close();
  }
  line("tc_fence_operand(" + regs.array + ");");
  line("tc_wgmma_fence();");
  std::string n = std::to_string(p.n), t = ctype(a->type.dtype), trans = kmajor ? "0" : "1";
  auto desc = [](const std::string& base, const gpu::WgmmaDesc& d) { return base + " + " + std::to_string(d.offset / 16) + "u"; };
  int64_t kstep = 32 / dtype_bytes(a->type.dtype);  // one instruction's k: 32 bytes of each operand row
  for (int64_t k0 = 0; k0 < kd; k0 += kstep) {
    gpu::WgmmaDesc db = kmajor ? gpu::wgmma_desc_a(lb, 0, k0) : gpu::wgmma_desc_b(lb, k0);
    for (int64_t mi = 0; mi < p.outer(); ++mi) {
      std::string note = "  // k " + std::to_string(k0) + ", rows " + std::to_string(mi * 64) + "+";
      if (plan.a_regs) {
        // The accumulator registers of columns k0..k0+15 are this k16 step's A fragment.
        auto pack = [&](int64_t q) { return "af[" + std::to_string(mi) + "][" + std::to_string(k0 / 16) + "][" + std::to_string(q) + "]"; };
        line("tc_wgmma_rs<" + n + ", " + t + ", " + trans + ">(" + regs.block(mi) + ", " + pack(0) + ", " + pack(1) + ", " + pack(2) +
             ", " + pack(3) + ", " + desc("db", db) + ");" + note);
      } else {
        gpu::WgmmaDesc da = gpu::wgmma_desc_a(pa->smem.shared, mi * 64, k0);
        line("tc_wgmma<" + n + ", " + t + ", " + trans + ">(" + regs.block(mi) + ", " + desc("da", da) + ", " + desc("db", db) + ");" +
             note);
      }
    }
  }
  line("tc_wgmma_commit();");
  if (!pipelined) {
    line("tc_wgmma_wait<0>();");
    line("tc_fence_operand(" + regs.array + ");");
  }
  close();
}

// ---- software pipeline ----------------------------------------------------------------------
// Issues iteration `pf_iv`'s async copies into stage `pipe_write`: the address slice is re-run
// with the prefetch copies of the induction variable and of the loop-carried values it reads.
void CudaGen::emit_pipeline_issue(const Op& loop, const gpu::LoopPipeline& p) {
  const Region& body = loop.regions.at(0);
  std::unordered_map<const Value*, std::string> saved;
  auto rename = [&](const Value* v, const std::string& n) {
    auto it = names_.find(v);
    saved.emplace(v, it == names_.end() ? std::string() : it->second);
    names_[v] = n;
  };
  rename(body.args.at(0), "pf_iv");
  for (size_t c : p.carried) rename(body.args.at(c + 1), "pf_" + name(loop.results.at(c)));
  for (const Op* op : p.slice)
    for (const Value* r : op->results) rename(r, "pf_" + name(r));
  open("if (" + loop_cond(loop, "pf_iv") + ")");
  for (const Op* op : p.slice) emit_op(*op);
  if (p.tma) {
    emit_tma_copies(p, false, "pipe_write", "pipe_bar + 8u * pipe_write");
  } else {
    for (const gpu::AsyncLoad& a : p.loads)
      if (!a.invariant) emit_async_copy(a, "pipe_write");
  }
  std::vector<std::string> dsts;
  std::vector<Value*> srcs;
  const Op* y = body.ops.back();
  for (size_t c : p.carried) {
    dsts.push_back(names_[body.args.at(c + 1)]);
    srcs.push_back(y->operands.at(c));
  }
  assign_all(dsts, srcs);
  close();
  if (!p.tma) line("tc_cp_async_commit();");
  line("pf_iv += " + name(loop.operands[2]) + ";");
  line("pipe_write = pipe_write + 1 == " + std::to_string(p.stages) + " ? 0 : pipe_write + 1;");
  for (const auto& [v, n] : saved) {
    if (n.empty()) names_.erase(v);
    else names_[v] = n;
  }
}

// The TMA copies of a pipeline's loop-body (or, `invariant`, before-the-loop) loads into `stage`:
// thread 0 arms the mbarrier with the bytes to come and issues one copy per 128-byte column
// group; TMA zero-fills what lies outside the tensor, as the descriptor's bounds masks would.
void CudaGen::emit_tma_copies(const gpu::LoopPipeline& p, bool invariant, const std::string& stage, const std::string& bar) {
  int64_t bytes = 0;
  for (const gpu::AsyncLoad& a : p.loads)
    if (a.invariant == invariant) bytes += a.smem.shared.rows * a.smem.shared.cols * a.smem.shared.elem_bytes;
  open("if (tid == 0)");
  line("tc_mbar_expect_tx(" + bar + ", " + std::to_string(bytes) + "u);");
  for (const gpu::AsyncLoad& a : p.loads) {
    if (a.invariant != invariant) continue;
    const gpu::SharedLayout& s = a.smem.shared;
    std::optional<DescAccess> d = desc_access(*a.load);
    int64_t box_cols = 128 / s.elem_bytes, box_bytes = s.rows * 128;
    line("// TMA " + name(a.load->result()) + " -> " + a.smem.str());
    for (int64_t g = 0; g < s.cols / box_cols; ++g)
      line("tc_tma_load(" + stage_addr(a, stage) + (g ? " + " + std::to_string(g * box_bytes) + "u" : "") + ", &tm" +
           std::to_string(a.tma) + ", " + bar + ", " + name(d->offsets[1]) + (g ? " + " + std::to_string(g * box_cols) : "") + ", " +
           name(d->offsets[0]) + ");");
  }
  close();
}

// 16-byte cp.async per chunk of each thread's V-groups; a masked-off chunk is zero-filled.
void CudaGen::emit_async_copy(const gpu::AsyncLoad& a, const std::string& stage) {
  const Value* ptr = a.load->operands[0];
  const Value* mask = a.load->has_mask ? a.load->operands[1] : nullptr;
  const gpu::SharedLayout& s = a.smem.shared;
  Layout l = layout(ptr);
  int64_t chunk = 16 / s.elem_bytes;
  open("");
  line("// cp.async " + name(a.load->result()) + " -> " + a.smem.str());
  line("const unsigned dst = " + stage_addr(a, stage) + ";");
  if (a.transpose) {
    // Element (r, c) of the loaded [k][n] tile lands in row c, column r of the K-major buffer.
    std::string n = std::to_string(s.rows);
    unroll(l.regs);
    line("const int e = " + l.elem("i") + ";");
    line("tc_cp_async4(dst + " + gpu::shared_offset_expr(s, "e % " + n, "e / " + n) + ", " + el(ptr, "i") + ", " +
         (mask ? (mask->type.is_tile() ? el(mask, "i") : name(mask)) : std::string("true")) + ");");
    close();
    close();
    return;
  }
  int64_t per_k = l.threads * l.v, rows_per_k = per_k / s.cols;
  // When each k step covers whole rows (and whole swizzle periods), a thread's chunks sit at one
  // offset plus a constant per k, which ptxas folds into the instructions' immediates.
  bool whole_rows = per_k % s.cols == 0 && (!s.swizzle || rows_per_k % 8 == 0);
  std::string row = "row", col = "col0 + q * " + std::to_string(chunk), step;
  if (whole_rows) {
    line("const int row0 = tid * " + std::to_string(l.v) + " / " + std::to_string(s.cols) + ", col0 = tid * " + std::to_string(l.v) +
         " % " + std::to_string(s.cols) + ";");
    row = "row0";
    step = std::to_string(gpu::shared_offset(s, rows_per_k, 0)) + "u * k + ";
  }
  unroll(l.iters, "k");
  if (!whole_rows) {
    line("const int e = k * " + std::to_string(per_k) + " + tid * " + std::to_string(l.v) + ";");
    line("const int row = e / " + std::to_string(s.cols) + ", col0 = e % " + std::to_string(s.cols) + ";");
  }
  unroll(l.v / chunk, "q");
  std::string slot = "k * " + std::to_string(l.v) + " + q * " + std::to_string(chunk);
  line("tc_cp_async16(dst + " + step + gpu::shared_offset_expr(s, row, col) + ", " + el(ptr, slot) + ", " +
       (mask ? (mask->type.is_tile() ? el(mask, slot) : name(mask)) : std::string("true")) + ");");
  close();
  close();
  close();
}

}  // namespace tilec::cuda_gen
