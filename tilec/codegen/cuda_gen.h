// Input: none (definitions). Output: CudaGen, the CUDA C printer of a GpuModule, shared by the
// files that implement it (cuda.cpp, cuda_layout.cpp, cuda_ops.cpp, cuda_dot.cpp); private to codegen/.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "tilec/codegen/axis_info.h"
#include "tilec/codegen/cuda.h"
#include "tilec/codegen/device_print.h"
#include "tilec/gpu/gpu_ir.h"
#include "tilec/libdevice.h"

namespace tilec::cuda_gen {

using gpu::DotLowering;
using gpu::GpuModule;
using gpu::MmaLayout;

// A value's registers and the tile element each holds. Blocked: thread t owns elements
// k*T*V + t*V + j (k < iters, j < V). Mma: the fragment map of gpu/layout.h over the flattened
// register index; Slice: one register per row the thread owns in the parent (element = row).
struct Layout {
  gpu::LayoutKind kind = gpu::LayoutKind::Blocked;
  int64_t n = 1, v = 1, iters = 1, regs = 1, threads = 1;
  bool guard = false;  // some slots hold no element (n < threads)
  MmaLayout mma;
  explicit Layout(const gpu::BlockedLayout& b)
      : n(b.numel), v(b.vec), iters(b.reps), regs(b.regs()), threads(b.threads), guard(b.guard) {}
  Layout(const gpu::Layout& l, int64_t numel, int64_t nthreads) : Layout(l.blocked) {
    kind = l.kind;
    if (kind == gpu::LayoutKind::Blocked) return;
    mma = l.mma;
    n = numel;
    threads = nthreads;
    v = 1;
    guard = false;
    regs = iters = kind == gpu::LayoutKind::Mma ? mma.outer() * mma.inner() : gpu::slice_regs(mma);
  }
  bool blocked() const { return kind == gpu::LayoutKind::Blocked; }
  // Parent register (i / inner, i % inner) of a flattened mma register index.
  std::string frag_i(const std::string& i) const { return "(" + i + ") / " + std::to_string(mma.inner()); }
  std::string frag_j(const std::string& i) const { return "(" + i + ") % " + std::to_string(mma.inner()); }
  std::string elem(const std::string& i) const {
    switch (kind) {
      case gpu::LayoutKind::Mma:
        return "(" + gpu::mma_row_expr(mma, "tid >> 5", "tid & 31", frag_i(i), frag_j(i)) + " * " + std::to_string(mma.n) + " + " +
               gpu::mma_col_expr(mma, "tid >> 5", "tid & 31", frag_i(i), frag_j(i)) + ")";
      case gpu::LayoutKind::Slice: return gpu::slice_row_expr(mma, "tid >> 5", "tid & 31", i);
      case gpu::LayoutKind::Blocked:
      case gpu::LayoutKind::Shared: break;
    }
    if (v == 1) return "(" + i + ") * " + std::to_string(threads) + " + tid";
    return "((" + i + ") / " + std::to_string(v) + ") * " + std::to_string(threads * v) + " + tid * " + std::to_string(v) +
           " + (" + i + ") % " + std::to_string(v);
  }
  int64_t owner(int64_t e) const { return (e % (threads * v)) / v; }
  int64_t slot(int64_t e) const { return (e / (threads * v)) * v + e % v; }
  int64_t elem_of(int64_t t, int64_t i) const { return (i / v) * threads * v + t * v + i % v; }
};

inline std::string ctype(DType t) {
  switch (t) {
    case DType::I1: return "bool";
    case DType::I8: return "signed char";
    case DType::I16: return "short";
    case DType::I32: return "int";
    case DType::I64: return "long long";
    case DType::U8: return "unsigned char";
    case DType::U16: return "unsigned short";
    case DType::U32: return "unsigned int";
    case DType::U64: return "unsigned long long";
    case DType::F8E5: return "__nv_fp8_e5m2";
    case DType::F8E4: return "__nv_fp8_e4m3";
    case DType::F16: return "__half";
    case DType::BF16: return "__nv_bfloat16";
    case DType::F32: return "float";
    case DType::F64: return "double";
  }
  return "int";
}

inline std::string ctype(const Type& t) { return ctype(t.dtype) + (t.is_ptr ? "*" : ""); }

inline bool is_half(DType t) { return t == DType::F16 || t == DType::BF16; }

// Arithmetic happens in float for fp8/fp16/bf16 and in int for sub-word integers.
inline DType compute_dtype(DType t) {
  switch (t) {
    case DType::F8E5:
    case DType::F8E4:
    case DType::F16:
    case DType::BF16: return DType::F32;
    case DType::I1:
    case DType::I8:
    case DType::I16: return DType::I32;
    case DType::U8:
    case DType::U16: return DType::U32;
    case DType::I32:
    case DType::I64:
    case DType::U32:
    case DType::U64:
    case DType::F32:
    case DType::F64: return t;
  }
  return t;
}

// cuda_fp8.h's types convert exactly to float and back with round-to-nearest-even and
// __NV_SATFINITE (cvt.rn.satfinite on sm_89+, the same rounding in software below).
inline std::string to_compute(DType t, const std::string& x) {
  if (is_fp8(t)) return "static_cast<float>(" + x + ")";
  if (t == DType::F16) return "__half2float(" + x + ")";
  if (t == DType::BF16) return "__bfloat162float(" + x + ")";
  if (compute_dtype(t) != t) return "static_cast<" + ctype(compute_dtype(t)) + ">(" + x + ")";
  return x;
}

inline std::string from_compute(DType t, const std::string& x) {
  if (is_fp8(t)) return ctype(t) + "(" + x + ")";
  if (t == DType::F16) return "__float2half_rn(" + x + ")";
  if (t == DType::BF16) return "__float2bfloat16_rn(" + x + ")";
  if (compute_dtype(t) != t) return "static_cast<" + ctype(t) + ">(" + x + ")";
  return x;
}

inline std::string cast_expr(DType from, DType to, const std::string& x) {
  if (from == to) return x;
  if (to == DType::I1) return "(" + to_compute(from, x) + " != 0)";
  if (from == DType::F64 && to == DType::F16) return "__double2half(" + x + ")";
  if (from == DType::F64 && to == DType::BF16) return "__double2bfloat16(" + x + ")";
  if (from == DType::F64 && is_fp8(to)) return ctype(to) + "(" + x + ")";  // rounds once, from double
  std::string mid = to_compute(from, x);
  if (is_narrow_float(to)) return from_compute(to, is_narrow_float(from) ? mid : "static_cast<float>(" + mid + ")");
  return "static_cast<" + ctype(to) + ">(" + mid + ")";
}

inline std::string float_literal(double v, bool single) {
  if (std::isnan(v)) return single ? "__int_as_float(0x7fc00000)" : "__longlong_as_double(0x7ff8000000000000LL)";
  if (std::isinf(v)) {
    std::string inf = single ? "__int_as_float(0x7f800000)" : "__longlong_as_double(0x7ff0000000000000LL)";
    return v < 0 ? "(-" + inf + ")" : inf;
  }
  char buf[64];
  if (single) std::snprintf(buf, sizeof buf, "%af", static_cast<double>(static_cast<float>(v)));
  else std::snprintf(buf, sizeof buf, "%a", v);
  return std::string("(") + buf + ")";
}

inline std::string int_literal(DType t, int64_t v) {
  if (t == DType::I1) return v ? "true" : "false";
  if (is_float(t)) {
    std::string f = float_literal(static_cast<double>(v), t != DType::F64);
    return is_narrow_float(t) ? from_compute(t, f) : f;
  }
  std::string n = v == INT64_MIN ? "(-9223372036854775807LL - 1)" : std::to_string(v) + "LL";
  if (is_unsigned(t)) n = std::to_string(static_cast<uint64_t>(v)) + "ULL";
  return "static_cast<" + ctype(t) + ">(" + n + ")";
}

inline std::string const_literal(DType t, const Op& op) {
  if (!is_float(t)) return int_literal(t, op.ival);
  std::string f = float_literal(op.fval, t != DType::F64);
  return is_narrow_float(t) ? from_compute(t, f) : f;
}

// Lowest / highest value of a compute dtype: the identities of max / min.
inline std::string extreme(DType t, bool highest) {
  switch (t) {
    case DType::F32: return highest ? "__int_as_float(0x7f800000)" : "__int_as_float(0xff800000)";
    case DType::F64: return highest ? "__longlong_as_double(0x7ff0000000000000LL)" : "__longlong_as_double(0xfff0000000000000ULL)";
    case DType::I32: return highest ? "2147483647" : "(-2147483647 - 1)";
    case DType::I64: return highest ? "9223372036854775807LL" : "(-9223372036854775807LL - 1)";
    case DType::U32: return highest ? "0xffffffffu" : "0u";
    case DType::U64: return highest ? "0xffffffffffffffffULL" : "0ULL";
    case DType::I1:
    case DType::I8:
    case DType::I16:
    case DType::U8:
    case DType::U16:
    case DType::F8E5:
    case DType::F8E4:
    case DType::F16:
    case DType::BF16: break;
  }
  return "0";
}

inline std::string c_escape(const std::string& s, bool printf_format) {
  std::string r;
  for (unsigned char ch : s) {
    if (ch == '\\' || ch == '"') r += std::string("\\") + static_cast<char>(ch);
    else if (ch == '%' && printf_format) r += "%%";
    else if (ch < 32 || ch >= 127) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", ch);
      r += buf;
    } else r += static_cast<char>(ch);
  }
  return r;
}

inline std::string sanitize(const std::string& s) {
  std::string r;
  for (char c : s) r += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return r;
}

inline int64_t align16(int64_t x) { return (x + 15) / 16 * 16; }

struct MmaAcc {
  MmaLayout layout;
  std::string frag;              // T frag[layout.outer()][layout.inner()], T float or int (dtype)
  DType dtype = DType::F32;
  const Op* narrow = nullptr;    // DotPlan::narrow: the cast the registers leave through
};

// One printer per kernel. Its methods are defined by topic: cuda.cpp (the kernel frame, regions and
// control flow, the dispatch over ops), cuda_layout.cpp (moving data between layouts), cuda_ops.cpp
// (elementwise, memory, reductions, scans) and cuda_dot.cpp (dots and the pipelines that feed them).
class CudaGen {
 public:
  CudaGen(const GpuModule& m, Diagnostics& diags)
      : fn_(*m.fn), m_(m), diags_(diags), target_(m.target), threads_(m.threads()), axis_(*m.axis) {
    for (const auto& [dot, plan] : m.dots) {
      if (!plan.carried) continue;
      MmaAcc& acc = mma_carried_[plan.carried];
      acc.layout = plan.acc.mma;
      acc.frag = name(plan.carried) + "_frag";
      acc.dtype = plan.carried->type.dtype;
      for (const Value* v : plan.acc_values) names_[v] = acc.frag;
      mma_dot_[dot] = &acc;
      acc.narrow = plan.narrow;
      if (plan.narrow) narrowed_.insert(plan.narrow);
      if (plan.fused_add) mma_add_.insert(plan.fused_add);
    }
    for (const auto& [loop, p] : m.pipelines)
      for (const gpu::AsyncLoad& a : p.loads) {
        async_[a.load] = &a;
        if (a.permute) async_[a.permute] = &a;
      }
  }

  std::optional<CudaKernel> run();

 private:
  static constexpr const char* kPipeBase = "TILEC_PIPE_BASE";

  // ---- output -------------------------------------------------------------------------------
  void line(const std::string& s) { body_ << std::string(2 * indent_, ' ') << s << "\n"; }
  void open(const std::string& s) { line(s + " {"); ++indent_; }
  void close(const std::string& tail = "") { --indent_; line("}" + tail); }
  void unroll(int64_t n, const std::string& var = "i");
  void fail(const Op& op, const std::string& msg) { diags_.error(op.loc, "CUDA backend: " + msg); }

  Layout layout(int64_t n) const { return Layout(gpu::blocked_layout(n, threads_, m_.vec_elems).blocked); }
  Layout layout(const Value* v) const;
  const std::string& name(const Value* v);
  // Element i of a value inside a per-slot loop (scalars are uniform).
  std::string el(const Value* v, const std::string& i = "i") { return v->type.is_tile() ? name(v) + "[" + i + "]" : name(v); }

  void declare(const Value* v);
  void assign(const std::string& dst, const Value* src);
  void define(const Value* v, const std::function<std::string()>& expr, bool needs_e = false);
  void need_smem(int64_t bytes);
  void loc_comment(const Op& op);
  void emit_region(const Region& r);
  void assign_all(const std::vector<std::string>& dsts, const std::vector<Value*>& srcs);
  const Op* terminator(const Region& r, OpKind k) { return !r.ops.empty() && r.ops.back()->kind == k ? r.ops.back() : nullptr; }

  void emit_for(const Op& op);
  void emit_if(const Op& op);
  void emit_while(const Op& op);
  void remap(const Value* src, const Value* dst, const std::function<int64_t(int64_t)>& src_index,
             const std::function<std::string(const std::string&)>& src_index_expr);
  void exchange_begin(const Value* src, const Layout& ls);
  static std::vector<int64_t> strides(const std::vector<int64_t>& shape);
  static std::vector<std::string> elem_coords(const Layout& l, const std::vector<int64_t>& shape, const std::string& i);
  static std::vector<std::string> broadcast_coords(const Type& src, const std::vector<std::string>& dst_coords);
  std::string remat(const Value* v, const std::vector<std::string>& coords);
  void emit_broadcast(const Op& op);
  void emit_permute(const Op& op);
  void emit_same_order(const Op& op);
  std::string binary_expr(const Op& op, const std::string& a0, const std::string& b0);
  std::string unary_expr(const Op& op, const std::string& x0);
  std::string cmp_expr(const Op& op, const std::string& a0, const std::string& b0);
  int64_t vector_pack(const Op& op, const Value* ptr, const Value* mask);
  static std::string qualified_access(const Op& op);
  static std::string load_from(const Op& op, const std::string& addr);
  static std::string store_to(const Op& op, const std::string& addr, const std::string& value);
  void emit_load(const Op& op);
  std::string lane_condition(const Layout& l, const Value* mask);
  void emit_store(const Op& op);
  void emit_atomic(const Op& op);
  void emit_assert(const Op& op);
  void emit_print(const Op& op);
  void emit_inline_asm(const Op& op);
  std::string combine(ReduceKind k, DType ct, const std::string& acc, const std::string& x);
  std::string combine_arg(ReduceKind k, const std::string& acc, const std::string& idx, const std::string& x, const std::string& xi);
  std::string identity(ReduceKind k, DType ct);
  void emit_reduce(const Op& op);
  void emit_row_reduce(const Op& op);
  void emit_scan(const Op& op);
  void emit_register_scan(const Op& op, const Layout& l, int64_t len);
  void emit_shared_scan(const Op& op, const Layout& l, int64_t len, int64_t inner);
  void store_matrix(const Value* v, const std::string& smem_name, const std::string& index_of_e, const std::string& conv);
  void emit_dot(const Op& op);
  static bool is_float_zero(const Value* v);
  void frag_loops(const MmaAcc& acc, int fj_step = 1);
  void read_padded_rows(const std::string& dst, const Layout& lw, const std::string& t, int64_t es, const std::string& buf,
                        int64_t cols);
  void frag_smem(const MmaAcc& acc, int64_t ldc, bool to_smem);
  std::string frag_decl(const MmaAcc& acc);
  void emit_frag_init(const MmaAcc& acc, const Value* init);
  void emit_frag_to_flat(const MmaAcc& acc, const Value* res);
  void stage_rows(const Value* v, const std::string& s, int64_t cols, int64_t ld);
  const gpu::AsyncLoad* async_operand(const Value* v) const;
  std::string stage_addr(const gpu::AsyncLoad& a, const std::string& stage);

  // Where a tensor-core dot's result registers are: flat register `f` and, for wgmma, the n/2
  // registers of m64 block `mi` (a loop-carried accumulator is [blocks][n/2], others flat).
  struct DotRegs {
    std::function<std::string(const std::string&)> flat;
    std::function<std::string(int64_t)> block;
    std::string array;
  };
  DotRegs carried_regs(const MmaAcc& acc);
  void emit_dot_regs(const Op& op);
  std::string operand_stage(const gpu::AsyncLoad& a) { return a.invariant ? "0u" : "pipe_read"; }

  void emit_dot_mma(const Op& op, const MmaLayout& p, const DotRegs& regs);
  void emit_dot_wgmma(const Op& op, const MmaLayout& p, const DotRegs& regs);
  void emit_pipeline_issue(const Op& loop, const gpu::LoopPipeline& p);
  void emit_async_copy(const gpu::AsyncLoad& a, const std::string& stage);
  void emit_tma_copies(const gpu::LoopPipeline& p, bool invariant, const std::string& stage, const std::string& bar);
  void emit_tma_access(const Op& op, int map);
  TensorMapParam tensor_map_param(const gpu::TensorMap& t) const;
  std::string loop_cond(const Op& op, const std::string& iv);
  void with_operands_converted(const Op& op, const std::function<void()>& body);
  gpu::Layout current_layout(const Value* v) const;
  std::string convert(const Value* v, const gpu::Layout& want);
  void emit_op(const Op& op);
  void emit_op_body(const Op& op);
  std::unordered_map<const Value*, MmaAcc> mma_carried_;  // For result -> its register accumulator
  std::unordered_set<const Op*> narrowed_;                 // casts done by emit_frag_to_flat
  std::unordered_map<const Op*, const MmaAcc*> mma_dot_;   // Dot accumulating into one
  std::unordered_set<const Op*> mma_add_;                  // `acc + dot` folded into that dot
  std::unordered_map<const Op*, const gpu::AsyncLoad*> async_;  // loads (and their tl.trans) moved by cp.async
  std::unordered_map<const Value*, gpu::Layout> converted_;     // operands converted for the op being printed

  const Function& fn_;
  const GpuModule& m_;
  Diagnostics& diags_;
  const gpu::GpuTarget& target_;
  int64_t threads_;
  const AxisAnalysis& axis_;
  int in_pipeline_ = 0;        // > 0 while pipeline buffers may hold copies in flight
  int64_t pipe_scratch_ = 0;   // scratch used meanwhile: the buffers start after it
  std::ostringstream body_;
  int indent_ = 1;
  int64_t smem_ = 0;
  std::vector<std::string> failure_texts_;  // per failed-check id: what the launcher reports (emit_assert)
  int last_line_ = -1;
  int tmp_counter_ = 0;
  std::unordered_map<const Value*, std::string> names_;
};

}  // namespace tilec::cuda_gen
