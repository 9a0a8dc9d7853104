// Input: gpu-ir (a GpuModule: tile IR with layouts, dot lowerings and loop pipelines). Output: one CUDA C
// kernel (one CTA per program) spelling out those decisions; unsupported ops are diagnosed. This file:
// the kernel frame, regions and control flow, and the dispatch over ops.
#include "tilec/codegen/cuda_gen.h"

namespace tilec::cuda_gen {

std::optional<CudaKernel> CudaGen::run() {
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
  // TMA tensor maps follow the arguments; TMA reads them in the kernel's parameter space.
  for (size_t i = 0; i < m_.tensor_maps.size(); ++i)
    params += std::string(params.empty() ? "" : ", ") + "const __grid_constant__ tc_tensormap tm" + std::to_string(i);
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
  bool half = false;  // NVRTC parses the narrow float headers only for kernels that use them
  bool fp8 = false;
  auto note_dtype = [&](const Value* v) {
    half = half || is_narrow_float(v->type.dtype);
    fp8 = fp8 || is_fp8(v->type.dtype);
  };
  for (const Value* a : fn_.args) note_dtype(a);
  walk_ops(fn_.body, [&](const Op* op) {
    for (const Value* v : op->results) note_dtype(v);
    for (const Region& r : op->regions)
      for (const Value* a : r.args) note_dtype(a);
  });
  if (fp8) src << "#include <cuda_fp8.h>\n";
  if (half) src << "#define TILEC_HALF\n#include <cuda_fp16.h>\n#include <cuda_bf16.h>\n";
  if (!failure_texts_.empty()) src << "#define TILEC_FAILURE_RECORD\n";
  for (const auto& [dot, plan] : m_.dots)
    if (plan.kind == gpu::DotLowering::Wgmma) {
      src << "#define TILEC_WGMMA\n";
      break;
    }
  if (!m_.tensor_maps.empty()) src << "#define TILEC_TMA\n";
  src << "#include \"tilec_cuda.h\"\n\n";
  if (!failure_texts_.empty()) {
    // Read by the launcher (cuModuleGetGlobal) to word a failure: one NUL-ended text per check.
    src << "extern \"C\" { __device__ const char tc_failure_text[] =";
    for (const std::string& t : failure_texts_) src << "\n    \"" << c_escape(t, false) << "\\0\"";
    src << "; }\n\n";
  }
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
  for (const gpu::TensorMap& t : m_.tensor_maps) k.tensor_maps.push_back(tensor_map_param(t));
  return k;
}

TensorMapParam CudaGen::tensor_map_param(const gpu::TensorMap& t) const {
  auto field = [&](const Value* v) {
    TensorMapParam::Field f;
    if (v->def && v->def->kind == OpKind::Cast) v = v->def->operands[0];
    if (v->def) {
      f.value = v->def->ival;
      return f;
    }
    f.arg = static_cast<int>(std::find(fn_.args.begin(), fn_.args.end(), v) - fn_.args.begin());
    f.dtype = v->type.is_ptr ? DType::U64 : v->type.dtype;
    return f;
  };
  TensorMapParam p;
  p.base = field(t.base);
  p.elem = t.dtype;
  for (const Value* v : t.shape) p.shape.push_back(field(v));
  for (const Value* v : t.strides) p.strides.push_back(field(v));
  p.box = t.box;
  p.swizzle = t.swizzle;
  p.nan_fill = t.nan_fill;
  return p;
}

void CudaGen::unroll(int64_t n, const std::string& var) {
  line("#pragma unroll");
  open("for (int " + var + " = 0; " + var + " < " + std::to_string(n) + "; ++" + var + ")");
}

const std::string& CudaGen::name(const Value* v) {
  auto it = names_.find(v);
  if (it != names_.end()) return it->second;
  std::string n = "v" + std::to_string(v->id);
  if (!v->name.empty()) n += "_" + sanitize(v->name);
  return names_[v] = n;
}

void CudaGen::declare(const Value* v) {
  if (v->type.is_tile()) line(ctype(v->type) + " " + name(v) + "[" + std::to_string(layout(v).regs) + "];");
  else line(ctype(v->type) + " " + name(v) + ";");
}

// `dst = src` for whole values of one type.
void CudaGen::assign(const std::string& dst, const Value* src) {
  if (!src->type.is_tile()) {
    line(dst + " = " + name(src) + ";");
    return;
  }
  unroll(layout(src).regs);
  line(dst + "[i] = " + name(src) + "[i];");
  close();
}

// Defines `v` elementwise from an expression of the slot index `i` (and `e`, its element).
void CudaGen::define(const Value* v, const std::function<std::string()>& expr, bool needs_e) {
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

void CudaGen::need_smem(int64_t bytes) {
  smem_ = std::max(smem_, align16(bytes));
  if (in_pipeline_) pipe_scratch_ = std::max(pipe_scratch_, align16(bytes));
}

void CudaGen::loc_comment(const Op& op) {
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
void CudaGen::emit_region(const Region& r) {
  for (const Op* op : r.ops) {
    if (op->kind == OpKind::Yield || op->kind == OpKind::Condition) continue;
    if (diags_.error_count() >= Diagnostics::kMaxErrors) return;
    loc_comment(*op);
    emit_op(*op);
  }
}

// Copies yielded values into loop/branch variables; through temporaries when a yield reads a
// variable that an earlier copy overwrites (e.g. a swap of two loop-carried values).
void CudaGen::assign_all(const std::vector<std::string>& dsts, const std::vector<Value*>& srcs) {
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

void CudaGen::emit_for(const Op& op) {
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
    line("// software pipeline: " + std::to_string(pipe->stages) + " stages, " + (pipe->tma ? "TMA" : "cp.async") + " copies " + std::to_string(pipe->distance) +
         " iterations ahead" + (pipe->async_mma ? ", issued while the iteration's wgmma runs (one wgmma group in flight)" : ""));
    ++in_pipeline_;
    line(ctype(iv->type) + " pf_iv = " + name(op.operands[0]) + ";");
    for (size_t c : pipe->carried) {
      const Value* r = op.results.at(c);
      std::string n = "pf_" + name(r);
      line(ctype(r->type) + " " + n + (r->type.is_tile() ? "[" + std::to_string(layout(r).regs) + "]" : "") + ";");
      assign(n, op.operands.at(c + 3));
    }
    if (pipe->tma) {
      line("const unsigned pipe_bar = pipe_smem + " + std::to_string(pipe->barriers) + "u;  // mbarrier of stage s at + 8 * s");
      open("if (tid == 0)");
      unroll(pipe->stages + 1, "s");
      line("tc_mbar_init(pipe_bar + 8u * s, 1u);");
      close();
      line("tc_fence_mbar_init();");
      close();
      line("__syncthreads();");
      line("unsigned pipe_phase = 0u;  // parity of the stage's mbarrier this round of the ring waits for");
    }
    bool invariant = false;
    for (const gpu::AsyncLoad& a : pipe->loads)
      if (a.invariant) invariant = true;
    if (invariant && pipe->tma) {
      emit_tma_copies(*pipe, true, "0u", "pipe_bar + " + std::to_string(8 * pipe->stages) + "u");
    } else if (invariant) {
      for (const gpu::AsyncLoad& a : pipe->loads)
        if (a.invariant) emit_async_copy(a, "0u");
      line("tc_cp_async_commit();  // the operands read by every iteration");
    }
    line("int pipe_read = 0, pipe_write = 0;");
    line("#pragma unroll 1");
    open("for (int pf_s = 0; pf_s < " + std::to_string(pipe->distance) + "; ++pf_s)");
    emit_pipeline_issue(op, *pipe);
    close();
    if (invariant && pipe->tma) line("tc_mbar_wait(pipe_bar + " + std::to_string(8 * pipe->stages) + "u, 0u);  // the operands read by every iteration");
  }
  open("for (" + ctype(iv->type) + " " + name(iv) + " = " + name(op.operands[0]) + "; " + loop_cond(op, name(iv)) + "; " + name(iv) +
       " += " + name(step) + ")");
  if (pipe) {
    // No proxy fence before a wgmma reads the stage: cp.async completion plus the barrier orders it,
    // as in CUTLASS's cp.async GMMA mainloop and Triton's; ptxas would put a MEMBAR.ALL.CTA at the
    // top of every iteration for it.
    if (pipe->tma) line("tc_mbar_wait(pipe_bar + 8u * pipe_read, pipe_phase);  // this iteration's stage has landed");
    else line("tc_cp_async_wait<" + std::to_string(pipe->distance - 1) + ">();  // this iteration's stage has landed");
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
    if (pipe->tma) line("pipe_phase ^= pipe_read == 0 ? 1u : 0u;");
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
    if (!pipe->tma) line("tc_cp_async_wait<0>();");
    line("__syncthreads();");
    if (pipe->tma) {
      // Every copy was waited for; the barriers' memory may serve another pipeline next.
      open("if (tid == 0)");
      unroll(pipe->stages + 1, "s");
      line("tc_mbar_inval(pipe_bar + 8u * s);");
      close();
      close();
    }
    --in_pipeline_;
    close();
  }
  for (size_t i = 0; i < frags.size(); ++i)
    if (frags[i]) emit_frag_to_flat(*frags[i], frags[i]->narrow ? frags[i]->narrow->result() : op.results[i]);
}

void CudaGen::emit_if(const Op& op) {
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

void CudaGen::emit_while(const Op& op) {
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

std::string CudaGen::loop_cond(const Op& op, const std::string& iv) {
  const Value* step = op.operands[2];
  bool known = step->def && step->def->kind == OpKind::Constant;
  if (known && step->def->ival < 0) return iv + " > " + name(op.operands[1]);
  if (known) return iv + " < " + name(op.operands[1]);
  return "(" + name(step) + " > 0 ? " + iv + " < " + name(op.operands[1]) + " : " + iv + " > " + name(op.operands[1]) + ")";
}

// ---- dispatch -----------------------------------------------------------------------------
void CudaGen::emit_op(const Op& op) {
  with_operands_converted(op, [&] { emit_op_body(op); });
}

void CudaGen::emit_op_body(const Op& op) {
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
      if (narrowed_.count(&op)) {
        line("// " + name(res) + " left the accumulator registers already cast (emit_frag_to_flat)");
        break;
      }
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
      if (async_.count(&op))
        line("// " + name(res) + " is in the software pipeline's shared memory (" + (async_.at(&op)->tma < 0 ? "cp.async" : "TMA") + ")");
      else if (m_.tma_accesses.count(&op)) emit_tma_access(op, m_.tma_accesses.at(&op));
      else emit_load(op);
      break;
    case OpKind::Store:
      if (m_.tma_accesses.count(&op)) emit_tma_access(op, m_.tma_accesses.at(&op));
      else emit_store(op);
      break;
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

}  // namespace tilec::cuda_gen

namespace tilec {

int cuda_min_arch(const Function& fn, const Op** where) {
  const Op* first = nullptr;
  walk_ops(fn.body, [&](const Op* op) {
    for (const Value* v : op->results)
      if (!first && !v->type.is_ptr && v->type.dtype == DType::F8E4) first = op;
  });
  if (where) *where = first;
  return first ? 89 : 0;
}

std::optional<CudaKernel> generate_cuda(const Function& fn, const CudaOptions& options, Diagnostics& diags) {
  const Op* needs = nullptr;
  int min_arch = cuda_min_arch(fn, &needs);
  if (options.arch < min_arch) {
    diags.error(needs->loc, "tl.float8e4nv needs sm_89 or newer (its conversions are cvt.*.e4m3x2 instructions), but this "
                            "kernel is compiled for sm_" + std::to_string(options.arch) + "; use tl.float8e5 there, as Triton does");
    return std::nullopt;
  }
  std::optional<gpu::GpuModule> m = gpu::lower_to_gpu(fn, options.arch, options.num_warps, options.num_stages, options.tma, diags);
  if (!m) return std::nullopt;
  return cuda_gen::CudaGen(*m, diags).run();
}

}  // namespace tilec
