// Input: a Function. Output: diagnostics for any op whose operands are undefined at that point,
// whose operand/result counts or types break its kind's rules, or whose region lacks its terminator.
#include <set>

#include "tilec/ir.h"
#include "tilec/libdevice.h"

namespace tilec {
namespace {

class Verifier {
 public:
  Verifier(Diagnostics& diags) : diags_(diags) {}

  void run(const Function& fn) {
    for (Value* a : fn.args) visible_.insert(a);
    region(fn.body, nullptr);
  }

 private:
  void fail(const Op& op, const std::string& msg) {
    diags_.error(op.loc, std::string("IR verifier: '") + op_name(op.kind) + "' " + msg);
  }

  void expect_counts(const Op& op, size_t operands_min, size_t operands_max, size_t results) {
    if (op.operands.size() < operands_min || op.operands.size() > operands_max)
      fail(op, "has " + std::to_string(op.operands.size()) + " operands");
    if (op.results.size() != results) fail(op, "has " + std::to_string(op.results.size()) + " results");
  }

  // A Load's or Store's operand count: its access, then a descriptor's base and 3 fields per dim.
  static size_t desc_end(const Op& op) { return desc_operands_begin(op) + (op.desc_rank ? 1 + 3 * static_cast<size_t>(op.desc_rank) : 0); }

  void same_type(const Op& op, const Value* a, const Value* b) {
    if (a->type != b->type) fail(op, "operand types differ: " + a->type.str() + " vs " + b->type.str());
  }

  void region(const Region& r, const Op* parent) {
    std::vector<Value*> added(r.args.begin(), r.args.end());
    for (Value* a : r.args) visible_.insert(a);
    for (const Op* op : r.ops) {
      for (const Value* v : op->operands)
        if (!v || !visible_.count(v)) {
          fail(*op, "uses a value that is not defined before it");
          return;
        }
      check(*op);
      for (const Region& sub : op->regions) region(sub, op);
      for (Value* v : op->results) {
        visible_.insert(v);
        added.push_back(v);
      }
    }
    if (parent) {
      OpKind want = parent->kind == OpKind::While && &r == &parent->regions.at(0) ? OpKind::Condition : OpKind::Yield;
      if (r.ops.empty() || r.ops.back()->kind != want)
        fail(*parent, std::string("region does not end in '") + op_name(want) + "'");
    }
    for (Value* v : added) visible_.erase(v);
  }

  void check(const Op& op) {
    switch (op.kind) {
      case OpKind::Constant:
      case OpKind::ProgramId:
      case OpKind::NumPrograms: expect_counts(op, 0, 0, 1); break;
      case OpKind::Arange:
        expect_counts(op, 0, 0, 1);
        if (op.ints.size() != 2 || op.result()->type.shape != std::vector<int64_t>{op.ints[1] - op.ints[0]})
          fail(op, "result shape does not match its range");
        break;
      case OpKind::Splat:
        expect_counts(op, 1, 1, 1);
        if (op.operands[0]->type.is_tile() || op.operands[0]->type.element() != op.result()->type.element())
          fail(op, "needs a scalar of the result's element type");
        break;
      case OpKind::Broadcast: {
        expect_counts(op, 1, 1, 1);
        const Type &s = op.operands[0]->type, &d = op.result()->type;
        bool ok = s.shape.size() == d.shape.size() && s.element() == d.element();
        for (size_t i = 0; ok && i < s.shape.size(); ++i) ok = s.shape[i] == 1 || s.shape[i] == d.shape[i];
        if (!ok) fail(op, "cannot broadcast " + s.str() + " to " + d.str());
        break;
      }
      case OpKind::ExpandDims:
      case OpKind::Reshape:
      case OpKind::Permute:
        expect_counts(op, 1, 1, 1);
        if (op.operands[0]->type.numel() != op.result()->type.numel()) fail(op, "changes the element count");
        break;
      case OpKind::Cast:
        expect_counts(op, 1, 1, 1);
        if (op.operands[0]->type.shape != op.result()->type.shape) fail(op, "changes the shape");
        break;
      case OpKind::Binary:
        expect_counts(op, 2, 2, 1);
        same_type(op, op.operands[0], op.operands[1]);
        same_type(op, op.operands[0], op.result());
        break;
      case OpKind::Compare:
        expect_counts(op, 2, 2, 1);
        same_type(op, op.operands[0], op.operands[1]);
        if (op.result()->type.dtype != DType::I1) fail(op, "result is not i1");
        break;
      case OpKind::Unary:
        expect_counts(op, 1, 1, 1);
        same_type(op, op.operands[0], op.result());
        break;
      case OpKind::Fma:
        expect_counts(op, 3, 3, 1);
        same_type(op, op.operands[0], op.operands[1]);
        same_type(op, op.operands[0], op.operands[2]);
        break;
      case OpKind::Select:
        expect_counts(op, 3, 3, 1);
        same_type(op, op.operands[1], op.operands[2]);
        if (op.operands[0]->type.dtype != DType::I1 || op.operands[0]->type.shape != op.operands[1]->type.shape)
          fail(op, "condition must be i1 of the operands' shape");
        break;
      case OpKind::AddPtr:
        expect_counts(op, 2, 2, 1);
        if (!op.operands[0]->type.is_ptr || op.operands[1]->type.is_ptr || !is_int(op.operands[1]->type.dtype) ||
            op.operands[0]->type.shape != op.operands[1]->type.shape)
          fail(op, "needs a pointer and an integer offset of one shape");
        break;
      case OpKind::Load:
        expect_counts(op, desc_end(op), desc_end(op), 1);
        if (!op.operands[0]->type.is_ptr) fail(op, "needs a pointer");
        if (op.cache == CacheModifier::WB || op.cache == CacheModifier::CS || op.cache == CacheModifier::WT)
          fail(op, std::string("has the store cache modifier ") + cache_modifier_name(op.cache));
        if (op.is_volatile && (op.cache != CacheModifier::None || op.evict != EvictionPolicy::Normal))
          fail(op, "is volatile and has a cache modifier or eviction policy");
        break;
      case OpKind::Store:
        expect_counts(op, desc_end(op), desc_end(op), 0);
        if (!op.operands[0]->type.is_ptr || op.operands[1]->type.shape != op.operands[0]->type.shape)
          fail(op, "needs a pointer and a value of its shape");
        if (op.cache == CacheModifier::CA || op.cache == CacheModifier::CV || op.is_volatile)
          fail(op, "has a load-only cache modifier or volatile");
        break;
      case OpKind::Reduce:
      case OpKind::Scan:
        expect_counts(op, 1, 1, 1);
        if (op.axis < 0 || op.axis >= static_cast<int>(op.operands[0]->type.shape.size())) fail(op, "axis out of range");
        break;
      case OpKind::Dot: {
        expect_counts(op, 3, 3, 1);
        const auto &a = op.operands[0]->type.shape, &b = op.operands[1]->type.shape, &c = op.operands[2]->type.shape;
        if (a.size() != 2 || b.size() != 2 || c.size() != 2 || a[1] != b[0] || c[0] != a[0] || c[1] != b[1])
          fail(op, "shapes do not chain");
        same_type(op, op.operands[2], op.result());
        break;
      }
      case OpKind::AtomicRMW: expect_counts(op, 2 + op.has_mask, 2 + op.has_mask, 1); break;
      case OpKind::AtomicCAS: expect_counts(op, 3, 3, 1); break;
      case OpKind::Assert:
        expect_counts(op, 1, 4, 0);
        if (op.operands.size() != 1 && (op.operands.size() != 4 || !op.operands[1]->type.is_ptr || !op.operands[2]->type.is_ptr))
          fail(op, "needs a condition, or a condition, a pointer, its base and the base's extent");
        break;
      case OpKind::Barrier: expect_counts(op, 0, 0, 0); break;
      case OpKind::Print: expect_counts(op, 0, 64, 0); break;
      case OpKind::InlineAsm:
        if (op.results.empty() || op.ival < 1) fail(op, "needs results and a pack of at least 1");
        for (const Value* v : op.operands)
          if (v->type.shape != op.results.at(0)->type.shape || v->type.is_ptr) fail(op, "operands must be numbers of the results' shape");
        for (const Value* v : op.results)
          if (v->type.shape != op.results[0]->type.shape) fail(op, "results must share one shape");
        break;
      case OpKind::Libdevice: {
        const LibdeviceFn* f = find_libdevice(op.str);
        if (!f) {
          fail(op, "unknown libdevice function '" + op.str + "'");
          break;
        }
        expect_counts(op, f->arity, f->arity, 1);
        for (const Value* v : op.operands)
          if (v->type != op.operands[0]->type || !is_float(v->type.dtype)) fail(op, "operands must share one float type");
        if (op.result()->type.shape != op.operands[0]->type.shape) fail(op, "result shape differs from the operands'");
        break;
      }
      case OpKind::Hint:
        expect_counts(op, 1, 1, 1);
        same_type(op, op.operands[0], op.result());
        break;
      case OpKind::For: {
        if (op.operands.size() < 3 || op.regions.size() != 1 || op.results.size() != op.operands.size() - 3 ||
            op.regions[0].args.size() != op.operands.size() - 2) {
          fail(op, "has a malformed signature");
          break;
        }
        for (size_t i = 3; i < op.operands.size(); ++i) same_type(op, op.operands[i], op.results[i - 3]);
        yields_match(op, op.regions[0], op.results);
        break;
      }
      case OpKind::If:
        if (op.operands.size() != 1 || op.regions.size() != 2) {
          fail(op, "has a malformed signature");
          break;
        }
        yields_match(op, op.regions[0], op.results);
        yields_match(op, op.regions[1], op.results);
        break;
      case OpKind::While:
        if (op.regions.size() != 2 || op.results.size() != op.operands.size()) fail(op, "has a malformed signature");
        break;
      case OpKind::Yield:
      case OpKind::Condition: break;
    }
  }

  void yields_match(const Op& op, const Region& r, const std::vector<Value*>& results) {
    if (r.ops.empty() || r.ops.back()->kind != OpKind::Yield) return;
    const Op& y = *r.ops.back();
    if (y.operands.size() != results.size()) {
      fail(op, "yields " + std::to_string(y.operands.size()) + " values for " + std::to_string(results.size()) + " results");
      return;
    }
    for (size_t i = 0; i < results.size(); ++i) same_type(op, y.operands[i], results[i]);
  }

  Diagnostics& diags_;
  std::set<const Value*> visible_;
};

}  // namespace

bool verify_ir(const Function& fn, Diagnostics& diags) {
  int before = diags.error_count();
  Verifier(diags).run(fn);
  return diags.error_count() == before;
}

}  // namespace tilec
