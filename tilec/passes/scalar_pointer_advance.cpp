// Input: a verified Function. Output: the same with every loop-carried pointer tile that advances
// by a uniform amount (`p += splat(s)` or a constant tile) carried as one i64 element offset from
// its initial tile instead: a loop keeps a scalar, not a tile of pointers, in registers.
#include <algorithm>

#include "tilec/passes.h"

namespace tilec {
namespace {

// An op of `kind` on `operands` with one result, not yet placed in any region.
Op* make(Function& fn, OpKind kind, Loc loc, std::vector<Value*> operands, const Type& type) {
  Op* op = fn.new_op(kind, loc);
  op->operands = std::move(operands);
  Value* v = fn.new_value(type);
  v->def = op;
  op->results.push_back(v);
  return op;
}

void replace_uses(Region& r, Value* from, Value* to) {
  for (Op* op : r.ops) {
    std::replace(op->operands.begin(), op->operands.end(), from, to);
    for (Region& sub : op->regions) replace_uses(sub, from, to);
  }
}

// `init + splat(off)` as two ops appended to `out`.
Value* offset_pointers(Function& fn, Loc loc, Value* init, Value* off, std::vector<Op*>& out) {
  Op* s = make(fn, OpKind::Splat, loc, {off}, Type::tile(DType::I64, init->type.shape));
  Op* p = make(fn, OpKind::AddPtr, loc, {init, s->result()}, init->type);
  out.push_back(s);
  out.push_back(p);
  return p->result();
}

// Rewrites iter_arg i of `loop` (at `pos` in `parent`) when its yield is `arg + splat(s)`.
bool rewrite(Function& fn, Region& parent, size_t pos, size_t i) {
  Op& loop = *parent.ops[pos];
  Region& body = loop.regions.at(0);
  Op* y = body.ops.empty() ? nullptr : body.ops.back();
  if (!y || y->kind != OpKind::Yield || i + 1 >= body.args.size() || i >= y->operands.size()) return false;
  Value *arg = body.args[i + 1], *out = y->operands[i], *init = loop.operands.at(i + 3);
  if (!arg->type.is_ptr || !arg->type.is_tile() || !out->def || out->def->kind != OpKind::AddPtr || out->def->operands[0] != arg)
    return false;
  const Value* inc = out->def->operands[1];
  if (!inc->def || !is_int(inc->type.dtype) || (inc->def->kind != OpKind::Splat && inc->def->kind != OpKind::Constant)) return false;
  Loc loc = out->def->loc;
  std::vector<Op*> tail;
  Value* step = nullptr;
  if (inc->def->kind == OpKind::Splat) {
    step = inc->def->operands[0];
  } else {
    tail.push_back(make(fn, OpKind::Constant, loc, {}, Type::scalar(DType::I64)));
    tail.back()->ival = inc->def->ival;
    step = tail.back()->result();
  }
  // The offset replaces the pointer tile as the iter_arg, the For operand and the For result.
  Value* off = fn.new_value(Type::scalar(DType::I64), arg->name.empty() ? "" : arg->name + "_off");
  body.args[i + 1] = off;
  std::vector<Op*> top;
  Value* p = offset_pointers(fn, loc, init, off, top);
  replace_uses(body, arg, p);
  Value* step64 = step;
  if (step->type.dtype != DType::I64) {
    tail.push_back(make(fn, OpKind::Cast, loc, {step}, Type::scalar(DType::I64)));
    step64 = tail.back()->result();
  }
  Op* next = make(fn, OpKind::Binary, loc, {off, step64}, Type::scalar(DType::I64));
  next->binary = BinaryKind::Add;
  tail.push_back(next);
  y->operands[i] = next->result();
  body.ops.insert(body.ops.end() - 1, tail.begin(), tail.end());
  body.ops.insert(body.ops.begin(), top.begin(), top.end());
  Op* zero = make(fn, OpKind::Constant, loop.loc, {}, Type::scalar(DType::I64));
  loop.operands[i + 3] = zero->result();
  Value* old_result = loop.results[i];
  Value* result = fn.new_value(Type::scalar(DType::I64), old_result->name);
  result->def = &loop;
  loop.results[i] = result;
  std::vector<Op*> after;
  Value* final_ptrs = offset_pointers(fn, loop.loc, init, result, after);
  old_result->def = nullptr;
  for (size_t k = pos + 1; k < parent.ops.size(); ++k) {
    std::replace(parent.ops[k]->operands.begin(), parent.ops[k]->operands.end(), old_result, final_ptrs);
    for (Region& sub : parent.ops[k]->regions) replace_uses(sub, old_result, final_ptrs);
  }
  parent.ops.insert(parent.ops.begin() + static_cast<std::ptrdiff_t>(pos) + 1, after.begin(), after.end());
  parent.ops.insert(parent.ops.begin() + static_cast<std::ptrdiff_t>(pos), zero);
  return true;
}

void run(Function& fn, Region& r) {
  for (size_t pos = 0; pos < r.ops.size(); ++pos) {
    for (Region& sub : r.ops[pos]->regions) run(fn, sub);
    if (r.ops[pos]->kind != OpKind::For) continue;
    for (size_t i = 0; i < r.ops[pos]->results.size(); ++i)
      if (rewrite(fn, r, pos, i)) ++pos;  // the zero offset went in before the loop
  }
}

}  // namespace

void carry_pointer_offsets(Function& fn) { run(fn, fn.body); }

}  // namespace tilec
