// Input: gpu-ir (a GpuModule: tile IR with layouts, dot lowerings and loop pipelines). Output: one CUDA C
// kernel (one CTA per program) spelling out those decisions; unsupported ops are diagnosed.
#include "tilec/codegen/cuda.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "tilec/codegen/axis_info.h"
#include "tilec/codegen/device_print.h"
#include "tilec/gpu/gpu_ir.h"
#include "tilec/libdevice.h"

namespace tilec {
namespace {

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

std::string ctype(DType t) {
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
    case DType::F16: return "__half";
    case DType::BF16: return "__nv_bfloat16";
    case DType::F32: return "float";
    case DType::F64: return "double";
  }
  return "int";
}

std::string ctype(const Type& t) { return ctype(t.dtype) + (t.is_ptr ? "*" : ""); }

bool is_half(DType t) { return t == DType::F16 || t == DType::BF16; }

// Arithmetic happens in float for 16-bit floats and in int for sub-word integers.
DType compute_dtype(DType t) {
  switch (t) {
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

std::string to_compute(DType t, const std::string& x) {
  if (t == DType::F16) return "__half2float(" + x + ")";
  if (t == DType::BF16) return "__bfloat162float(" + x + ")";
  if (compute_dtype(t) != t) return "static_cast<" + ctype(compute_dtype(t)) + ">(" + x + ")";
  return x;
}

std::string from_compute(DType t, const std::string& x) {
  if (t == DType::F16) return "__float2half_rn(" + x + ")";
  if (t == DType::BF16) return "__float2bfloat16_rn(" + x + ")";
  if (compute_dtype(t) != t) return "static_cast<" + ctype(t) + ">(" + x + ")";
  return x;
}

std::string cast_expr(DType from, DType to, const std::string& x) {
  if (from == to) return x;
  if (to == DType::I1) return "(" + to_compute(from, x) + " != 0)";
  if (from == DType::F64 && to == DType::F16) return "__double2half(" + x + ")";
  if (from == DType::F64 && to == DType::BF16) return "__double2bfloat16(" + x + ")";
  std::string mid = to_compute(from, x);
  if (is_half(to)) return from_compute(to, is_half(from) ? mid : "static_cast<float>(" + mid + ")");
  return "static_cast<" + ctype(to) + ">(" + mid + ")";
}

std::string float_literal(double v, bool single) {
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

std::string int_literal(DType t, int64_t v) {
  if (t == DType::I1) return v ? "true" : "false";
  if (is_float(t)) {
    std::string f = float_literal(static_cast<double>(v), t != DType::F64);
    return is_half(t) ? from_compute(t, f) : f;
  }
  std::string n = v == INT64_MIN ? "(-9223372036854775807LL - 1)" : std::to_string(v) + "LL";
  if (is_unsigned(t)) n = std::to_string(static_cast<uint64_t>(v)) + "ULL";
  return "static_cast<" + ctype(t) + ">(" + n + ")";
}

std::string const_literal(DType t, const Op& op) {
  if (!is_float(t)) return int_literal(t, op.ival);
  std::string f = float_literal(op.fval, t != DType::F64);
  return is_half(t) ? from_compute(t, f) : f;
}

// Lowest / highest value of a compute dtype: the identities of max / min.
std::string extreme(DType t, bool highest) {
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
    case DType::F16:
    case DType::BF16: break;
  }
  return "0";
}

std::string c_escape(const std::string& s, bool printf_format) {
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

std::string sanitize(const std::string& s) {
  std::string r;
  for (char c : s) r += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return r;
}

int64_t align16(int64_t x) { return (x + 15) / 16 * 16; }

struct MmaAcc {
  MmaLayout layout;
  std::string frag;  // float frag[layout.outer()][layout.inner()]
};

class CudaGen {
 public:
  CudaGen(const GpuModule& m, Diagnostics& diags)
      : fn_(*m.fn), m_(m), diags_(diags), target_(m.target), threads_(m.threads()), axis_(*m.axis) {
    for (const auto& [dot, plan] : m.dots) {
      if (!plan.carried) continue;
      MmaAcc& acc = mma_carried_[plan.carried];
      acc.layout = plan.acc.mma;
      acc.frag = name(plan.carried) + "_frag";
      for (const Value* v : plan.acc_values) names_[v] = acc.frag;
      mma_dot_[dot] = &acc;
      if (plan.fused_add) mma_add_.insert(plan.fused_add);
    }
    for (const auto& [loop, p] : m.pipelines)
      for (const gpu::AsyncLoad& a : p.loads) {
        async_[a.load] = &a;
        if (a.permute) async_[a.permute] = &a;
      }
  }

  std::optional<CudaKernel> run() {
    int before = diags_.error_count();
    std::string params;
    for (size_t i = 0; i < fn_.args.size(); ++i) {
      const Value* a = fn_.args[i];
      if (a->type.is_tile()) {
        diags_.error(fn_.loc, "kernel argument '" + a->name + "' is a tile; only scalars and pointers can be passed");
        continue;
      }
      if (i) params += ", ";
      params += ctype(a->type) + " " + name(a);
    }
    indent_ = 1;
    line("extern __shared__ __align__(16) char smem[];");
    line("const int tid = threadIdx.x;");
    if (!m_.pipelines.empty()) {
      // Pipeline buffers start 1024-byte aligned (swizzle atoms) after the scratch space.
      line("const unsigned pipe_smem = (tc_smem_addr(smem) + " + std::string(kPipeBase) + " + 1023u) & ~1023u;");
    }
    emit_region(fn_.body);
    if (diags_.error_count() != before) return std::nullopt;

    std::ostringstream src;
    src << "// tilec: kernel '" << fn_.name << "', " << threads_ << " threads per program (num_warps=" << m_.num_warps
        << "), sm_" << target_.arch << target_.name_suffix << ".\n";
    if (!fn_.constexprs.empty()) {
      src << "// constexprs:";
      for (const auto& [n, v] : fn_.constexprs) src << " " << n << "=" << v;
      src << "\n";
    }
    src << "#include <cuda_fp16.h>\n#include <cuda_bf16.h>\n#include \"tilec_cuda.h\"\n\n";
    src << "extern \"C\" __global__ void __launch_bounds__(" << threads_ << ") " << fn_.name << "(" << params << ") {\n";
    std::string body = body_.str();
    int64_t scratch = pipe_scratch_;
    int64_t pipe = 0;
    for (const auto& [loop, p] : m_.pipelines) pipe = std::max(pipe, p.smem_bytes);
    for (size_t at = body.find(kPipeBase); at != std::string::npos; at = body.find(kPipeBase))
      body.replace(at, std::string(kPipeBase).size(), std::to_string(scratch) + "u");
    src << body << "}\n";
    CudaKernel k;
    k.source = src.str();
    k.entry = fn_.name;
    k.threads = static_cast<int>(threads_);
    k.shared_bytes = static_cast<int>(std::max(smem_, pipe ? align16(scratch) + 1024 + pipe : 0));
    k.arch_specific = *target_.name_suffix != 0;
    return k;
  }

 private:
  static constexpr const char* kPipeBase = "TILEC_PIPE_BASE";

  // ---- output -------------------------------------------------------------------------------
  void line(const std::string& s) { body_ << std::string(2 * indent_, ' ') << s << "\n"; }
  void open(const std::string& s) { line(s + " {"); ++indent_; }
  void close(const std::string& tail = "") { --indent_; line("}" + tail); }
  void unroll(int64_t n, const std::string& var = "i") {
    line("#pragma unroll");
    open("for (int " + var + " = 0; " + var + " < " + std::to_string(n) + "; ++" + var + ")");
  }

  void fail(const Op& op, const std::string& msg) { diags_.error(op.loc, "CUDA backend: " + msg); }

  Layout layout(int64_t n) const { return Layout(gpu::blocked_layout(n, threads_, m_.vec_elems).blocked); }
  // The layout the passes chose, or the one an operand was converted to for the op being printed.
  Layout layout(const Value* v) const {
    int64_t n = v->type.is_tile() ? v->type.numel() : 1;
    auto it = converted_.find(v);
    return Layout(it != converted_.end() ? it->second : m_.layout(v), n, threads_);
  }

  const std::string& name(const Value* v) {
    auto it = names_.find(v);
    if (it != names_.end()) return it->second;
    std::string n = "v" + std::to_string(v->id);
    if (!v->name.empty()) n += "_" + sanitize(v->name);
    return names_[v] = n;
  }
  // Element i of a value inside a per-slot loop (scalars are uniform).
  std::string el(const Value* v, const std::string& i = "i") { return v->type.is_tile() ? name(v) + "[" + i + "]" : name(v); }

  void declare(const Value* v) {
    if (v->type.is_tile()) line(ctype(v->type) + " " + name(v) + "[" + std::to_string(layout(v).regs) + "];");
    else line(ctype(v->type) + " " + name(v) + ";");
  }
  // `dst = src` for whole values of one type.
  void assign(const std::string& dst, const Value* src) {
    if (!src->type.is_tile()) {
      line(dst + " = " + name(src) + ";");
      return;
    }
    unroll(layout(src).regs);
    line(dst + "[i] = " + name(src) + "[i];");
    close();
  }
  // Defines `v` elementwise from an expression of the slot index `i` (and `e`, its element).
  void define(const Value* v, const std::function<std::string()>& expr, bool needs_e = false) {
    if (!v->type.is_tile()) {
      line(ctype(v->type) + " " + name(v) + " = " + expr() + ";");
      return;
    }
    Layout l = layout(v);
    declare(v);
    unroll(l.regs);
    if (needs_e) line("const int e = " + l.elem("i") + ";");
    line(name(v) + "[i] = " + expr() + ";");
    close();
  }
  void need_smem(int64_t bytes) {
    smem_ = std::max(smem_, align16(bytes));
    if (in_pipeline_) pipe_scratch_ = std::max(pipe_scratch_, align16(bytes));
  }

  void loc_comment(const Op& op) {
    if (!op.loc.file || op.loc.line <= 0) return;
    if (op.loc.line != last_line_) {
      std::string text(op.loc.file->line(op.loc.line));
      size_t b = text.find_first_not_of(" \t");
      text = b == std::string::npos ? "" : text.substr(b);
      while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
      line("// " + std::to_string(op.loc.line) + ": " + text);
      last_line_ = op.loc.line;
    }
    body_ << "#line " << op.loc.line << " \"" << c_escape(op.loc.file->path(), false) << "\"\n";
  }

  // ---- regions ------------------------------------------------------------------------------
  void emit_region(const Region& r) {
    for (const Op* op : r.ops) {
      if (op->kind == OpKind::Yield || op->kind == OpKind::Condition) continue;
      if (diags_.error_count() >= Diagnostics::kMaxErrors) return;
      loc_comment(*op);
      emit_op(*op);
    }
  }

  // Copies yielded values into loop/branch variables; through temporaries when a yield reads a
  // variable that an earlier copy overwrites (e.g. a swap of two loop-carried values).
  void assign_all(const std::vector<std::string>& dsts, const std::vector<Value*>& srcs) {
    bool clash = false;
    for (size_t i = 0; i < srcs.size(); ++i)
      for (size_t j = 0; j < dsts.size(); ++j)
        if (j != i && name(srcs[i]) == dsts[j]) clash = true;
    if (!clash) {
      for (size_t i = 0; i < srcs.size() && i < dsts.size(); ++i)
        if (dsts[i] != name(srcs[i])) assign(dsts[i], srcs[i]);
      return;
    }
    std::vector<std::string> tmps;
    for (size_t i = 0; i < srcs.size(); ++i) {
      std::string t = "tmp" + std::to_string(tmp_counter_++);
      if (srcs[i]->type.is_tile()) {
        line(ctype(srcs[i]->type) + " " + t + "[" + std::to_string(layout(srcs[i]).regs) + "];");
        assign(t, srcs[i]);
      } else {
        line(ctype(srcs[i]->type) + " " + t + " = " + name(srcs[i]) + ";");
      }
      tmps.push_back(t);
    }
    for (size_t i = 0; i < srcs.size() && i < dsts.size(); ++i) {
      if (srcs[i]->type.is_tile()) {
        unroll(layout(srcs[i]).regs);
        line(dsts[i] + "[i] = " + tmps[i] + "[i];");
        close();
      } else {
        line(dsts[i] + " = " + tmps[i] + ";");
      }
    }
  }

  const Op* terminator(const Region& r, OpKind k) { return !r.ops.empty() && r.ops.back()->kind == k ? r.ops.back() : nullptr; }

  void emit_for(const Op& op) {
    const Region& body = op.regions.at(0);
    auto pit = m_.pipelines.find(&op);
    const gpu::LoopPipeline* pipe = pit == m_.pipelines.end() ? nullptr : &pit->second;
    std::vector<std::string> vars;
    std::vector<const MmaAcc*> frags(op.results.size(), nullptr);
    for (size_t i = 0; i < op.results.size(); ++i) {
      auto it = mma_carried_.find(op.results[i]);
      if (it != mma_carried_.end()) {
        // Accumulator kept in mma fragment registers for the whole loop; the dot updates it in place.
        frags[i] = &it->second;
        emit_frag_init(it->second, op.operands.at(i + 3));
        continue;
      }
      declare(op.results[i]);
      assign(name(op.results[i]), op.operands.at(i + 3));
      names_[body.args.at(i + 1)] = name(op.results[i]);
      vars.push_back(name(op.results[i]));
    }
    const Value* iv = body.args.at(0);
    const Value* step = op.operands[2];
    if (pipe) {
      open("");
      line("// software pipeline: " + std::to_string(pipe->stages) + " stages, cp.async copies " + std::to_string(pipe->distance) +
           " iterations ahead" + (pipe->async_mma ? ", issued while the iteration's wgmma runs (one wgmma group in flight)" : ""));
      ++in_pipeline_;
      line(ctype(iv->type) + " pf_iv = " + name(op.operands[0]) + ";");
      for (size_t c : pipe->carried) {
        const Value* r = op.results.at(c);
        std::string n = "pf_" + name(r);
        line(ctype(r->type) + " " + n + (r->type.is_tile() ? "[" + std::to_string(layout(r).regs) + "]" : "") + ";");
        assign(n, op.operands.at(c + 3));
      }
      bool invariant = false;
      for (const gpu::AsyncLoad& a : pipe->loads)
        if (a.invariant) {
          emit_async_copy(a, "0u");
          invariant = true;
        }
      if (invariant) line("tc_cp_async_commit();  // the operands read by every iteration");
      line("int pipe_read = 0, pipe_write = 0;");
      line("#pragma unroll 1");
      open("for (int pf_s = 0; pf_s < " + std::to_string(pipe->distance) + "; ++pf_s)");
      emit_pipeline_issue(op, *pipe);
      close();
    }
    open("for (" + ctype(iv->type) + " " + name(iv) + " = " + name(op.operands[0]) + "; " + loop_cond(op, name(iv)) + "; " + name(iv) +
         " += " + name(step) + ")");
    if (pipe) {
      line("tc_cp_async_wait<" + std::to_string(pipe->distance - 1) + ">();  // this iteration's stage has landed");
      if (std::any_of(pipe->dots.begin(), pipe->dots.end(), [&](const Op* d) { return m_.dots.at(d).kind == DotLowering::Wgmma; }))
        line("tc_fence_proxy_async();");
      line("__syncthreads();  // ... for every thread, and no thread still reads the stage refilled next");
      if (!pipe->async_mma) emit_pipeline_issue(op, *pipe);
    }
    emit_region(body);
    if (pipe) {
      if (pipe->async_mma) {
        // This iteration's wgmma keeps running: wait for the previous one only, in every
        // warpgroup, before refilling the stage it read.
        line("tc_wgmma_wait<1>();");
        line("__syncthreads();");
        emit_pipeline_issue(op, *pipe);
      }
      line("pipe_read = pipe_read + 1 == " + std::to_string(pipe->stages) + " ? 0 : pipe_read + 1;");
    }
    if (const Op* y = terminator(body, OpKind::Yield)) {
      std::vector<Value*> ys;
      for (size_t i = 0; i < y->operands.size(); ++i)
        if (i >= frags.size() || !frags[i]) ys.push_back(y->operands[i]);
      with_operands_converted(*y, [&] { assign_all(vars, ys); });
    }
    close();
    if (pipe) {
      if (pipe->async_mma) {
        line("tc_wgmma_wait<0>();");
        line("tc_fence_operand(" + mma_dot_.at(pipe->dots.at(0))->frag + ");  // the accumulator is final only after the wait");
      }
      line("tc_cp_async_wait<0>();");
      line("__syncthreads();");
      --in_pipeline_;
      close();
    }
    for (size_t i = 0; i < frags.size(); ++i)
      if (frags[i]) emit_frag_to_flat(*frags[i], op.results[i]);
  }

  void emit_if(const Op& op) {
    std::vector<std::string> vars;
    for (const Value* r : op.results) {
      declare(r);
      vars.push_back(name(r));
    }
    open("if (" + name(op.operands.at(0)) + ")");
    emit_region(op.regions.at(0));
    if (const Op* y = terminator(op.regions[0], OpKind::Yield)) with_operands_converted(*y, [&] { assign_all(vars, y->operands); });
    close(" else {");
    ++indent_;
    emit_region(op.regions.at(1));
    if (const Op* y = terminator(op.regions[1], OpKind::Yield)) with_operands_converted(*y, [&] { assign_all(vars, y->operands); });
    close();
  }

  void emit_while(const Op& op) {
    const Region &before = op.regions.at(0), &after = op.regions.at(1);
    std::vector<std::string> carried, results;
    for (size_t i = 0; i < before.args.size() && i < op.operands.size(); ++i) {
      std::string n = name(before.args[i]);
      if (before.args[i]->type.is_tile()) line(ctype(before.args[i]->type) + " " + n + "[" + std::to_string(layout(before.args[i]).regs) + "];");
      else line(ctype(before.args[i]->type) + " " + n + ";");
      assign(n, op.operands[i]);
      carried.push_back(n);
    }
    for (size_t i = 0; i < op.results.size(); ++i) {
      declare(op.results[i]);
      if (i < after.args.size()) names_[after.args[i]] = name(op.results[i]);
      results.push_back(name(op.results[i]));
    }
    open("while (true)");
    emit_region(before);
    const Op* c = terminator(before, OpKind::Condition);
    if (!c || c->operands.empty()) {
      fail(op, "while loop without a condition");
      close();
      return;
    }
    with_operands_converted(*c, [&] {
      assign_all(results, std::vector<Value*>(c->operands.begin() + 1, c->operands.end()));
      line("if (!" + name(c->operands[0]) + ") break;");
    });
    emit_region(after);
    if (const Op* y = terminator(after, OpKind::Yield)) with_operands_converted(*y, [&] { assign_all(carried, y->operands); });
    close();
  }

  // ---- data movement between threads ---------------------------------------------------------
  // dst element e takes src element src_index(e). Stays in registers when every thread already
  // owns the elements it needs at a slot that is the same for all threads; else via shared memory.
  void remap(const Value* src, const Value* dst, const std::function<int64_t(int64_t)>& src_index,
             const std::function<std::string(const std::string&)>& src_index_expr) {
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
  void exchange_begin(const Value* src, const Layout& ls) {
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

  static std::vector<int64_t> strides(const std::vector<int64_t>& shape) {
    std::vector<int64_t> s(shape.size(), 1);
    for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * shape[i + 1];
    return s;
  }

  // Row-major index into a broadcast's source of the result element at flat index `e`.
  static std::string broadcast_index_expr(const Type& src, const Type& dst, const std::string& e) {
    std::vector<int64_t> ds = dst.shape, ss = src.shape, dst_st = strides(ds), src_st = strides(ss);
    std::string s;
    for (size_t d = 0; d < ds.size(); ++d)
      if (ss[d] != 1) s += (s.empty() ? "" : " + ") + ("((" + e + ") / " + std::to_string(dst_st[d]) + ") % " + std::to_string(ds[d]) + " * " + std::to_string(src_st[d]));
    return s.empty() ? std::string("0") : s;
  }

  // Element `idx` (row-major) of an index chain (gpu::is_index_chain), recomputed from scratch.
  std::string remat(const Value* v, const std::string& idx) {
    if (!v->type.is_tile()) return name(v);
    const Op& op = *v->def;
    // Parenthesized: the expression printers combine operands as if they were names.
    auto arg = [&](size_t i) { return "(" + remat(op.operands[i], idx) + ")"; };
    switch (op.kind) {
      case OpKind::Constant: return const_literal(v->type.dtype, op);
      case OpKind::Arange: return "static_cast<int>(" + std::to_string(op.ints.at(0)) + " + (" + idx + "))";
      case OpKind::Splat: return name(op.operands[0]);
      case OpKind::ExpandDims:
      case OpKind::Hint: return arg(0);
      case OpKind::Broadcast: return remat(op.operands[0], "(" + broadcast_index_expr(op.operands[0]->type, v->type, idx) + ")");
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

  void emit_broadcast(const Op& op) {
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
      define(dst, [&] { return remat(src, broadcast_index_expr(src->type, dst->type, "e")); }, true);
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

  void emit_permute(const Op& op) {
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
  void emit_same_order(const Op& op) {
    const Value *src = op.operands[0], *dst = op.result();
    if (src->type.is_tile() && !dst->type.is_tile()) {
      remap(src, dst, [](int64_t) { return 0; }, [](const std::string&) { return std::string("0"); });
      return;
    }
    define(dst, [&] { return el(src); });
  }

  // ---- elementwise --------------------------------------------------------------------------
  std::string binary_expr(const Op& op, const std::string& a0, const std::string& b0) {
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
        r = ct == DType::F32 && op.result()->type.is_tile() ? "tc_div_full(" + a + ", " + b + ")" : a + " / " + b;
        break;
      case BinaryKind::Rem: r = f ? (dbl ? "fmod(" : "fmodf(") + a + ", " + b + ")" : a + " % " + b; break;
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

  std::string unary_expr(const Op& op, const std::string& x0) {
    DType t = op.result()->type.dtype;
    bool f = is_float(t), dbl = t == DType::F64;
    std::string x = to_compute(t, x0), r;
    auto fn = [&](const char* name) { return std::string(name) + (dbl ? "" : "f") + "(" + x + ")"; };
    switch (op.unary) {
      case UnaryKind::Neg: r = "-" + x; break;
      case UnaryKind::Not: r = t == DType::I1 ? "!" + x0 : "~" + x; break;
      case UnaryKind::Exp: r = dbl ? "exp(" + x + ")" : "__expf(" + x + ")"; break;
      case UnaryKind::Exp2: r = fn("exp2"); break;
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

  std::string cmp_expr(const Op& op, const std::string& a0, const std::string& b0) {
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
  int64_t vector_pack(const Op& op, const Value* ptr, const Value* mask) {
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
  static std::string qualified_access(const Op& op) {
    std::string q = op.is_volatile                      ? "volatile"
                    : op.cache != CacheModifier::None ? cache_modifier_name(op.cache) + 1  // without the dot
                                                      : eviction_policy_name(op.evict);
    return q.empty() ? q : (op.kind == OpKind::Load ? "tc_ld_" : "tc_st_") + q;
  }
  static std::string load_from(const Op& op, const std::string& addr) {
    std::string f = qualified_access(op);
    return f.empty() ? "*" + addr : f + "(" + addr + ")";
  }
  static std::string store_to(const Op& op, const std::string& addr, const std::string& value) {
    std::string f = qualified_access(op);
    return f.empty() ? "*" + addr + " = " + value + ";" : f + "(" + addr + ", " + value + ");";
  }

  void emit_load(const Op& op) {
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

  // Inside an unrolled register loop: the condition under which register i is a real, unmasked
  // element (empty when every one is), declaring `e` when the tile has fewer elements than slots.
  std::string lane_condition(const Layout& l, const Value* mask) {
    std::string cond;
    if (l.guard) {
      line("const int e = " + l.elem("i") + ";");
      cond = "e < " + std::to_string(l.n);
    }
    if (mask) cond += (cond.empty() ? "" : " && ") + el(mask);
    return cond;
  }

  void emit_store(const Op& op) {
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

  void emit_atomic(const Op& op) {
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
    if (!res->type.is_tile()) {
      // One thread performs a scalar atomic; its old value is broadcast to the program.
      need_smem(8);
      line(ctype(t) + " " + name(res) + ";");
      open("");
      line(ctype(t) + "* xs = reinterpret_cast<" + ctype(t) + "*>(smem);");
      line("if (tid == 0) xs[0] = " + (mask ? name(mask) + " ? " + call("") + " : " + zero : call("")) + ";");
      line("__syncthreads();");
      line(name(res) + " = xs[0];");
      line("__syncthreads();");
      close();
      return;
    }
    Layout l = layout(res);
    declare(res);
    unroll(l.regs);
    std::string cond = lane_condition(l, mask);
    line(name(res) + "[i] = " + (cond.empty() ? call("i") : "(" + cond + ") ? " + call("i") + " : " + zero) + ";");
    close();
  }

  // A debug-mode bounds check (operands cond, ptr, base, extent) also prints the element offset
  // and the buffer's extent, as the CPU backend's error does.
  void emit_assert(const Op& op) {
    const Value* c = op.operands[0];
    bool bounds = op.operands.size() == 4;
    std::string where = op.loc.file ? c_escape(op.loc.file->path(), true) + ":" + std::to_string(op.loc.line) : fn_.name;
    auto msg = [&](const std::string& i) {
      std::string extra, args;
      if (bounds) {
        auto at = [&](const Value* v) { return v->type.is_tile() ? el(v, i) : name(v); };
        extra = ": element offset %lld, buffer of %lld elements";
        args = ", (long long)(" + at(op.operands[1]) + " - " + at(op.operands[2]) + "), (long long)(" + at(op.operands[3]) + ")";
      }
      return "printf(\"" + where + ": block [%d, %d, %d], thread [%d]: Assertion failed: " + c_escape(op.str, true) + extra +
             "\\n\", (int)blockIdx.x, (int)blockIdx.y, (int)blockIdx.z, tid" + args + ");";
    };
    if (!c->type.is_tile()) {
      open("if (!" + name(c) + ")");
      line(msg(""));
    } else {
      Layout l = layout(c);
      unroll(l.regs);
      line("const int e = " + l.elem("i") + ";");
      open("if (" + std::string(l.guard ? "e < " + std::to_string(l.n) + " && " : "") + "!" + name(c) + "[i])");
      line(msg("i"));
    }
    line("__trap();");
    close();
    if (c->type.is_tile()) close();
  }

  // tl.device_print: each element once per program, printed by the thread that holds it (format:
  // device_print.h); a scalar by thread 0.
  void emit_print(const Op& op) {
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
          case PrintValue::Float: return t == DType::F16 || t == DType::BF16 ? "(double)(float)(" + x + ")" : "(double)(" + x + ")";
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
  void emit_inline_asm(const Op& op) {
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
  std::string combine(ReduceKind k, DType ct, const std::string& acc, const std::string& x) {
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
  std::string combine_arg(ReduceKind k, const std::string& acc, const std::string& idx, const std::string& x, const std::string& xi) {
    const char* better = k == ReduceKind::ArgMax ? ">" : "<";
    return "if (" + x + " " + better + " " + acc + " || (" + x + " == " + acc + " && " + xi + " < " + idx + ")) { " + acc + " = " + x +
           "; " + idx + " = " + xi + "; }";
  }
  std::string identity(ReduceKind k, DType ct) {
    switch (k) {
      case ReduceKind::Sum: return "static_cast<" + ctype(ct) + ">(0)";
      case ReduceKind::Max:
      case ReduceKind::ArgMax: return extreme(ct, false);
      case ReduceKind::Min:
      case ReduceKind::ArgMin: return extreme(ct, true);
    }
    return "0";
  }

  void emit_reduce(const Op& op) {
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
  void emit_row_reduce(const Op& op) {
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

  void emit_scan(const Op& op) {
    const Value *src = op.operands[0], *res = op.result();
    DType t = src->type.dtype, ct = compute_dtype(t);
    std::string cts = ctype(ct);
    std::vector<int64_t> shape = src->type.shape;
    int64_t len = shape.at(op.axis), inner = 1;
    for (size_t d = op.axis + 1; d < shape.size(); ++d) inner *= shape[d];
    Layout l = layout(src);
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

  // ---- dot ----------------------------------------------------------------------------------
  void store_matrix(const Value* v, const std::string& smem_name, const std::string& index_of_e, const std::string& conv) {
    Layout l = layout(v);
    unroll(l.regs);
    line("const int e = " + l.elem("i") + ";");
    std::string x = conv.empty() ? name(v) + "[i]" : conv + "(" + name(v) + "[i])";
    line(std::string(l.guard ? "if (e < " + std::to_string(l.n) + ") " : "") + smem_name + "[" + index_of_e + "] = " + x + ";");
    close();
  }

  void emit_dot(const Op& op) {
    const Value *a = op.operands[0], *b = op.operands[1], *c = op.operands[2], *res = op.result();
    int64_t m = a->type.shape.at(0), kd = a->type.shape.at(1), n = b->type.shape.at(1);
    DType ta = a->type.dtype, tc = c->type.dtype;
    bool staged = m_.dots.at(&op).kind == DotLowering::MmaStaged;
    bool f16 = staged && is_half(ta), tf32 = staged && ta == DType::F32;
    if (a->type.is_ptr || b->type.is_ptr || b->type.dtype != ta) {
      fail(op, "tl.dot needs two numeric operands of one dtype");
      return;
    }
    std::string M = std::to_string(m), K = std::to_string(kd), N = std::to_string(n);
    declare(res);
    open("");
    if (!f16 && !tf32) {
      // Plain FMA over shared-memory copies: small shapes, fp64, int8, IEEE fp32, 16-bit accumulators.
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
    // fragment register is one conflict-free 32-bit load; the accumulator goes through shared
    // memory to and from the flat layout.
    int64_t es = f16 ? 2 : 4, pad = f16 ? 8 : 4, ld = kd + pad, ldc = n + 4, kstep = f16 ? 16 : 8;
    int64_t off_b = align16(m * ld * es), off_c = align16(off_b + n * ld * es);
    need_smem(off_c + m * ldc * 4);
    std::string in = f16 ? ctype(ta) : "unsigned", LD = std::to_string(ld), LDC = std::to_string(ldc);
    line(in + "* sa = reinterpret_cast<" + in + "*>(smem);");
    line(in + "* sb = reinterpret_cast<" + in + "*>(smem + " + std::to_string(off_b) + ");");
    line("float* sc = reinterpret_cast<float*>(smem + " + std::to_string(off_c) + ");");
    std::string conv = tf32 ? "tc_tf32" : "";
    store_matrix(a, "sa", "(e / " + K + ") * " + LD + " + e % " + K, conv);
    store_matrix(b, "sb", "(e % " + N + ") * " + LD + " + e / " + N, conv);
    store_matrix(c, "sc", "(e / " + N + ") * " + LDC + " + e % " + N, "");
    line("__syncthreads();");
    int64_t mt = m / 16, nt = n / 8, g = nt;
    while (g > 1 && (g > target_.mma_group || mt * (nt / g) < m_.num_warps)) g /= 2;
    int64_t ng = nt / g;
    std::string G = std::to_string(g);
    line("const int warp = tid >> 5, g = (tid & 31) >> 2, t4 = tid & 3;");
    open("for (int w = warp; w < " + std::to_string(mt * ng) + "; w += " + std::to_string(m_.num_warps) + ")");
    line("const int m0 = (w / " + std::to_string(ng) + ") * 16, n0 = (w % " + std::to_string(ng) + ") * " + std::to_string(g * 8) + ";");
    line("float acc[" + G + "][4];");
    unroll(g, "q");
    line("const int cn = n0 + q * 8 + 2 * t4;");
    line("acc[q][0] = sc[(m0 + g) * " + LDC + " + cn]; acc[q][1] = sc[(m0 + g) * " + LDC + " + cn + 1];");
    line("acc[q][2] = sc[(m0 + g + 8) * " + LDC + " + cn]; acc[q][3] = sc[(m0 + g + 8) * " + LDC + " + cn + 1];");
    close();
    open("for (int k0 = 0; k0 < " + K + "; k0 += " + std::to_string(kstep) + ")");
    auto word = [&](const std::string& idx) {
      return f16 ? "*reinterpret_cast<const unsigned*>(&" + idx + ")" : idx;
    };
    std::string kc = f16 ? "k0 + 2 * t4" : "k0 + t4", khi = f16 ? " + 8" : " + 4";
    line("const unsigned a0 = " + word("sa[(m0 + g) * " + LD + " + " + kc + "]") + ";");
    line("const unsigned a1 = " + word("sa[(m0 + g + 8) * " + LD + " + " + kc + "]") + ";");
    line("const unsigned a2 = " + word("sa[(m0 + g) * " + LD + " + " + kc + khi + "]") + ";");
    line("const unsigned a3 = " + word("sa[(m0 + g + 8) * " + LD + " + " + kc + khi + "]") + ";");
    unroll(g, "q");
    line("const int bn = n0 + q * 8 + g;");
    line("const unsigned b0 = " + word("sb[bn * " + LD + " + " + kc + "]") + ";");
    line("const unsigned b1 = " + word("sb[bn * " + LD + " + " + kc + khi + "]") + ";");
    std::string shape = f16 ? std::string("m16n8k16.row.col.f32.") + (ta == DType::F16 ? "f16.f16" : "bf16.bf16") + ".f32"
                            : "m16n8k8.row.col.f32.tf32.tf32.f32";
    line("asm volatile(\"mma.sync.aligned." + shape + " {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\"");
    line("    : \"+f\"(acc[q][0]), \"+f\"(acc[q][1]), \"+f\"(acc[q][2]), \"+f\"(acc[q][3])");
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
    line(std::string(l.guard ? "if (e < " + std::to_string(l.n) + ") " : "") + name(res) + "[i] = sc[(e / " + N + ") * " + LDC + " + e % " + N + "];");
    close();
    line("__syncthreads();");
    close();
  }

  // ---- register-resident dot accumulators -----------------------------------------------------
  static bool is_float_zero(const Value* v) {
    return v->def && v->def->kind == OpKind::Constant && is_float(v->type.dtype) && v->def->fval == 0.0;
  }

  // Opens unrolled loops over every fragment register [fi][fj], declaring its `row` and `col`.
  void frag_loops(const MmaAcc& acc) {
    const MmaLayout& l = acc.layout;
    line("const int warp = tid >> 5, lane = tid & 31;");
    unroll(l.outer(), "fi");
    unroll(l.inner(), "fj");
    line("const int row = " + gpu::mma_row_expr(l, "warp", "lane", "fi", "fj") + ";");
    line("const int col = " + gpu::mma_col_expr(l, "warp", "lane", "fi", "fj") + ";");
  }

  // Moves every fragment register to or from sc[row * ldc + col].
  void frag_smem(const MmaAcc& acc, int64_t ldc, bool to_smem) {
    frag_loops(acc);
    std::string at = "sc[row * " + std::to_string(ldc) + " + col]", f = acc.frag + "[fi][fj]";
    line(to_smem ? at + " = " + f + ";" : f + " = " + at + ";");
    close();
    close();
  }

  std::string frag_decl(const MmaAcc& acc) {
    return "float " + acc.frag + "[" + std::to_string(acc.layout.outer()) + "][" + std::to_string(acc.layout.inner()) + "];";
  }

  void emit_frag_init(const MmaAcc& acc, const Value* init) {
    const MmaLayout& p = acc.layout;
    line("// accumulator in registers: " + gpu::Layout{gpu::LayoutKind::Mma, {}, p, {}}.str());
    line(frag_decl(acc));
    if (init->def && init->def->kind == OpKind::Constant && is_float(init->type.dtype)) {
      std::string lit = const_literal(DType::F32, *init->def);
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
    line("float* sc = reinterpret_cast<float*>(smem);");
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

  void emit_frag_to_flat(const MmaAcc& acc, const Value* res) {
    const MmaLayout& p = acc.layout;
    int64_t ldc = p.n + 4;
    need_smem(p.m * ldc * 4);
    declare(res);
    open("");
    line("// convert_layout " + gpu::Layout{gpu::LayoutKind::Mma, {}, p, {}}.str() + " -> " + m_.layout(res).str() + " through shared memory");
    line("float* sc = reinterpret_cast<float*>(smem);");
    frag_smem(acc, ldc, true);
    line("__syncthreads();");
    Layout l = layout(res);
    unroll(l.regs);
    line("const int e = " + l.elem("i") + ";");
    line(std::string(l.guard ? "if (e < " + std::to_string(l.n) + ") " : "") + name(res) + "[i] = sc[(e / " + std::to_string(p.n) +
         ") * " + std::to_string(ldc) + " + e % " + std::to_string(p.n) + "];");
    close();
    line("__syncthreads();");
    close();
  }

  // Row-major copy of a 2-D tile into s[row * ld + col]; 8-byte (or wider) stores per V-group when
  // a group never crosses a row.
  void stage_rows(const Value* v, const std::string& s, int64_t cols, int64_t ld) {
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
  const gpu::AsyncLoad* async_operand(const Value* v) const {
    if (!v->def) return nullptr;
    auto it = async_.find(v->def);
    return it == async_.end() ? nullptr : it->second;
  }

  std::string stage_addr(const gpu::AsyncLoad& a, const std::string& stage) {
    return "pipe_smem + " + std::to_string(a.offset) + "u + " + stage + " * " + std::to_string(a.smem.shared.stage_bytes()) + "u";
  }

  // Where a tensor-core dot's result registers are: flat register `f` and, for wgmma, the n/2
  // registers of m64 block `mi` (a loop-carried accumulator is [blocks][n/2], others flat).
  struct DotRegs {
    std::function<std::string(const std::string&)> flat;
    std::function<std::string(int64_t)> block;
    std::string array;
  };

  DotRegs carried_regs(const MmaAcc& acc) {
    std::string f = acc.frag, inner = std::to_string(acc.layout.inner());
    return {[=](const std::string& i) { return f + "[(" + i + ") / " + inner + "][(" + i + ") % " + inner + "]"; },
            [=](int64_t mi) { return f + "[" + std::to_string(mi) + "]"; }, f};
  }

  // A dot whose result lives in mma registers and is not a loop-carried accumulator: the result
  // starts as the accumulator operand (already converted to the result's layout) or zero.
  void emit_dot_regs(const Op& op) {
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

  std::string operand_stage(const gpu::AsyncLoad& a) { return a.invariant ? "0u" : "pipe_read"; }

  // mma.sync m16n8k16: A [m][k] and B either [k][n] (N-major) or, for tl.trans of a loaded [n][k]
  // tile, [n][k] (K-major), row-major in shared memory with rows padded to an odd number of 16-byte
  // chunks (conflict-free ldmatrix): from the pipeline's buffers or staged here from registers. A
  // may instead come packed from the registers of an mma tile with the same rows (plan.a_regs).
  // Each warp loads its fragments with ldmatrix once per k16 step and issues one mma per tile.
  void emit_dot_mma(const Op& op, const MmaLayout& p, const DotRegs& regs) {
    const Value *a = op.operands[0], *b = op.operands[1];
    const gpu::DotPlan& plan = m_.dots.at(&op);
    int64_t m = p.m, n = p.n, kd = a->type.shape.at(1);
    int64_t mtw = m / p.warps_m / 16, ntw = n / p.warps_n / 8;
    std::string in = ctype(a->type.dtype), MTW = std::to_string(mtw), NTW = std::to_string(ntw);
    const gpu::AsyncLoad *pa = plan.a_regs ? nullptr : async_operand(a), *pb = async_operand(b);
    bool kmajor = pb && pb->permute;
    auto ld = [](const gpu::AsyncLoad* x, int64_t cols) { return x ? x->smem.shared.cols + x->smem.shared.pad : (cols / 8) % 2 ? cols : cols + 8; };
    int64_t lda = ld(pa, kd), ldb = ld(pb, n);
    std::string LDA = std::to_string(lda), LDB = std::to_string(ldb);
    bool staged = (!plan.a_regs && !pa) || !pb;
    open("");
    auto smem_at = [&](const gpu::AsyncLoad& x) {
      return "reinterpret_cast<" + in + "*>(smem + (" + stage_addr(x, operand_stage(x)) + " - tc_smem_addr(smem)))";
    };
    int64_t off_b = plan.a_regs || pa ? 0 : align16(m * lda * 2);
    if (pa) line(in + "* sa = " + smem_at(*pa) + ";  // the pipeline's shared memory");
    else if (!plan.a_regs) line(in + "* sa = reinterpret_cast<" + in + "*>(smem);");
    if (pb) line(in + "* sb = " + smem_at(*pb) + ";  // the pipeline's shared memory");
    else line(in + "* sb = reinterpret_cast<" + in + "*>(smem + " + std::to_string(off_b) + ");");
    if (staged) {
      need_smem(off_b + (pb ? 0 : kd * ldb * 2));
      if (!plan.a_regs && !pa) stage_rows(a, "sa", kd, lda);
      if (!pb) stage_rows(b, "sb", n, ldb);
      line("__syncthreads();");
    }
    line("const int warp = tid >> 5, lane = tid & 31;");
    line("const int wr = (warp / " + std::to_string(p.warps_n) + ") * " + std::to_string(m / p.warps_m) + ", wc = (warp % " +
         std::to_string(p.warps_n) + ") * " + std::to_string(n / p.warps_n) + ";");
    line("(void)wr;");
    line("#pragma unroll");
    open("for (int k0 = 0; k0 < " + std::to_string(kd) + "; k0 += 16)");
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
      line("tc_ldsm_x4(af[mi][0], af[mi][1], af[mi][2], af[mi][3], &sa[(wr + mi * 16 + (lane & 15)) * " + LDA + " + k0 + (lane >> 4) * 8]);");
    }
    close();
    if (kmajor) {
      // sb is [n][k]: plain ldmatrix gives each thread B[k = 2*(lane%4)..][n = lane/4].
      if (ntw >= 2) {
        line("#pragma unroll");
        open("for (int ni = 0; ni + 1 < " + NTW + "; ni += 2)");
        line("tc_ldsm_x4(bf[ni][0], bf[ni][1], bf[ni + 1][0], bf[ni + 1][1], &sb[(wc + ni * 8 + (lane >> 4) * 8 + (lane & 7)) * " + LDB +
             " + k0 + ((lane >> 3) & 1) * 8]);");
        close();
      }
      if (ntw % 2)
        line("tc_ldsm_x2(bf[" + std::to_string(ntw - 1) + "][0], bf[" + std::to_string(ntw - 1) + "][1], &sb[(wc + " +
             std::to_string((ntw - 1) * 8) + " + (lane & 7)) * " + LDB + " + k0 + ((lane >> 3) & 1) * 8]);");
    } else {
      if (ntw >= 2) {
        line("#pragma unroll");
        open("for (int ni = 0; ni + 1 < " + NTW + "; ni += 2)");
        line("tc_ldsm_x4_trans(bf[ni][0], bf[ni][1], bf[ni + 1][0], bf[ni + 1][1], &sb[(k0 + (lane & 15)) * " + LDB +
             " + wc + ni * 8 + (lane >> 4) * 8]);");
        close();
      }
      if (ntw % 2)
        line("tc_ldsm_x2_trans(bf[" + std::to_string(ntw - 1) + "][0], bf[" + std::to_string(ntw - 1) + "][1], &sb[(k0 + (lane & 15)) * " +
             LDB + " + wc + " + std::to_string((ntw - 1) * 8) + "]);");
    }
    unroll(mtw, "mi");
    unroll(ntw, "ni");
    auto f = [&](int r) { return regs.flat("(mi * " + NTW + " + ni) * 4 + " + std::to_string(r)); };
    std::string shape = std::string("m16n8k16.row.col.f32.") + (a->type.dtype == DType::F16 ? "f16.f16" : "bf16.bf16") + ".f32";
    line("asm volatile(\"mma.sync.aligned." + shape + " {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\"");
    line("    : \"+f\"(" + f(0) + "), \"+f\"(" + f(1) + "), \"+f\"(" + f(2) + "), \"+f\"(" + f(3) + ")");
    line("    : \"r\"(af[mi][0]), \"r\"(af[mi][1]), \"r\"(af[mi][2]), \"r\"(af[mi][3]), \"r\"(bf[ni][0]), \"r\"(bf[ni][1]));");
    close();
    close();
    close();
    if (staged) line("__syncthreads();");
    close();
  }

  // wgmma over the pipeline's buffers: A [m][k] K-major (or packed from mma registers, plan.a_regs)
  // and B [k][n] N-major or, for tl.trans of a loaded [n][k] tile, K-major, in 128-byte swizzled
  // atoms; each warpgroup issues m64nNk16 per 64 of its rows and 16 of k, then waits (unless the
  // loop waits after issuing its next copies).
  void emit_dot_wgmma(const Op& op, const MmaLayout& p, const DotRegs& regs) {
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
    bool kmajor = pb->permute != nullptr;
    int64_t kd = a->type.shape.at(1), rows_per_group = p.m / (p.warps_m / 4);
    open("");
    if (pa) {
      line("const unsigned sa = " + stage_addr(*pa, operand_stage(*pa)) + ";");
      line("const unsigned wg_rows = (tid >> 7) * " + std::to_string(gpu::shared_offset(pa->smem.shared, rows_per_group, 0)) +
           "u;  // this warpgroup's rows");
    }
    line("const unsigned sb = " + stage_addr(*pb, operand_stage(*pb)) + ";");
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
    auto desc = [](const std::string& base, const gpu::WgmmaDesc& d) {
      return "tc_wgmma_desc(" + base + std::to_string(d.offset) + "u, " + std::to_string(d.lbo) + "u, " + std::to_string(d.sbo) + "u)";
    };
    for (int64_t k0 = 0; k0 < kd; k0 += 16) {
      gpu::WgmmaDesc db = kmajor ? gpu::wgmma_desc_a(lb, 0, k0) : gpu::wgmma_desc_b(lb, k0);
      for (int64_t mi = 0; mi < p.outer(); ++mi) {
        std::string note = "  // k " + std::to_string(k0) + ", rows " + std::to_string(mi * 64) + "+";
        if (plan.a_regs) {
          // The accumulator registers of columns k0..k0+15 are this k16 step's A fragment.
          auto pack = [&](int64_t q) { return "af[" + std::to_string(mi) + "][" + std::to_string(k0 / 16) + "][" + std::to_string(q) + "]"; };
          line("tc_wgmma_rs<" + n + ", " + t + ", " + trans + ">(" + regs.block(mi) + ", " + pack(0) + ", " + pack(1) + ", " + pack(2) +
               ", " + pack(3) + ", " + desc("sb + ", db) + ");" + note);
        } else {
          gpu::WgmmaDesc da = gpu::wgmma_desc_a(pa->smem.shared, mi * 64, k0);
          line("tc_wgmma<" + n + ", " + t + ", " + trans + ">(" + regs.block(mi) + ", " + desc("sa + wg_rows + ", da) + ", " +
               desc("sb + ", db) + ");" + note);
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
  void emit_pipeline_issue(const Op& loop, const gpu::LoopPipeline& p) {
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
    for (const gpu::AsyncLoad& a : p.loads)
      if (!a.invariant) emit_async_copy(a, "pipe_write");
    std::vector<std::string> dsts;
    std::vector<Value*> srcs;
    const Op* y = body.ops.back();
    for (size_t c : p.carried) {
      dsts.push_back(names_[body.args.at(c + 1)]);
      srcs.push_back(y->operands.at(c));
    }
    assign_all(dsts, srcs);
    close();
    line("tc_cp_async_commit();");
    line("pf_iv += " + name(loop.operands[2]) + ";");
    line("pipe_write = pipe_write + 1 == " + std::to_string(p.stages) + " ? 0 : pipe_write + 1;");
    for (const auto& [v, n] : saved) {
      if (n.empty()) names_.erase(v);
      else names_[v] = n;
    }
  }

  // 16-byte cp.async per chunk of each thread's V-groups; a masked-off chunk is zero-filled.
  void emit_async_copy(const gpu::AsyncLoad& a, const std::string& stage) {
    const Value* ptr = a.load->operands[0];
    const Value* mask = a.load->has_mask ? a.load->operands[1] : nullptr;
    const gpu::SharedLayout& s = a.smem.shared;
    Layout l = layout(ptr);
    int64_t chunk = 16 / s.elem_bytes;
    open("");
    line("// cp.async " + name(a.load->result()) + " -> " + a.smem.str());
    line("const unsigned dst = " + stage_addr(a, stage) + ";");
    unroll(l.iters, "k");
    line("const int e = k * " + std::to_string(l.threads * l.v) + " + tid * " + std::to_string(l.v) + ";");
    line("const int row = e / " + std::to_string(s.cols) + ", col0 = e % " + std::to_string(s.cols) + ";");
    unroll(l.v / chunk, "q");
    std::string slot = "k * " + std::to_string(l.v) + " + q * " + std::to_string(chunk);
    line("tc_cp_async16(dst + " + gpu::shared_offset_expr(s, "row", "col0 + q * " + std::to_string(chunk)) + ", " + el(ptr, slot) +
         ", " + (mask ? (mask->type.is_tile() ? el(mask, slot) : name(mask)) : std::string("true")) + ");");
    close();
    close();
    close();
  }

  std::string loop_cond(const Op& op, const std::string& iv) {
    const Value* step = op.operands[2];
    bool known = step->def && step->def->kind == OpKind::Constant;
    if (known && step->def->ival < 0) return iv + " > " + name(op.operands[1]);
    if (known) return iv + " < " + name(op.operands[1]);
    return "(" + name(step) + " > 0 ? " + iv + " < " + name(op.operands[1]) + " : " + iv + " > " + name(op.operands[1]) + ")";
  }

  // ---- layout conversions --------------------------------------------------------------------
  // Prints `body` with every operand of `op` in the layout operand_layout asks for, converting
  // those that are in another one into temporaries for the duration.
  void with_operands_converted(const Op& op, const std::function<void()>& body) {
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

  gpu::Layout current_layout(const Value* v) const {
    auto it = converted_.find(v);
    return it != converted_.end() ? it->second : m_.layout(v);
  }

  // `v` in layout `want`, in a new register array: recomputed there when it is an index chain,
  // else exchanged through shared memory.
  std::string convert(const Value* v, const gpu::Layout& want) {
    std::string n = name(v) + "_cvt" + std::to_string(tmp_counter_++);
    Layout ls = layout(v), lw(want, v->type.numel(), threads_);
    gpu::ConvertKind kind = gpu::convert_kind(v);
    line("// convert_layout " + name(v) + ": " + current_layout(v).str() + " -> " + want.str() + " (" + gpu::convert_kind_name(kind) + ")");
    line(ctype(v->type) + " " + n + "[" + std::to_string(lw.regs) + "];");
    if (kind == gpu::ConvertKind::Remat) {
      unroll(lw.regs);
      line("const int e = " + lw.elem("i") + ";");
      line(std::string(lw.guard ? "if (e < " + std::to_string(lw.n) + ") " : "") + n + "[i] = " + remat(v, "e") + ";");
      close();
      return n;
    }
    exchange_begin(v, ls);
    unroll(lw.regs);
    line("const int e = " + lw.elem("i") + ";");
    line(std::string(lw.guard ? "if (e < " + std::to_string(lw.n) + ") " : "") + n + "[i] = xs[e];");
    close();
    line("__syncthreads();");
    close();
    return n;
  }

  // ---- dispatch -----------------------------------------------------------------------------
  void emit_op(const Op& op) {
    with_operands_converted(op, [&] { emit_op_body(op); });
  }

  void emit_op_body(const Op& op) {
    const Value* res = op.results.empty() ? nullptr : op.results[0];
    switch (op.kind) {
      case OpKind::Constant: {
        std::string lit = const_literal(res->type.dtype, op);
        define(res, [&] { return lit; });
        break;
      }
      case OpKind::ProgramId:
      case OpKind::NumPrograms: {
        if (op.axis < 0 || op.axis > 2) {
          fail(op, "program axis must be 0, 1 or 2");
          break;
        }
        std::string dim = std::string(op.kind == OpKind::ProgramId ? "blockIdx." : "gridDim.") + "xyz"[op.axis];
        define(res, [&] { return "static_cast<int>(" + dim + ")"; });
        break;
      }
      case OpKind::Arange:
        define(res, [&] { return "static_cast<int>(" + std::to_string(op.ints.at(0)) + " + e)"; }, true);
        break;
      case OpKind::Splat: define(res, [&] { return name(op.operands[0]); }); break;
      case OpKind::Broadcast: emit_broadcast(op); break;
      case OpKind::ExpandDims:
      case OpKind::Reshape: emit_same_order(op); break;
      case OpKind::Permute:
        if (async_.count(&op)) line("// " + name(res) + " is read K-major from the software pipeline's shared memory");
        else emit_permute(op);
        break;
      case OpKind::Cast: {
        const Value* x = op.operands[0];
        if (x->type.is_ptr != res->type.is_ptr) {
          fail(op, "casts between pointers and numbers are not supported");
          break;
        }
        if (res->type.is_ptr) define(res, [&] { return "reinterpret_cast<" + ctype(res->type) + ">(" + el(x) + ")"; });
        else define(res, [&] { return cast_expr(x->type.dtype, res->type.dtype, el(x)); });
        break;
      }
      case OpKind::Binary:
        if (mma_add_.count(&op)) break;  // `acc += tl.dot(a, b)`: the dot accumulated in place
        if (res->type.is_ptr) {
          fail(op, std::string("arithmetic '") + binary_name(op.binary) + "' on pointers");
          break;
        }
        define(res, [&] { return binary_expr(op, el(op.operands[0]), el(op.operands[1])); });
        break;
      case OpKind::Compare: define(res, [&] { return cmp_expr(op, el(op.operands[0]), el(op.operands[1])); }); break;
      case OpKind::Unary: define(res, [&] { return unary_expr(op, el(op.operands[0])); }); break;
      case OpKind::Libdevice: {
        const LibdeviceFn* f = find_libdevice(op.str);
        DType t = op.operands[0]->type.dtype;
        define(res, [&] {
          std::string call = std::string(t == DType::F64 ? f->cuda_f64 : f->cuda_f32) + "(";
          for (size_t i = 0; i < op.operands.size(); ++i) call += (i ? ", " : "") + to_compute(t, el(op.operands[i]));
          call += ")";
          return f->result == LibdeviceResult::I32 ? "static_cast<int>(" + call + ")" : from_compute(t, call);
        });
        break;
      }
      case OpKind::Barrier: line("__syncthreads();"); break;
      case OpKind::Print: emit_print(op); break;
      case OpKind::InlineAsm: emit_inline_asm(op); break;
      case OpKind::Fma: {
        DType t = res->type.dtype;
        if (!is_float(t)) {
          define(res, [&] { return "static_cast<" + ctype(t) + ">(" + el(op.operands[0]) + " * " + el(op.operands[1]) + " + " + el(op.operands[2]) + ")"; });
          break;
        }
        std::string f = t == DType::F64 ? "fma(" : "fmaf(";
        define(res, [&] {
          return from_compute(t, f + to_compute(t, el(op.operands[0])) + ", " + to_compute(t, el(op.operands[1])) + ", " + to_compute(t, el(op.operands[2])) + ")");
        });
        break;
      }
      case OpKind::Select:
        define(res, [&] { return "(" + el(op.operands[0]) + " ? " + el(op.operands[1]) + " : " + el(op.operands[2]) + ")"; });
        break;
      case OpKind::AddPtr: define(res, [&] { return el(op.operands[0]) + " + " + el(op.operands[1]); }); break;
      case OpKind::Load:
        if (async_.count(&op)) line("// " + name(res) + " is in the software pipeline's shared memory (cp.async)");
        else emit_load(op);
        break;
      case OpKind::Store: emit_store(op); break;
      case OpKind::Reduce: emit_reduce(op); break;
      case OpKind::Scan: emit_scan(op); break;
      case OpKind::Dot: {
        auto it = mma_dot_.find(&op);
        DotLowering kind = m_.dots.at(&op).kind;
        if (it == mma_dot_.end() && (kind == DotLowering::Wgmma || kind == DotLowering::MmaSync)) emit_dot_regs(op);
        else if (it == mma_dot_.end()) emit_dot(op);
        else if (kind == DotLowering::Wgmma) emit_dot_wgmma(op, it->second->layout, carried_regs(*it->second));
        else emit_dot_mma(op, it->second->layout, carried_regs(*it->second));
        break;
      }
      case OpKind::AtomicRMW:
      case OpKind::AtomicCAS: emit_atomic(op); break;
      case OpKind::Assert: emit_assert(op); break;
      case OpKind::Hint: define(res, [&] { return el(op.operands[0]); }); break;
      case OpKind::For: emit_for(op); break;
      case OpKind::If: emit_if(op); break;
      case OpKind::While: emit_while(op); break;
      case OpKind::Yield:
      case OpKind::Condition: break;
    }
  }

  std::unordered_map<const Value*, MmaAcc> mma_carried_;  // For result -> its register accumulator
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
  int last_line_ = -1;
  int tmp_counter_ = 0;
  std::unordered_map<const Value*, std::string> names_;
};

}  // namespace

std::optional<CudaKernel> generate_cuda(const Function& fn, const CudaOptions& options, Diagnostics& diags) {
  std::optional<gpu::GpuModule> m = gpu::lower_to_gpu(fn, options.arch, options.num_warps, options.num_stages, diags);
  if (!m) return std::nullopt;
  return CudaGen(*m, diags).run();
}

}  // namespace tilec
