// Input: a Function. Output: ops whose operands are all constants become constants (rewritten in
// place), and selects on a constant condition forward an operand. Folding wraps integers to
// their dtype and rounds to fp32 exactly as the targets do; fp16/bf16 results are not folded.
#include <cmath>
#include <cstring>
#include <limits>

#include "tilec/passes.h"

namespace tilec {
namespace {

const Op* const_def(const Value* v) { return v->def && v->def->kind == OpKind::Constant ? v->def : nullptr; }

// Integers are held as int64 bit patterns sign- or zero-extended from their width.
int64_t wrap(int64_t v, DType t) {
  int bits = dtype_bits(t);
  if (bits >= 64) return v;
  uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t u = static_cast<uint64_t>(v) & mask;
  if (is_signed(t) && (u >> (bits - 1)) & 1) u |= ~mask;
  return static_cast<int64_t>(u);
}

bool foldable_float(DType t) { return t == DType::F32 || t == DType::F64; }

double round_to(double v, DType t) { return t == DType::F32 ? static_cast<double>(static_cast<float>(v)) : v; }

void make_int(Op* op, int64_t v) {
  op->kind = OpKind::Constant;
  op->operands.clear();
  op->ival = wrap(v, op->result()->type.dtype);
}

void make_float(Op* op, double v) {
  op->kind = OpKind::Constant;
  op->operands.clear();
  op->fval = round_to(v, op->result()->type.dtype);
}

bool less(int64_t a, int64_t b, DType t) {
  return is_unsigned(t) ? static_cast<uint64_t>(a) < static_cast<uint64_t>(b) : a < b;
}

void fold_binary(Op* op, const Op* a, const Op* b) {
  DType t = op->result()->type.dtype;
  if (is_float(t)) {
    if (!foldable_float(t)) return;
    double x = a->fval, y = b->fval;
    switch (op->binary) {
      case BinaryKind::Add: make_float(op, x + y); return;
      case BinaryKind::Sub: make_float(op, x - y); return;
      case BinaryKind::Mul: make_float(op, x * y); return;
      case BinaryKind::Div: if (y != 0) make_float(op, x / y); return;
      case BinaryKind::Rem: if (y != 0) make_float(op, std::fmod(x, y)); return;
      case BinaryKind::Max: make_float(op, std::fmax(x, y)); return;
      case BinaryKind::Min: make_float(op, std::fmin(x, y)); return;
      case BinaryKind::Shl: case BinaryKind::Shr: case BinaryKind::And: case BinaryKind::Or: case BinaryKind::Xor: return;
    }
    return;
  }
  int64_t x = a->ival, y = b->ival;
  uint64_t ux = static_cast<uint64_t>(x), uy = static_cast<uint64_t>(y);
  int bits = dtype_bits(t);
  switch (op->binary) {
    case BinaryKind::Add: make_int(op, static_cast<int64_t>(ux + uy)); return;
    case BinaryKind::Sub: make_int(op, static_cast<int64_t>(ux - uy)); return;
    case BinaryKind::Mul: make_int(op, static_cast<int64_t>(ux * uy)); return;
    case BinaryKind::Div:
    case BinaryKind::Rem:
      if (y == 0 || (is_signed(t) && y == -1)) return;  // left to the target: trap or wrap as it does
      if (is_unsigned(t)) make_int(op, static_cast<int64_t>(op->binary == BinaryKind::Div ? ux / uy : ux % uy));
      else make_int(op, op->binary == BinaryKind::Div ? x / y : x % y);
      return;
    case BinaryKind::Shl: if (y >= 0 && y < bits) make_int(op, static_cast<int64_t>(ux << y)); return;
    case BinaryKind::Shr:
      if (y >= 0 && y < bits) make_int(op, is_signed(t) ? x >> y : static_cast<int64_t>((ux & (bits == 64 ? ~0ull : (1ull << bits) - 1)) >> y));
      return;
    case BinaryKind::And: make_int(op, x & y); return;
    case BinaryKind::Or: make_int(op, x | y); return;
    case BinaryKind::Xor: make_int(op, x ^ y); return;
    case BinaryKind::Max: make_int(op, less(x, y, t) ? y : x); return;
    case BinaryKind::Min: make_int(op, less(x, y, t) ? x : y); return;
  }
}

void fold_compare(Op* op, const Op* a, const Op* b) {
  DType t = op->operands[0]->type.dtype;
  if (is_float(t) && !foldable_float(t)) return;
  bool r = false;
  if (is_float(t)) {
    double x = a->fval, y = b->fval;
    switch (op->cmp) {
      case CmpKind::Eq: r = x == y; break;
      case CmpKind::Ne: r = x != y; break;
      case CmpKind::Lt: r = x < y; break;
      case CmpKind::Le: r = x <= y; break;
      case CmpKind::Gt: r = x > y; break;
      case CmpKind::Ge: r = x >= y; break;
    }
  } else {
    int64_t x = a->ival, y = b->ival;
    switch (op->cmp) {
      case CmpKind::Eq: r = x == y; break;
      case CmpKind::Ne: r = x != y; break;
      case CmpKind::Lt: r = less(x, y, t); break;
      case CmpKind::Le: r = !less(y, x, t); break;
      case CmpKind::Gt: r = less(y, x, t); break;
      case CmpKind::Ge: r = !less(x, y, t); break;
    }
  }
  make_int(op, r);
}

void fold_unary(Op* op, const Op* a) {
  DType t = op->result()->type.dtype;
  if (is_float(t)) {
    if (!foldable_float(t)) return;
    switch (op->unary) {
      case UnaryKind::Neg: make_float(op, -a->fval); return;
      case UnaryKind::Abs: make_float(op, std::fabs(a->fval)); return;
      case UnaryKind::Floor: make_float(op, std::floor(a->fval)); return;
      case UnaryKind::Ceil: make_float(op, std::ceil(a->fval)); return;
      case UnaryKind::Not: case UnaryKind::Exp: case UnaryKind::Exp2: case UnaryKind::Log: case UnaryKind::Log2:
      case UnaryKind::Sqrt: case UnaryKind::Rsqrt: case UnaryKind::Sin: case UnaryKind::Cos: case UnaryKind::Erf:
        return;  // transcendental results differ by target library; keep them at run time
    }
    return;
  }
  switch (op->unary) {
    case UnaryKind::Neg: make_int(op, static_cast<int64_t>(0 - static_cast<uint64_t>(a->ival))); return;
    case UnaryKind::Not: make_int(op, t == DType::I1 ? !a->ival : ~a->ival); return;
    case UnaryKind::Abs: make_int(op, a->ival < 0 && is_signed(t) ? static_cast<int64_t>(0 - static_cast<uint64_t>(a->ival)) : a->ival); return;
    case UnaryKind::Floor: case UnaryKind::Ceil: make_int(op, a->ival); return;
    case UnaryKind::Exp: case UnaryKind::Exp2: case UnaryKind::Log: case UnaryKind::Log2: case UnaryKind::Sqrt:
    case UnaryKind::Rsqrt: case UnaryKind::Sin: case UnaryKind::Cos: case UnaryKind::Erf:
      return;
  }
}

void fold_cast(Op* op, const Op* a) {
  DType from = op->operands[0]->type.dtype, to = op->result()->type.dtype;
  if ((is_float(from) && !foldable_float(from)) || (is_float(to) && !foldable_float(to))) return;
  if (is_float(to)) {
    double v = is_float(from) ? a->fval : is_unsigned(from) ? static_cast<double>(static_cast<uint64_t>(a->ival)) : static_cast<double>(a->ival);
    make_float(op, v);
  } else if (to == DType::I1) {
    make_int(op, is_float(from) ? a->fval != 0 : a->ival != 0);
  } else if (is_float(from)) {
    double v = std::trunc(a->fval);
    if (!(v >= -9.2e18 && v <= 9.2e18)) return;  // out of range: target-defined
    make_int(op, static_cast<int64_t>(v));
  } else {
    make_int(op, a->ival);
  }
}

void run(Region& r, std::unordered_map<Value*, Value*>& forward) {
  for (Op* op : r.ops) {
    for (Value*& v : op->operands)
      for (auto it = forward.find(v); it != forward.end(); it = forward.find(v)) v = it->second;
    for (Region& sub : op->regions) run(sub, forward);
    bool all_const = !op->operands.empty();
    for (const Value* v : op->operands) all_const = all_const && const_def(v);
    switch (op->kind) {
      case OpKind::Binary: if (all_const) fold_binary(op, const_def(op->operands[0]), const_def(op->operands[1])); break;
      case OpKind::Compare: if (all_const) fold_compare(op, const_def(op->operands[0]), const_def(op->operands[1])); break;
      case OpKind::Unary: if (all_const) fold_unary(op, const_def(op->operands[0])); break;
      case OpKind::Cast: if (all_const) fold_cast(op, const_def(op->operands[0])); break;
      case OpKind::Splat: case OpKind::Broadcast: case OpKind::ExpandDims: case OpKind::Reshape: case OpKind::Permute:
        if (all_const) {
          const Op* c = const_def(op->operands[0]);
          op->kind = OpKind::Constant;
          op->operands.clear();
          op->ival = c->ival;
          op->fval = c->fval;
        }
        break;
      case OpKind::Select:
        if (const Op* c = const_def(op->operands[0])) forward[op->result()] = op->operands[c->ival ? 1 : 2];
        break;
      case OpKind::Constant: case OpKind::ProgramId: case OpKind::NumPrograms: case OpKind::Arange: case OpKind::Fma:
      case OpKind::AddPtr: case OpKind::Load: case OpKind::Store: case OpKind::Reduce: case OpKind::Scan: case OpKind::Dot:
      case OpKind::AtomicRMW: case OpKind::AtomicCAS: case OpKind::Assert: case OpKind::Barrier: case OpKind::Print: case OpKind::InlineAsm: case OpKind::Libdevice:
      case OpKind::Hint: case OpKind::For:
      case OpKind::If: case OpKind::While: case OpKind::Yield: case OpKind::Condition:
        break;
    }
  }
}

}  // namespace

void fold_constants(Function& fn) {
  std::unordered_map<Value*, Value*> forward;
  run(fn.body, forward);
}

}  // namespace tilec
