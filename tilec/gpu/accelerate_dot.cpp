// Input: gpu-ir with blocked layouts. Output: a DotPlan per dot; a For-carried fp32 accumulator
// whose only use is one tensor-core dot in the loop body (as its acc, or `acc + dot(a, b)`) and
// whose yield is that result lives in registers (wgmma on sm_90 for fp16/bf16, and for tf32/int8/fp8
// with a K-major B; else mma.sync fragments), and every other fp16/bf16 dot with an fp32 result
// leaves its result in such registers too.
#include <algorithm>
#include <functional>

#include "tilec/gpu/gpu_ir.h"

namespace tilec::gpu {
namespace {

bool is_half(DType t) { return t == DType::F16 || t == DType::BF16; }

bool is_float_zero(const Value* v) {
  return v->def && v->def->kind == OpKind::Constant && is_float(v->type.dtype) && v->def->fval == 0.0;
}

// mma.sync warp tiling with the fewest ldmatrix.x4 per k16 step, within the register budget.
std::optional<MmaLayout> mma_v2(int64_t m, int64_t n, const GpuModule& g) {
  int64_t warps = g.num_warps;
  if (m <= 0 || n <= 0 || m % 16 || n % 8) return std::nullopt;
  int64_t mt = m / 16, nt = n / 8, best = -1;
  MmaLayout l;
  for (int64_t wm = 1; wm <= warps; wm *= 2) {
    int64_t wn = warps / wm;
    if (mt % wm || nt % wn) continue;
    int64_t cost = mt / wm + (nt / wn + 1) / 2;
    if (best < 0 || cost < best) {
      best = cost;
      l = MmaLayout{2, m, n, wm, wn};
    }
  }
  if (best < 0) return std::nullopt;
  if (l.outer() * 4 > std::min<int64_t>(g.target.acc_regs, 32768 / g.threads())) return std::nullopt;
  return l;
}

// Every warp across the rows (warps_n = 1) so that row reductions stay inside a warp and the
// result can feed the next dot's A operand; the fewest-ldmatrix tiling otherwise.
std::optional<MmaLayout> mma_v2_rows(int64_t m, int64_t n, const GpuModule& g) {
  MmaLayout l{2, m, n, g.num_warps, 1};
  if (m % (16 * g.num_warps) == 0 && n % 8 == 0 && l.outer() * 4 <= std::min<int64_t>(g.target.acc_regs, 32768 / g.threads()))
    return l;
  return mma_v2(m, n, g);
}

// One warpgroup per m/groups rows, each issuing m64nN over the whole n; operands must fill
// 128-byte swizzle rows (A: k; B: n, or k when K-major: 64 half elements at least).
std::optional<MmaLayout> mma_v3(int64_t m, int64_t n, int64_t k, int64_t elem_bytes, const GpuModule& g) {
  if (!g.target.wgmma || g.num_warps % 4) return std::nullopt;
  int64_t groups = g.num_warps / 4;
  if (m % (64 * groups) || n < 64 || n > 256 || (n & (n - 1)) || (k * elem_bytes) % 128) return std::nullopt;
  MmaLayout l{3, m, n, g.num_warps, 1};
  if (l.outer() * l.inner() > g.target.acc_regs) return std::nullopt;
  return l;
}

DotLowering staged_kind(const Op& d, const GpuTarget& t) {
  const Value *a = d.operands[0], *b = d.operands[1], *c = d.operands[2];
  int64_t m = a->type.shape.at(0), kd = a->type.shape.at(1), n = b->type.shape.at(1);
  DType ta = a->type.dtype, tc = c->type.dtype;
  bool tiles = t.mma_sync && m % 16 == 0 && n % 8 == 0;
  // 16-bit accumulators (out_dtype=tl.float16) run on the fp32 mma and are rounded once per dot.
  bool f16 = is_half(ta) && (tc == DType::F32 || tc == ta) && tiles && kd % 16 == 0;
  bool tf32 = ta == DType::F32 && tc == DType::F32 && d.precision == DotPrecision::TF32 && tiles && kd % 8 == 0;
  bool i8 = ta == DType::I8 && tc == DType::I32 && tiles && kd % 32 == 0;
  bool f8 = is_fp8(ta) && tc == DType::F32 && t.mma_fp8 && tiles && kd % 32 == 0;
  return f16 || tf32 || i8 || f8 ? DotLowering::MmaStaged : DotLowering::Fma;
}

void accelerate_carried(GpuModule& m, std::unordered_map<const Value*, int>& uses) {
  walk_ops(m.fn->body, [&](const Op* o) {
    if (o->kind != OpKind::For || o->regions.size() != 1) return;
    const Region& body = o->regions[0];
    const Op* y = body.ops.empty() || body.ops.back()->kind != OpKind::Yield ? nullptr : body.ops.back();
    if (!y) return;
    auto in_body = [&](const Op* x) { return std::find(body.ops.begin(), body.ops.end(), x) != body.ops.end(); };
    for (size_t i = 0; i < o->results.size(); ++i) {
      if (i + 1 >= body.args.size() || i >= y->operands.size() || i + 3 >= o->operands.size()) break;
      const Value *arg = body.args[i + 1], *out = y->operands[i];
      if (uses[arg] != 1 || uses[out] != 1 || !out->def || !in_body(out->def)) continue;
      const Op *dot = out->def, *add = nullptr;
      if (dot->kind == OpKind::Binary && dot->binary == BinaryKind::Add && out->type.dtype == DType::F32) {
        const Value* other = dot->operands[0] == arg ? dot->operands[1] : dot->operands[1] == arg ? dot->operands[0] : nullptr;
        if (!other || other == arg || !other->def || other->def->kind != OpKind::Dot || uses[other] != 1) continue;
        add = dot;
        dot = other->def;
        if (!in_body(dot) || !is_float_zero(dot->operands[2]) || other->type.shape != out->type.shape) continue;
      } else if (dot->kind != OpKind::Dot || dot->operands[2] != arg) {
        continue;
      }
      const Value *a = dot->operands[0], *b = dot->operands[1], *r = dot->result();
      DType ta = a->type.dtype;
      // wgmma reads tf32, int8 and fp8 operands only K-major: B must be tl.trans of a loaded
      // [n][k] tile (a linear layer's weight), or a tf32 [k][n] tile the pipeline copies in
      // transposed (4-byte copies); an N-major int8/fp8 B keeps them on mma.sync.
      bool half = is_half(ta) && r->type.dtype == DType::F32;
      bool b_k_major = (b->def && b->def->kind == OpKind::Permute && b->def->ints == std::vector<int64_t>{1, 0}) ||
                       dtype_bytes(ta) == 4;
      bool tf32 = ta == DType::F32 && dot->precision == DotPrecision::TF32 && r->type.dtype == DType::F32 && !add;
      bool i8 = ta == DType::I8 && r->type.dtype == DType::I32 && !add;
      bool f8 = is_fp8(ta) && m.target.mma_fp8 && r->type.dtype == DType::F32 && !add;
      if (!(half || tf32 || i8 || f8) || b->type.dtype != ta || dot->operands[2]->type.dtype != r->type.dtype || m.dots[dot].carried)
        continue;
      int64_t mm = a->type.shape[0], kd = a->type.shape[1], n = b->type.shape[1];
      if (kd % (32 / dtype_bytes(ta))) continue;  // whole mma k steps: 32 bytes of k
      DotPlan& plan = m.dots[dot];
      std::optional<MmaLayout> l = half || b_k_major ? mma_v3(mm, n, kd, dtype_bytes(ta), m) : std::nullopt;
      plan.kind = DotLowering::Wgmma;
      if (!l) {
        l = mma_v2(mm, n, m);
        plan.kind = DotLowering::MmaSync;
      }
      if (!l) {
        plan.kind = staged_kind(*dot, m.target);
        continue;
      }
      plan.acc.kind = LayoutKind::Mma;
      plan.acc.mma = *l;
      plan.carried = o->results[i];
      plan.fused_add = add;
      plan.acc_values = {arg, out, r};  // the For result is converted to a blocked layout after the loop
      for (const Value* v : plan.acc_values) m.layouts[v] = plan.acc;
    }
  });
}


// A register accumulator whose loop result is used once, by a cast to a 16-bit float, leaves the
// registers already cast (DotPlan::narrow).
void narrow_epilogues(GpuModule& m, std::unordered_map<const Value*, int>& uses) {
  walk_ops(m.fn->body, [&](const Op* o) {
    if (o->kind != OpKind::Cast || o->operands.size() != 1 || !is_half(o->result()->type.dtype)) return;
    const Value* v = o->operands[0];
    if (v->type.dtype != DType::F32 || uses[v] != 1) return;
    for (auto& [dot, plan] : m.dots)
      if (plan.carried == v) plan.narrow = o;
  });
}

}  // namespace

void accelerate_dot(GpuModule& m) {
  std::unordered_map<const Value*, int> uses;
  walk_ops(m.fn->body, [&](const Op* o) {
    for (const Value* v : o->operands) ++uses[v];
  });
  walk_ops(m.fn->body, [&](const Op* o) {
    if (o->kind == OpKind::Dot) m.dots[o].kind = staged_kind(*o, m.target);
  });
  if (!m.target.mma_sync || !m.target.ldmatrix) return;
  accelerate_carried(m, uses);
  narrow_epilogues(m, uses);
  walk_ops(m.fn->body, [&](const Op* o) {
    if (o->kind != OpKind::Dot || m.dots[o].carried) return;
    const Value *a = o->operands[0], *b = o->operands[1], *r = o->result();
    if (!is_half(a->type.dtype) || b->type.dtype != a->type.dtype || r->type.dtype != DType::F32 ||
        o->operands[2]->type.dtype != DType::F32)
      return;
    int64_t mm = a->type.shape[0], kd = a->type.shape[1], n = b->type.shape[1];
    if (kd % 16) return;
    DotPlan& plan = m.dots[o];
    std::optional<MmaLayout> l = mma_v3(mm, n, kd, dtype_bytes(a->type.dtype), m);
    plan.kind = DotLowering::Wgmma;
    if (!l) {
      l = mma_v2_rows(mm, n, m);
      plan.kind = DotLowering::MmaSync;
    }
    if (!l) {
      plan.kind = staged_kind(*o, m.target);
      return;
    }
    plan.acc.kind = LayoutKind::Mma;
    plan.acc.mma = *l;
    plan.acc_values = {r};
    m.layouts[r] = plan.acc;
  });
}


// Falls back from wgmma to mma.sync registers when the operands cannot reach swizzled shared
// memory (the loop was not pipelined); the accumulator's values take the new layout.
void demote_wgmma(GpuModule& m, const Op* dot) {
  DotPlan& plan = m.dots[dot];
  if (plan.kind != DotLowering::Wgmma) return;
  const Value *a = dot->operands[0], *b = dot->operands[1];
  std::optional<MmaLayout> l = plan.carried ? mma_v2(a->type.shape[0], b->type.shape[1], m)
                                            : mma_v2_rows(a->type.shape[0], b->type.shape[1], m);
  if (l) {
    plan.kind = DotLowering::MmaSync;
    plan.acc.mma = *l;
  } else {
    plan.kind = staged_kind(*dot, m.target);
    plan.carried = nullptr;
    plan.fused_add = nullptr;
    plan.narrow = nullptr;
    plan.a_regs = false;
  }
  bool regs = plan.kind == DotLowering::MmaSync;
  for (const Value* v : plan.acc_values) m.layouts[v] = regs ? plan.acc : blocked_layout(v->type.numel(), m.threads(), m.vec_elems);
  if (!regs) plan.acc_values.clear();
}

}  // namespace tilec::gpu
