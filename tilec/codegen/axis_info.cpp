// Input: verified tile IR with ArgInfo divisibility facts. Output: AxisInfo per value, loop-carried
// values solved by iterating to a fixpoint of the meet (gcd) of their inits and yields.
#include "tilec/codegen/axis_info.h"

#include <algorithm>
#include <numeric>

namespace tilec {
namespace {

constexpr int64_t kMaxDiv = int64_t{1} << 30;

int64_t pow2_div(int64_t c) {
  if (c == 0) return kMaxDiv;
  uint64_t u = static_cast<uint64_t>(c);
  return std::min<int64_t>(kMaxDiv, static_cast<int64_t>(u & (~u + 1)));
}

int64_t last_dim(const Type& t) { return t.shape.empty() ? 1 : t.shape.back(); }

int64_t gcd3(int64_t a, int64_t b, int64_t c) { return std::gcd(std::gcd(a, b), c); }

// Divisibility of x's elements that start aligned chunks of `c` elements: the chunk-start fact
// only covers every such element when x itself has no longer runs (unit = bytes per element step).
int64_t div_at(const AxisInfo& x, int64_t c, int64_t unit) {
  if (x.contig == 1 || c >= x.contig) return x.div;
  return std::gcd(x.div, c * unit);
}

AxisInfo meet(const AxisInfo& a, const AxisInfo& b) {
  AxisInfo r;
  r.contig = std::gcd(a.contig, b.contig);
  r.div = std::gcd(a.div, b.div);
  r.cnst = std::gcd(a.cnst, b.cnst);
  if (a.value == b.value) r.value = a.value;
  return r;
}

}  // namespace

AxisAnalysis::AxisAnalysis(const Function& fn) {
  for (size_t i = 0; i < fn.args.size(); ++i) {
    const Value* a = fn.args[i];
    AxisInfo info;
    int d = i < fn.arg_info.size() ? fn.arg_info[i].divisibility : 1;
    if (a->type.is_ptr) info.div = std::max<int64_t>(d, dtype_bytes(a->type.dtype));
    else if (is_int(a->type.dtype)) info.div = std::max(d, 1);
    set(a, info);
  }
  region(fn.body);
}

AxisInfo AxisAnalysis::get(const Value* v) const {
  auto it = info_.find(v);
  if (it != info_.end()) return it->second;
  AxisInfo d;
  if (v->type.is_ptr) d.div = dtype_bytes(v->type.dtype);
  return d;
}

void AxisAnalysis::set(const Value* v, AxisInfo info) {
  int64_t l = last_dim(v->type);
  info.contig = std::max<int64_t>(1, std::min(info.contig, l));
  info.cnst = std::max<int64_t>(1, std::min(info.cnst, l));
  info.div = std::max<int64_t>(1, std::min(info.div, kMaxDiv));
  if (v->type.is_ptr) info.value.reset();
  info_[v] = info;
}

void AxisAnalysis::region(const Region& r) {
  for (const Op* o : r.ops) op(*o);
}

void AxisAnalysis::op(const Op& o) {
  auto in = [&](size_t i) { return get(o.operands.at(i)); };
  const Value* res = o.results.empty() ? nullptr : o.results[0];
  int64_t l = res ? last_dim(res->type) : 1;
  AxisInfo r;
  if (res && res->type.is_ptr) r.div = dtype_bytes(res->type.dtype);
  switch (o.kind) {
    case OpKind::Constant:
      r.cnst = l;
      if (!is_float(res->type.dtype)) {
        r.value = o.ival;
        r.div = pow2_div(o.ival);
      }
      break;
    case OpKind::ProgramId:
    case OpKind::NumPrograms: break;
    case OpKind::Arange:
      r.contig = l;
      r.div = pow2_div(o.ints.at(0));
      break;
    case OpKind::Splat:
      r = in(0);
      r.contig = 1;
      r.cnst = l;
      break;
    case OpKind::Broadcast: {
      AxisInfo s = in(0);
      if (last_dim(o.operands[0]->type) == 1) {
        r.div = s.div;
        r.value = s.value;
        r.cnst = l;
      } else {
        r = s;
      }
      break;
    }
    case OpKind::ExpandDims:
    case OpKind::Reshape:
    case OpKind::Permute: {
      AxisInfo s = in(0);
      bool keeps_last = last_dim(o.operands[0]->type) == l && !o.operands[0]->type.shape.empty() &&
                        (o.kind != OpKind::Permute || o.ints.empty() || o.ints.back() == static_cast<int64_t>(o.ints.size()) - 1) &&
                        (o.kind != OpKind::ExpandDims || o.axis != static_cast<int>(res->type.shape.size()) - 1);
      if (keeps_last) {
        r = s;
      } else {
        r.div = s.contig == 1 ? s.div : (res->type.is_ptr ? dtype_bytes(res->type.dtype) : 1);
        r.value = s.value;
        if (s.cnst == last_dim(o.operands[0]->type) && s.value) r.cnst = l;
      }
      break;
    }
    case OpKind::Cast: {
      AxisInfo s = in(0);
      r.cnst = s.cnst;
      DType from = o.operands[0]->type.dtype, to = res->type.dtype;
      if (is_int(from) && is_int(to) && from != DType::I1 && to != DType::I1 && dtype_bits(to) >= dtype_bits(from)) r = s;
      break;
    }
    case OpKind::Binary: {
      AxisInfo a = in(0), b = in(1);
      r.cnst = std::gcd(a.cnst, b.cnst);
      bool ints = is_int(res->type.dtype) && res->type.dtype != DType::I1;
      if (!ints) break;
      switch (o.binary) {
        case BinaryKind::Add:
        case BinaryKind::Sub: {
          int64_t c = std::gcd(a.contig, b.cnst);
          if (o.binary == BinaryKind::Add) c = std::max(c, std::gcd(a.cnst, b.contig));
          r.contig = c;
          r.div = std::gcd(div_at(a, c, 1), div_at(b, c, 1));
          if (a.value && b.value) r.value = o.binary == BinaryKind::Add ? *a.value + *b.value : *a.value - *b.value;
          break;
        }
        case BinaryKind::Mul:
          if (b.value == 1) { r = a; break; }
          if (a.value == 1) { r = b; break; }
          r.div = std::min(kMaxDiv, div_at(a, 1, 1) * div_at(b, 1, 1));
          if (a.value && b.value) r.value = *a.value * *b.value;
          break;
        case BinaryKind::Shl:
          if (b.value && *b.value >= 0 && *b.value < 31) r.div = std::min(kMaxDiv, div_at(a, 1, 1) << *b.value);
          break;
        case BinaryKind::Rem:
          // x % n over a run starting at a multiple of g, with n a uniform multiple of g, stays a
          // run of g (for x >= 0: offsets, as Triton also assumes; `(pid * B + arange(B)) % M`).
          if (b.cnst == l && b.div > 1) {
            int64_t g = gcd3(a.contig, b.div, a.div);
            if (g > 1) {
              r.contig = g;
              r.div = g;
            }
          }
          break;
        case BinaryKind::Div:
        case BinaryKind::Shr:
        case BinaryKind::And:
        case BinaryKind::Or:
        case BinaryKind::Xor:
        case BinaryKind::Max:
        case BinaryKind::Min: break;
      }
      break;
    }
    case OpKind::Compare: {
      AxisInfo a = in(0), b = in(1);
      r.cnst = std::gcd(a.cnst, b.cnst);
      if (!is_int(o.operands[0]->type.dtype) || o.operands[0]->type.is_ptr) break;
      // A contiguous run that starts at a multiple of g, against a bound that is a multiple of g,
      // is uniformly below or not below it over aligned groups of g: only for < and >= (x vs n).
      auto run_vs_bound = [&](const AxisInfo& x, const AxisInfo& n) {
        int64_t g = gcd3(x.contig, n.cnst, std::gcd(x.div, n.div));
        r.cnst = std::max(r.cnst, g);
      };
      if (o.cmp == CmpKind::Lt || o.cmp == CmpKind::Ge) run_vs_bound(a, b);
      if (o.cmp == CmpKind::Gt || o.cmp == CmpKind::Le) run_vs_bound(b, a);
      break;
    }
    case OpKind::Select: r.cnst = gcd3(in(0).cnst, in(1).cnst, in(2).cnst); break;
    case OpKind::Fma: r.cnst = gcd3(in(0).cnst, in(1).cnst, in(2).cnst); break;
    case OpKind::Libdevice: {
      r.cnst = in(0).cnst;
      for (size_t i = 1; i < o.operands.size(); ++i) r.cnst = std::gcd(r.cnst, in(i).cnst);
      break;
    }
    case OpKind::Unary: r.cnst = in(0).cnst; break;
    case OpKind::AddPtr: {
      AxisInfo p = in(0), off = in(1);
      int64_t es = dtype_bytes(res->type.dtype);
      int64_t c = std::max(std::gcd(p.contig, off.cnst), std::gcd(p.cnst, off.contig));
      r.contig = c;
      r.div = std::gcd(div_at(p, c, es), std::min(kMaxDiv, div_at(off, c, 1) * es));
      r.cnst = std::gcd(p.cnst, off.cnst);
      break;
    }
    case OpKind::Hint: {
      r = in(0);
      int64_t h = o.ints.empty() ? 1 : o.ints.back();
      switch (o.hint) {
        case HintKind::MultipleOf: r.div = std::max<int64_t>(1, h); break;
        case HintKind::MaxContiguous: r.contig = std::max<int64_t>(1, h); break;
        case HintKind::MaxConstancy: r.cnst = std::max<int64_t>(1, h); break;
      }
      break;
    }
    case OpKind::Load:
    case OpKind::Store:
    case OpKind::Reduce:
    case OpKind::Scan:
    case OpKind::Dot:
    case OpKind::AtomicRMW:
    case OpKind::AtomicCAS:
    case OpKind::Assert:
    case OpKind::Barrier:
    case OpKind::Print:
    case OpKind::InlineAsm:
    case OpKind::Yield:
    case OpKind::Condition: break;
    case OpKind::For: {
      const Region& body = o.regions.at(0);
      AxisInfo iv;
      iv.div = std::gcd(get(o.operands[0]).div, get(o.operands[2]).div);
      set(body.args.at(0), iv);
      for (size_t i = 1; i < body.args.size(); ++i) set(body.args[i], get(o.operands.at(i + 2)));
      // Each round only lowers facts (gcd), so this terminates within ~30 rounds per arg.
      for (int round = 0; round < 64; ++round) {
        region(body);
        bool changed = false;
        const Op* y = body.ops.empty() ? nullptr : body.ops.back();
        for (size_t i = 1; y && i < body.args.size() && i - 1 < y->operands.size(); ++i) {
          AxisInfo m = meet(get(body.args[i]), get(y->operands[i - 1]));
          if (!(m == get(body.args[i]))) {
            set(body.args[i], m);
            changed = true;
          }
        }
        if (!changed) break;
      }
      for (size_t i = 0; i < o.results.size(); ++i) set(o.results[i], get(body.args.at(i + 1)));
      return;
    }
    case OpKind::If: {
      region(o.regions.at(0));
      region(o.regions.at(1));
      const Region &t = o.regions[0], &e = o.regions[1];
      for (size_t i = 0; i < o.results.size(); ++i) {
        if (t.ops.empty() || e.ops.empty() || i >= t.ops.back()->operands.size() || i >= e.ops.back()->operands.size()) {
          set(o.results[i], AxisInfo{});
          continue;
        }
        set(o.results[i], meet(get(t.ops.back()->operands[i]), get(e.ops.back()->operands[i])));
      }
      return;
    }
    case OpKind::While: {
      // Loop-carried facts are not worth a fixpoint here: assume nothing.
      for (const Region& reg : o.regions)
        for (const Value* a : reg.args) set(a, AxisInfo{});
      region(o.regions.at(0));
      region(o.regions.at(1));
      for (const Value* v : o.results) set(v, AxisInfo{});
      return;
    }
  }
  if (res) set(res, r);
}

}  // namespace tilec
