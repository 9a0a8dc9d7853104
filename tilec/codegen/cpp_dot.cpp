// Input: Dot ops of tile IR. Output: calls of tilec_rt::dot, the register-blocked micro-kernel of runtime/cpu/tilec_rt.h,
// on operands in the accumulator's type (bf16 x bf16: tilec_rt::dot_bf16 on bf16 operands); fp16/bf16 accumulate in
// fp32; a loop-carried accumulator is updated in place.
#include "tilec/codegen/cpp_gen.h"

namespace tilec::cpp_gen {

// Operands as arrays of `as` (the accumulator's type, or bf16 for tilec_rt::dot_bf16): the K block
// the micro-kernel reads. A load whose mask holds on every lane of the tile (every K block but a
// ragged last one) is read without it.
std::string CppGen::dot_operand(const Value* v, DType as, const std::string& suffix) {
  const Info& i = info(v);
  if (i.kind == Kind::Array && v->type.dtype == as) return i.name;
  std::string tmp = vname(v) + suffix;
  line("alignas(64) " + std::string(ctype(as)) + " " + tmp + "[" + num(v->type.numel()) + "];");
  const Op* d = v->def;
  const Value* m = i.kind == Kind::Lazy && d && d->kind == OpKind::Load && d->has_mask ? d->operands[1] : nullptr;
  std::optional<std::string> whole = m ? all_lanes_condition(m) : std::nullopt;
  auto convert = [&] { convert_into(tmp, v, as); };
  if (whole)
    split_on_mask(m, *whole, convert, convert);
  else
    convert();
  return tmp;
}

// Evaluates v into the array `dst` of `as`: a contiguous vector per W lanes where v has a vector
// form; an unmasked fp16/bf16 load a contiguous run at a time (copied, or widened to float by
// tilec_rt::widen_run), since half types have no Vec; otherwise element by element.
void CppGen::convert_into(const std::string& dst, const Value* v, DType as) {
  const Op* d = v->def;
  DType t = v->type.dtype;
  bool half = t == DType::F16 || t == DType::BF16;
  if (half && (as == t || as == DType::F32) && info(v).kind == Kind::Lazy && d && d->kind == OpKind::Load &&
      (!d->has_mask || true_masks_.count(d->operands[1]))) {
    const Value* p = d->operands[0];
    int64_t last = p->type.shape.back();
    int64_t run = std::min(last, affine_of(p) == Affine::Contig ? last : axis_.get(p).contig);
    if (run >= 16) {
      std::string body = as == t ? "std::memcpy(" + dst + " + i, " + elem(p, "i") + ", " + num(run * 2) + ")"
                                 : "tilec_rt::widen_run<" + num(run) + ">(" + dst + " + i, " + elem(p, "i") + ")";
      line("for (int i = 0; i < " + num(v->type.numel()) + "; i += " + num(run) + ") " + body + ";");
      return;
    }
  }
  if (t == as)
    fill(dst, v);
  else
    line("for (int i = 0; i < " + num(v->type.numel()) + "; ++i) " + dst + "[i] = tilec_rt::cast_<" + ctype(as) + ">(" + elem(v, "i") + ");");
}

// True for an argument of the region being emitted (a loop's carried value, fresh each
// iteration) whose only consumer is one op there: overwriting it cannot change what another op
// or a later iteration reads.
bool CppGen::accumulates_in_place(const Value* c) {
  if (c->def || regions_.empty() || uses_[c] != 1) return false;
  const std::vector<Value*>& args = regions_.back()->args;
  return std::find(args.begin(), args.end(), c) != args.end();
}

void CppGen::dot(const Op* op) {
  Value* r = op->result();
  const Value *a = op->operands[0], *b = op->operands[1], *c = op->operands[2];
  DType t = r->type.dtype;
  if (a->type.shape.size() != 2 || b->type.shape.size() != 2) {
    error(op, "tl.dot needs 2-D tiles");
    return;
  }
  // A 16-bit accumulator (out_dtype=tl.float16) accumulates in fp32 and is rounded once per dot,
  // as the GPU's tensor-core lowering does.
  bool half_acc = t == DType::F16 || t == DType::BF16;
  DType w = half_acc ? DType::F32 : t;
  if (!(w == DType::F32 || w == DType::F64 || w == DType::I32)) {
    error(op, std::string("tl.dot accumulating in ") + dtype_name(t) + " is not supported; use out_dtype=tl.float32");
    return;
  }
  int64_t M = a->type.shape[0], K = a->type.shape[1], N = b->type.shape[1];
  // bf16 operands go to dot_bf16 as they are (vdpbf16ps where the host has it); others in w.
  bool bf16 = a->type.dtype == DType::BF16 && b->type.dtype == DType::BF16 && w == DType::F32;
  DType operands = bf16 ? DType::BF16 : w;
  // Converted copies are named after the dot's result: two dots may convert the same operand.
  std::string an = dot_operand(a, operands, "_as_a_of_" + vname(r)), bn = dot_operand(b, operands, "_as_b_of_" + vname(r));
  std::string dims = num(M) + ", " + num(N) + ", " + num(K) + ">(" + an + ", " + bn + ", ";
  std::string call = bf16 ? "tilec_rt::dot_bf16<" + dims : "tilec_rt::dot<" + std::string(ctype(w)) + ", " + dims;
  if (half_acc) {
    std::string n = declare_array(r);
    std::string acc = dot_operand(c, w, "_as_acc_of_" + vname(r));
    line(call + acc + ", " + acc + ");");
    line("for (int i = 0; i < " + num(M * N) + "; ++i) " + n + "[i] = tilec_rt::cast_<" + ctype(t) + ">(" + acc + "[i]);");
    return;
  }
  const Info& ci = info(c);
  bool c_array = ci.kind == Kind::Array && c->type.dtype == t;
  // A loop-carried accumulator that only this dot reads is updated in place: the result aliases
  // its storage, so the yield back into it copies nothing (a BM x BN tile per K block otherwise).
  if (c_array && accumulates_in_place(c)) {
    Info alias = ci;  // copied first: inserting r may rehash info_ under ci
    info_[r] = alias;
    line(call + alias.name + ", " + alias.name + ");");
    return;
  }
  // An accumulator array is read by the micro-kernel directly (no copy into the result first).
  std::string n = declare_array(r);
  std::string cn = c_array ? ci.name : n;
  if (cn == n) copy_into(n, c, r->type);
  line(call + cn + ", " + n + ");");
}

}  // namespace tilec::cpp_gen
