// Input: a Function built through Builder. Output: op/attribute names and the deterministic
// text form of the IR (values renumbered in print order, every op with its source location).
#include <cinttypes>
#include <cstdio>
#include <unordered_map>

#include "tilec/ir.h"

namespace tilec {

const char* op_name(OpKind k) {
  switch (k) {
    case OpKind::Constant: return "constant";
    case OpKind::ProgramId: return "program_id";
    case OpKind::NumPrograms: return "num_programs";
    case OpKind::Arange: return "arange";
    case OpKind::Splat: return "splat";
    case OpKind::Broadcast: return "broadcast";
    case OpKind::ExpandDims: return "expand_dims";
    case OpKind::Reshape: return "reshape";
    case OpKind::Permute: return "permute";
    case OpKind::Cast: return "cast";
    case OpKind::Binary: return "binary";
    case OpKind::Compare: return "cmp";
    case OpKind::Unary: return "unary";
    case OpKind::Fma: return "fma";
    case OpKind::Libdevice: return "libdevice";
    case OpKind::Barrier: return "barrier";
    case OpKind::Print: return "print";
    case OpKind::InlineAsm: return "inline_asm";
    case OpKind::Select: return "select";
    case OpKind::AddPtr: return "addptr";
    case OpKind::Load: return "load";
    case OpKind::Store: return "store";
    case OpKind::Reduce: return "reduce";
    case OpKind::Scan: return "scan";
    case OpKind::Dot: return "dot";
    case OpKind::AtomicRMW: return "atomic_rmw";
    case OpKind::AtomicCAS: return "atomic_cas";
    case OpKind::Assert: return "assert";
    case OpKind::Hint: return "hint";
    case OpKind::For: return "for";
    case OpKind::If: return "if";
    case OpKind::While: return "while";
    case OpKind::Yield: return "yield";
    case OpKind::Condition: return "condition";
  }
  return "?";
}

const char* binary_name(BinaryKind k) {
  switch (k) {
    case BinaryKind::Add: return "add";
    case BinaryKind::Sub: return "sub";
    case BinaryKind::Mul: return "mul";
    case BinaryKind::Div: return "div";
    case BinaryKind::Rem: return "rem";
    case BinaryKind::Shl: return "shl";
    case BinaryKind::Shr: return "shr";
    case BinaryKind::And: return "and";
    case BinaryKind::Or: return "or";
    case BinaryKind::Xor: return "xor";
    case BinaryKind::Max: return "max";
    case BinaryKind::Min: return "min";
  }
  return "?";
}

const char* cmp_name(CmpKind k) {
  switch (k) {
    case CmpKind::Eq: return "eq";
    case CmpKind::Ne: return "ne";
    case CmpKind::Lt: return "lt";
    case CmpKind::Le: return "le";
    case CmpKind::Gt: return "gt";
    case CmpKind::Ge: return "ge";
  }
  return "?";
}

const char* unary_name(UnaryKind k) {
  switch (k) {
    case UnaryKind::Neg: return "neg";
    case UnaryKind::Not: return "not";
    case UnaryKind::Exp: return "exp";
    case UnaryKind::Exp2: return "exp2";
    case UnaryKind::Log: return "log";
    case UnaryKind::Log2: return "log2";
    case UnaryKind::Sqrt: return "sqrt";
    case UnaryKind::Rsqrt: return "rsqrt";
    case UnaryKind::Abs: return "abs";
    case UnaryKind::Sin: return "sin";
    case UnaryKind::Cos: return "cos";
    case UnaryKind::Erf: return "erf";
    case UnaryKind::Floor: return "floor";
    case UnaryKind::Ceil: return "ceil";
  }
  return "?";
}

const char* reduce_name(ReduceKind k) {
  switch (k) {
    case ReduceKind::Sum: return "sum";
    case ReduceKind::Max: return "max";
    case ReduceKind::Min: return "min";
    case ReduceKind::ArgMax: return "argmax";
    case ReduceKind::ArgMin: return "argmin";
  }
  return "?";
}

const char* scan_name(ScanKind k) {
  switch (k) {
    case ScanKind::CumSum: return "cumsum";
    case ScanKind::CumProd: return "cumprod";
  }
  return "?";
}

const char* atomic_name(AtomicKind k) {
  switch (k) {
    case AtomicKind::Add: return "add";
    case AtomicKind::Max: return "max";
    case AtomicKind::Min: return "min";
    case AtomicKind::Xchg: return "xchg";
    case AtomicKind::And: return "and";
    case AtomicKind::Or: return "or";
    case AtomicKind::Xor: return "xor";
  }
  return "?";
}

const char* sem_name(MemSem s) {
  switch (s) {
    case MemSem::Relaxed: return "relaxed";
    case MemSem::Acquire: return "acquire";
    case MemSem::Release: return "release";
    case MemSem::AcqRel: return "acq_rel";
  }
  return "?";
}

const char* scope_name(MemScope s) {
  switch (s) {
    case MemScope::Gpu: return "gpu";
    case MemScope::Cta: return "cta";
    case MemScope::Sys: return "sys";
  }
  return "?";
}

const char* hint_name(HintKind k) {
  switch (k) {
    case HintKind::MultipleOf: return "multiple_of";
    case HintKind::MaxContiguous: return "max_contiguous";
    case HintKind::MaxConstancy: return "max_constancy";
  }
  return "?";
}

const char* cache_modifier_name(CacheModifier c) {
  switch (c) {
    case CacheModifier::None: return "";
    case CacheModifier::CA: return ".ca";
    case CacheModifier::CG: return ".cg";
    case CacheModifier::CV: return ".cv";
    case CacheModifier::WB: return ".wb";
    case CacheModifier::CS: return ".cs";
    case CacheModifier::WT: return ".wt";
  }
  return "?";
}

const char* eviction_policy_name(EvictionPolicy e) {
  switch (e) {
    case EvictionPolicy::Normal: return "";
    case EvictionPolicy::EvictFirst: return "evict_first";
    case EvictionPolicy::EvictLast: return "evict_last";
  }
  return "?";
}

size_t desc_operands_begin(const Op& op) {
  return op.kind == OpKind::Load ? 1 + op.has_mask + op.has_other : 2 + op.has_mask;
}

std::optional<DescAccess> desc_access(const Op& op) {
  if ((op.kind != OpKind::Load && op.kind != OpKind::Store) || !op.desc_rank) return std::nullopt;
  size_t r = static_cast<size_t>(op.desc_rank), i = desc_operands_begin(op);
  DescAccess d;
  d.base = op.operands.at(i);
  auto take = [&](std::vector<Value*>& out, size_t first) { out.assign(op.operands.begin() + first, op.operands.begin() + first + r); };
  take(d.shape, i + 1);
  take(d.strides, i + 1 + r);
  take(d.offsets, i + 1 + 2 * r);
  return d;
}

Value* Function::new_value(Type type, std::string name) {
  auto v = std::make_unique<Value>();
  v->id = static_cast<int>(values_.size());
  v->type = std::move(type);
  v->name = std::move(name);
  values_.push_back(std::move(v));
  return values_.back().get();
}

Op* Function::new_op(OpKind kind, Loc loc) {
  auto op = std::make_unique<Op>();
  op->kind = kind;
  op->loc = loc;
  ops_.push_back(std::move(op));
  return ops_.back().get();
}

Op* Builder::create(OpKind kind, Loc loc, std::vector<Value*> operands, const std::vector<Type>& result_types) {
  Op* op = fn_.new_op(kind, loc);
  op->operands = std::move(operands);
  for (const Type& t : result_types) {
    Value* v = fn_.new_value(t);
    v->def = op;
    op->results.push_back(v);
  }
  region_->ops.push_back(op);
  return op;
}

namespace {

std::string format_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string ints_str(const std::vector<int64_t>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
  return out + "]";
}

// An atomic's sem and scope, printed only where they differ from Triton's defaults.
std::string memory_order(const Op& op) {
  if (op.sem == MemSem::AcqRel && op.scope == MemScope::Gpu) return "";
  return std::string(" {sem = ") + sem_name(op.sem) + ", scope = " + scope_name(op.scope) + "}";
}

class Printer {
 public:
  explicit Printer(const IrAnnotations* notes) : notes_(notes) {}

  std::string print(const Function& fn) {
    out_ = "func @" + fn.name + "(";
    for (size_t i = 0; i < fn.args.size(); ++i) {
      if (i) out_ += ", ";
      out_ += name(fn.args[i]) + ": " + fn.args[i]->type.str();
      if (i < fn.arg_info.size() && fn.arg_info[i].divisibility > 1)
        out_ += " {divisibility = " + std::to_string(fn.arg_info[i].divisibility) + "}";
    }
    out_ += ")";
    if (!fn.constexprs.empty()) {
      out_ += " constexprs {";
      for (size_t i = 0; i < fn.constexprs.size(); ++i)
        out_ += (i ? ", " : "") + fn.constexprs[i].first + " = " + fn.constexprs[i].second;
      out_ += "}";
    }
    out_ += " {\n";
    region(fn.body, 1);
    out_ += "}\n";
    return out_;
  }

 private:
  std::string name(const Value* v) {
    auto it = names_.find(v);
    if (it != names_.end()) return it->second;
    std::string n = "%" + (v->name.empty() ? "" : v->name + ".") + std::to_string(next_++);
    names_.emplace(v, n);
    return n;
  }

  std::string list(const std::vector<Value*>& vs, size_t from = 0, size_t to = SIZE_MAX) {
    std::string s;
    for (size_t i = from; i < vs.size() && i < to; ++i) s += (i > from ? ", " : "") + name(vs[i]);
    return s;
  }

  std::string types(const std::vector<Value*>& vs) {
    std::string s = "(";
    for (size_t i = 0; i < vs.size(); ++i) s += (i ? ", " : "") + vs[i]->type.str() + value_note(vs[i]);
    return s + ")";
  }

  void region(const Region& r, int depth) {
    for (const Op* op : r.ops) this->op(*op, depth);
  }

  std::string value_note(const Value* v) const {
    if (!notes_ || !notes_->value) return "";
    std::string n = notes_->value(*v);
    return n.empty() ? n : " " + n;
  }

  std::string op_note(const Op& op) const {
    std::string note = notes_ && notes_->op ? notes_->op(op) : std::string();
    return note.empty() ? note : " " + note;
  }

  // Printed only when set, so IR without them reads as before: {cache = ".cg", evict = "evict_first", volatile}.
  static std::string memory_hints(const Op& op) {
    std::string s;
    auto add = [&](const std::string& item) { s += (s.empty() ? "" : ", ") + item; };
    if (op.cache != CacheModifier::None) add(std::string("cache = \"") + cache_modifier_name(op.cache) + "\"");
    if (op.evict != EvictionPolicy::Normal) add(std::string("evict = \"") + eviction_policy_name(op.evict) + "\"");
    if (op.is_volatile) add("volatile");
    if (op.desc_rank) add("desc_rank = " + std::to_string(op.desc_rank));
    return s.empty() ? s : " {" + s + "}";
  }

  static std::string loc(const Op& op) {
    return "  loc(" + std::to_string(op.loc.line) + ":" + std::to_string(op.loc.col) + ")";
  }

  void op(const Op& op, int depth) {
    std::string ind(depth * 2, ' ');
    std::string head = ind;
    if (!op.results.empty()) head += list(op.results) + " = ";
    std::string body;
    switch (op.kind) {
      case OpKind::Constant: {
        bool fl = is_float(op.result()->type.dtype);
        body = std::string("constant ") + (fl ? format_double(op.fval) : std::to_string(op.ival));
        break;
      }
      case OpKind::ProgramId:
      case OpKind::NumPrograms: body = std::string(op_name(op.kind)) + " " + std::to_string(op.axis); break;
      case OpKind::Arange: body = "arange " + std::to_string(op.ints.at(0)) + ", " + std::to_string(op.ints.at(1)); break;
      case OpKind::Splat:
      case OpKind::Broadcast:
      case OpKind::Reshape:
      case OpKind::Cast:
      case OpKind::Fma:
      case OpKind::Select:
      case OpKind::AddPtr:
      case OpKind::Dot:
      case OpKind::AtomicCAS: body = std::string(op_name(op.kind)) + " " + list(op.operands) + memory_order(op); break;
      case OpKind::ExpandDims: body = "expand_dims " + list(op.operands) + " {axis = " + std::to_string(op.axis) + "}"; break;
      case OpKind::Permute: body = "permute " + list(op.operands) + " {order = " + ints_str(op.ints) + "}"; break;
      case OpKind::Binary: body = std::string(binary_name(op.binary)) + " " + list(op.operands); break;
      case OpKind::Compare: body = std::string("cmp ") + cmp_name(op.cmp) + " " + list(op.operands); break;
      case OpKind::Unary: body = std::string(unary_name(op.unary)) + " " + list(op.operands); break;
      case OpKind::Load:
        body = "load " + list(op.operands);
        if (op.has_mask) body += op.has_other ? " {mask, other}" : " {mask}";
        body += memory_hints(op);
        break;
      case OpKind::Store: body = "store " + list(op.operands) + (op.has_mask ? " {mask}" : "") + memory_hints(op); break;
      case OpKind::Print:
        body = "print " + quote_escaped(op.str, '"') + (op.operands.empty() ? "" : ", " + list(op.operands)) + (op.ival ? " {hex}" : "");
        break;
      case OpKind::InlineAsm:
        body = "inline_asm " + quote_escaped(op.str, '"') + ", " + quote_escaped(op.aux, '"') +
               (op.operands.empty() ? "" : ", " + list(op.operands)) + " {pack = " + std::to_string(op.ival) + "}";
        break;
      case OpKind::Reduce: body = std::string("reduce ") + reduce_name(op.reduce) + " " + list(op.operands) + " {axis = " + std::to_string(op.axis) + "}"; break;
      case OpKind::Scan: body = std::string("scan ") + scan_name(op.scan) + " " + list(op.operands) + " {axis = " + std::to_string(op.axis) + "}"; break;
      case OpKind::AtomicRMW: body = std::string("atomic_") + atomic_name(op.atomic) + " " + list(op.operands) + (op.has_mask ? " {mask}" : "") + memory_order(op); break;
      case OpKind::Assert: body = "assert " + list(op.operands) + ", " + quote_escaped(op.str, '"'); break;
      case OpKind::Libdevice: body = "libdevice." + op.str + " " + list(op.operands); break;
      case OpKind::Barrier: body = "barrier"; break;
      case OpKind::Hint: body = std::string(hint_name(op.hint)) + " " + list(op.operands) + " {values = " + ints_str(op.ints) + "}"; break;
      case OpKind::Yield:
      case OpKind::Condition: body = std::string(op_name(op.kind)) + (op.operands.empty() ? "" : " " + list(op.operands)); break;
      case OpKind::For: {
        const Region& r = op.regions.at(0);
        body = "for " + name(r.args.at(0)) + " = " + name(op.operands.at(0)) + " to " + name(op.operands.at(1)) +
               " step " + name(op.operands.at(2));
        if (op.operands.size() > 3) {
          body += " iter_args(";
          for (size_t i = 3; i < op.operands.size(); ++i)
            body += (i > 3 ? ", " : "") + name(r.args.at(i - 2)) + " = " + name(op.operands[i]);
          body += ") -> " + types(op.results);
        }
        if (op.ival) body += " {num_stages = " + std::to_string(op.ival) + "}";
        out_ += head + body + op_note(op) + " {" + loc(op) + "\n";
        region(r, depth + 1);
        out_ += ind + "}\n";
        return;
      }
      case OpKind::If: {
        body = "if " + name(op.operands.at(0));
        if (!op.results.empty()) body += " -> " + types(op.results);
        out_ += head + body + op_note(op) + " {" + loc(op) + "\n";
        region(op.regions.at(0), depth + 1);
        out_ += ind + "} else {\n";
        region(op.regions.at(1), depth + 1);
        out_ += ind + "}\n";
        return;
      }
      case OpKind::While: {
        const Region& before = op.regions.at(0);
        const Region& after = op.regions.at(1);
        body = "while (";
        for (size_t i = 0; i < op.operands.size(); ++i)
          body += (i ? ", " : "") + name(before.args.at(i)) + " = " + name(op.operands[i]);
        body += ") -> " + types(op.results);
        out_ += head + body + op_note(op) + " {" + loc(op) + "\n";
        region(before, depth + 1);
        out_ += ind + "} do (" + list(after.args) + ") {\n";
        region(after, depth + 1);
        out_ += ind + "}\n";
        return;
      }
    }
    if (!op.results.empty()) {
      body += " : ";
      for (size_t i = 0; i < op.results.size(); ++i) body += (i ? ", " : "") + op.results[i]->type.str() + value_note(op.results[i]);
    }
    out_ += head + body + op_note(op) + loc(op) + "\n";
  }

  const IrAnnotations* notes_;
  std::string out_;
  std::unordered_map<const Value*, std::string> names_;
  int next_ = 0;
};

}  // namespace

std::string print_ir(const Function& fn, const IrAnnotations* notes) { return Printer(notes).print(fn); }

}  // namespace tilec
