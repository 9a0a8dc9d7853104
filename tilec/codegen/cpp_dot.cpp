// Input: Dot ops of tile IR. Output: calls of tilec_rt::dot, the register-blocked micro-kernel of runtime/cpu/tilec_rt.h,
// on operands in the accumulator's type; fp16/bf16 accumulate in fp32; a loop-carried accumulator is updated in place.
#include "tilec/codegen/cpp_gen.h"

namespace tilec::cpp_gen {

// Operands in the accumulator's type, as arrays: the packed K block the micro-kernel reads. A
// tile of that type is filled with vectors (a contiguous load is one vector load per W lanes);
// half inputs are widened to float element by element.
std::string CppGen::dot_operand(const Value* v, DType acc, const std::string& suffix) {
  const Info& i = info(v);
  if (i.kind == Kind::Array && v->type.dtype == acc) return i.name;
  std::string tmp = vname(v) + suffix;
  line("alignas(64) " + std::string(ctype(acc)) + " " + tmp + "[" + num(v->type.numel()) + "];");
  if (v->type.dtype == acc)
    fill(tmp, v);
  else
    line("for (int i = 0; i < " + num(v->type.numel()) + "; ++i) " + tmp + "[i] = tilec_rt::cast_<" + ctype(acc) + ">(" + elem(v, "i") + ");");
  return tmp;
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
  // Converted copies are named after the dot's result: two dots may convert the same operand.
  std::string an = dot_operand(a, w, "_as_a_of_" + vname(r)), bn = dot_operand(b, w, "_as_b_of_" + vname(r));
  std::string dims = num(M) + ", " + num(N) + ", " + num(K) + ">(" + an + ", " + bn + ", ";
  if (half_acc) {
    std::string n = declare_array(r);
    std::string acc = dot_operand(c, w, "_as_acc_of_" + vname(r));
    line("tilec_rt::dot<" + std::string(ctype(w)) + ", " + dims + acc + ", " + acc + ");");
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
    line("tilec_rt::dot<" + std::string(ctype(t)) + ", " + dims + alias.name + ", " + alias.name + ");");
    return;
  }
  // An accumulator array is read by the micro-kernel directly (no copy into the result first).
  std::string n = declare_array(r);
  std::string cn = c_array ? ci.name : n;
  if (cn == n) copy_into(n, c, r->type);
  line("tilec_rt::dot<" + std::string(ctype(t)) + ", " + dims + cn + ", " + n + ");");
}

}  // namespace tilec::cpp_gen
