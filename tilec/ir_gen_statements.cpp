// Input: the statements of the kernel and of inlined helpers, run in order (ir_gen.cpp evaluates their
// expressions). Output: their IR: loops with loop-carried state, ifs with results, early returns made structured.
#include "tilec/ir_gen_impl.h"

namespace tilec::ir_gen {

void IrGen::exec_block(const std::vector<StmtPtr>& body) { exec_seq(body, 0, {}); }

void IrGen::exec_seq(const std::vector<StmtPtr>& body, size_t start, const Continuation& cont) {
  for (size_t i = start; i < body.size(); ++i) {
    if (frame_->returned) return;
    const Stmt& s = *body[i];
    if (s.kind == StmtKind::If && contains_return(s.body, s.orelse)) {
      Continuation next = cont;
      next.insert(next.begin(), ContItem{&body, i + 1});
      SVal cond = pointer_truth(eval(*s.test));
      if (cond.kind == SVal::Kind::Const) exec_seq(truthy(cond, s.test->loc) ? s.body : s.orelse, 0, next);
      else exec_if_returning(s, cond, next);
      return;
    }
    if (s.kind == StmtKind::For && contains_return(s.body, {})) {
      if (std::optional<ContItem> loop = static_range_loop(s)) {
        // Unrolled with the rest of the function as each iteration's continuation.
        Continuation next = cont;
        next.insert(next.begin(), ContItem{&body, i + 1});
        next.insert(next.begin(), *loop);
        resume(next);
        return;
      }
    }
    if ((s.kind == StmtKind::For || s.kind == StmtKind::While) && contains_return(s.body, {})) {
      // Early exit from a runtime loop: a done flag (lower_loop_returns.cpp), whose final
      // `if flag: return` takes the rest of the function as its else branch.
      Continuation next = cont;
      next.insert(next.begin(), ContItem{&body, i + 1});
      exec_seq(lowered_loop(s), 0, next);
      return;
    }
    exec(s);
  }
  if (!cont.empty() && !frame_->returned) resume(cont);
}

void IrGen::resume(const Continuation& cont) {
  const ContItem& c = cont.at(0);
  Continuation rest(cont.begin() + 1, cont.end());
  if (!c.loop) return exec_seq(*c.block, c.index, rest);
  if (c.step > 0 ? c.next >= c.end : c.next <= c.end) {
    if (!rest.empty()) resume(rest);
    return;
  }
  ContItem after = c;
  after.next += c.step;
  rest.insert(rest.begin(), after);
  frame_->env[c.loop->target->name] = SVal::of(ConstValue::of_int(c.next));
  exec_seq(c.loop->body, 0, rest);
}

// The iterations of a `for` over tl.static_range (nullopt for any other loop).
std::optional<IrGen::ContItem> IrGen::static_range_loop(const Stmt& s) {
  const Expr& it = *s.iter;
  if (it.kind != ExprKind::Call) return std::nullopt;
  SVal callee = eval(*it.args[0]);
  if (callee.kind != SVal::Kind::Builtin || callee.spec->id != Builtin::StaticRange) return std::nullopt;
  RangeArgs r = range_args(bind_call(*callee.spec, it, {}), it.loc);
  if (r.lb.kind != SVal::Kind::Const || r.ub.kind != SVal::Kind::Const || r.step.kind != SVal::Kind::Const)
    fail(it.loc, "tl.static_range bounds must be constexpr");
  if (s.target->kind != ExprKind::Name) fail(s.target->loc, "the loop variable must be a single name");
  int64_t count = r.step.c.i > 0 ? (r.ub.c.i - r.lb.c.i + r.step.c.i - 1) / r.step.c.i : (r.lb.c.i - r.ub.c.i - r.step.c.i - 1) / -r.step.c.i;
  if (count > 4096) fail(it.loc, "tl.static_range unrolls to more than 4096 iterations; use tl.range");
  ContItem c;
  c.loop = &s;
  c.next = r.lb.c.i;
  c.end = r.ub.c.i;
  c.step = r.step.c.i;
  return c;
}

// The statements that run `loop` (whose body returns) with a done flag, made once per loop.
const std::vector<StmtPtr>& IrGen::lowered_loop(const Stmt& loop) {
  auto it = lowered_loops_.find(&loop);
  if (it != lowered_loops_.end()) return it->second;
  std::vector<StmtPtr> out;
  Loc error_loc;
  std::string error;
  if (!lower_loop_returns(loop, &next_flag_id_, &out, &error_loc, &error)) fail(error_loc, error);
  return lowered_loops_[&loop] = std::move(out);
}

// Whether a return sits in these blocks: in an `if`, or in a loop (tl.static_range loops unroll
// around it; other loops are lowered to a done flag).
bool IrGen::contains_return(const std::vector<StmtPtr>& a, const std::vector<StmtPtr>& b) {
  for (const auto* block : {&a, &b})
    for (const StmtPtr& s : *block) {
      if (s->kind == StmtKind::Return) return true;
      if ((s->kind == StmtKind::If || s->kind == StmtKind::For || s->kind == StmtKind::While) && contains_return(s->body, s->orelse))
        return true;
    }
  return false;
}

// A runtime `if` of which some path returns: each branch runs on to the function's end (through
// `cont`), and the two return values meet as the If op's results.
void IrGen::exec_if_returning(const Stmt& s, const SVal& cond, const Continuation& cont) {
  Value* c = to_bool(cond, s.test->loc);
  if (c->type.is_tile()) fail(s.test->loc, "an 'if' condition must be a scalar, got " + c->type.str() + "; use tl.where for elementwise choices");
  Op* op = b().create(OpKind::If, s.loc, {c}, {});
  op->regions.resize(2);
  Region* saved = b().region();
  std::map<std::string, SVal> before = frame_->env;
  std::vector<SVal> rets;
  for (int branch = 0; branch < 2; ++branch) {
    frame_->env = before;
    frame_->returned = false;
    frame_->ret.reset();
    b().set_region(&op->regions[branch]);
    exec_seq(branch == 0 ? s.body : s.orelse, 0, cont);
    rets.push_back(frame_->ret ? *frame_->ret : SVal::of(ConstValue{}));
  }
  std::vector<SVal> then_items = rets[0].kind == SVal::Kind::Tuple ? rets[0].items : std::vector<SVal>{rets[0]};
  std::vector<SVal> else_items = rets[1].kind == SVal::Kind::Tuple ? rets[1].items : std::vector<SVal>{rets[1]};
  if (then_items.size() != else_items.size() || rets[0].kind != rets[1].kind)
    fail(s.loc, "the branches of this 'if' return " + describe(rets[0]) + " and " + describe(rets[1]));
  std::vector<SVal> merged(then_items.size());
  std::vector<size_t> runtime;
  std::vector<Type> types;
  for (size_t i = 0; i < then_items.size(); ++i) {
    const SVal &tv = then_items[i], &ev = else_items[i];
    if (tv.kind == SVal::Kind::Const && ev.kind == SVal::Kind::Const && tv.c.str() == ev.c.str()) {
      merged[i] = tv;
      continue;
    }
    if (!(tv.is_value() || tv.is_number()) || !(ev.is_value() || ev.is_number()))
      fail(s.loc, "the branches of this 'if' return " + describe(tv) + " and " + describe(ev));
    runtime.push_back(i);
    types.push_back(join_type("the return value", tv, ev, s.loc));
  }
  for (int branch = 0; branch < 2; ++branch) {
    b().set_region(&op->regions[branch]);
    std::vector<Value*> vals;
    for (size_t j = 0; j < runtime.size(); ++j)
      vals.push_back(convert(branch == 0 ? then_items[runtime[j]] : else_items[runtime[j]], types[j], s.loc));
    b().create(OpKind::Yield, s.loc, vals, {});
  }
  b().set_region(saved);
  for (size_t j = 0; j < runtime.size(); ++j) {
    Value* r = fn_->new_value(types[j], "ret");
    r->def = op;
    op->results.push_back(r);
    merged[runtime[j]] = SVal::of(r);
  }
  frame_->env = before;
  frame_->ret = rets[0].kind == SVal::Kind::Tuple ? SVal::tuple(merged) : merged[0];
  frame_->returned = true;
}

void IrGen::exec(const Stmt& s) {
  switch (s.kind) {
    case StmtKind::Assign: {
      SVal value = eval(*s.value);
      for (const ExprPtr& t : s.targets) assign(*t, value);
      return;
    }
    case StmtKind::AugAssign: {
      if (s.target->kind != ExprKind::Name) fail(s.target->loc, "augmented assignment needs a plain name on the left");
      SVal cur = lookup(s.target->name, s.target->loc);
      assign(*s.target, binary(s.aug_op, cur, eval(*s.value), s.loc));
      return;
    }
    case StmtKind::AnnAssign:
      if (s.value) assign(*s.target, eval(*s.value));
      return;
    case StmtKind::If: exec_if(s); return;
    case StmtKind::For: exec_for(s); return;
    case StmtKind::While: exec_while(s); return;
    case StmtKind::Return: {
      if (!frame_->is_helper && s.value)
        fail(s.loc, "a kernel cannot return a value; store results through a pointer with tl.store");
      frame_->ret = s.value ? eval(*s.value) : SVal::of(ConstValue{});
      frame_->returned = true;
      return;
    }
    case StmtKind::Pass: return;
    case StmtKind::Break: fail(s.loc, "'break' is not supported in kernels; use a while loop with a condition");
    case StmtKind::Continue: fail(s.loc, "'continue' is not supported in kernels; guard the loop body with an if");
    case StmtKind::Assert: {
      SVal cond = eval(*s.test);
      std::string msg = s.msg ? const_str(eval(*s.msg), s.msg->loc) : "";
      assert_(cond, msg, s.loc);
      return;
    }
    case StmtKind::ExprStmt:
      if (s.value->kind == ExprKind::Str) return;  // a string statement is a comment
      eval(*s.value);
      return;
  }
}

void IrGen::assert_(const SVal& cond, const std::string& msg, const Loc& loc) {
  if (cond.kind == SVal::Kind::Const) {
    if (!truthy(cond, loc)) fail(loc, "static assertion failed" + (msg.empty() ? "" : ": " + msg));
    return;
  }
  Value* c = to_bool(cond, loc);
  Op* op = b().create(OpKind::Assert, loc, {c}, {});
  op->str = msg.empty() ? (loc.file ? loc.file->path() : fn_->name) + ":" + std::to_string(loc.line) + ": device assertion failed" : msg;
}

void IrGen::assign(const Expr& target, const SVal& value) {
  switch (target.kind) {
    case ExprKind::Name:
      if (value.is_value() && value.v->name.empty() && value.v->def) value.v->name = target.name;
      frame_->env[target.name] = value;
      return;
    case ExprKind::Tuple: {
      if (value.kind != SVal::Kind::Tuple) fail(target.loc, "cannot unpack " + describe(value) + " into " + std::to_string(target.args.size()) + " names");
      if (value.items.size() != target.args.size())
        fail(target.loc, "cannot unpack " + std::to_string(value.items.size()) + " values into " + std::to_string(target.args.size()) + " names");
      for (size_t i = 0; i < target.args.size(); ++i) assign(*target.args[i], value.items[i]);
      return;
    }
    case ExprKind::Subscript: fail(target.loc, "item assignment is not supported: tiles are immutable values; build the new tile with tl.where");
    case ExprKind::Attribute: fail(target.loc, "attribute assignment is not supported in kernels");
    case ExprKind::Int: case ExprKind::Float: case ExprKind::Bool: case ExprKind::None: case ExprKind::Str:
    case ExprKind::Slice: case ExprKind::Call: case ExprKind::Binary: case ExprKind::Unary: case ExprKind::BoolOp:
    case ExprKind::Compare: case ExprKind::IfExp:
      fail(target.loc, "cannot assign to this expression");
  }
}

void IrGen::collect_assigned(const std::vector<StmtPtr>& body, std::set<std::string>& out) {
  std::function<void(const Expr&)> target = [&](const Expr& e) {
    if (e.kind == ExprKind::Name) out.insert(e.name);
    if (e.kind == ExprKind::Tuple)
      for (const ExprPtr& a : e.args) target(*a);
  };
  for (const StmtPtr& s : body) {
    for (const ExprPtr& t : s->targets) target(*t);
    if (s->target && s->kind != StmtKind::For) target(*s->target);
    if (s->kind == StmtKind::For && s->target) target(*s->target);
    collect_assigned(s->body, out);
    collect_assigned(s->orelse, out);
  }
}

// Names assigned in `body` that hold numbers, tiles or block pointers before it: the loop-carried state.
std::vector<std::string> IrGen::carried_names(const std::vector<StmtPtr>& body) {
  std::set<std::string> assigned;
  collect_assigned(body, assigned);
  std::vector<std::string> out;
  for (const std::string& n : assigned) {
    auto it = frame_->env.find(n);
    if (it != frame_->env.end() && (it->second.is_value() || it->second.is_number() || it->second.kind == SVal::Kind::BlockPtr))
      out.push_back(n);
  }
  return out;
}

// The IR values a carried name occupies at loop entry: one for a number (made a runtime value)
// or a tile, one per dim for a block pointer (its offsets).
std::vector<Value*> IrGen::carried_init(const std::string& name, const Loc& loc) {
  const SVal& v = frame_->env.at(name);
  if (v.kind == SVal::Kind::BlockPtr) return v.bp->offsets;
  return {materialize(v, loc)};
}

// The SVal of a carried name whose IR values are `vals` (as many as carried_init gave).
SVal IrGen::carried_bind(const SVal& init, const std::vector<Value*>& vals) {
  if (init.kind != SVal::Kind::BlockPtr) return SVal::of(vals.at(0));
  BlockPtr p = *init.bp;
  p.offsets = vals;
  return SVal::block_ptr(std::move(p));
}

// Converts what the body left in `name` to the carried types `want`; `init` is its value at entry.
std::vector<Value*> IrGen::carried_out(const std::string& name, const SVal& init, const std::vector<Type>& want, const Loc& loc) {
  auto it = frame_->env.find(name);
  if (it == frame_->env.end()) fail(loc, "loop-carried variable '" + name + "' is no longer defined at the end of the loop body");
  const SVal& v = it->second;
  if (init.kind == SVal::Kind::BlockPtr) {
    if (v.kind != SVal::Kind::BlockPtr) fail(loc, "loop-carried variable '" + name + "' became " + describe(v));
    if (!same_block_ptr_frame(*v.bp, *init.bp))
      fail(loc, "block pointer '" + name + "' gets a new base, shape, strides, block shape or order inside the loop; "
                "only tl.advance may change a loop-carried block pointer");
    return v.bp->offsets;
  }
  if (v.kind == SVal::Kind::Const && v.is_number()) return {constant(want.at(0), v.c, loc)};
  if (!v.is_value()) fail(loc, "loop-carried variable '" + name + "' became " + describe(v));
  Value* x = v.v;
  if (x->type == want.at(0)) return {x};
  if (x->type.element() == want[0].element() && broadcast_shapes(x->type.shape, want[0].shape) == want[0].shape)
    return {broadcast_to(x, want[0].shape, loc)};
  fail(loc, "loop-carried variable '" + name + "' has type " + want[0].str() + " before the loop but " + x->type.str() +
                " at the end of the body; keep its type the same (use .to() or tl.broadcast_to)");
}

// Two block pointers that may differ only in their offsets.
bool IrGen::same_block_ptr_frame(const BlockPtr& a, const BlockPtr& c) {
  return a.base == c.base && a.shape == c.shape && a.strides == c.strides && a.block == c.block && a.order == c.order;
}

IrGen::Carried IrGen::carried_state(const std::vector<StmtPtr>& body, const std::string& exclude, const Loc& loc) {
  Carried c;
  for (const std::string& n : carried_names(body)) {
    if (n == exclude) continue;
    c.names.push_back(n);
    c.inits.push_back(frame_->env.at(n));
    c.slots.emplace_back();
    for (Value* v : carried_init(n, loc)) {
      c.slots.back().push_back(c.values.size());
      c.values.push_back(v);
    }
  }
  return c;
}

// Binds every carried name to `vals` (one per slot: region arguments or op results).
void IrGen::bind_carried(const Carried& c, const std::vector<Value*>& vals) {
  for (size_t i = 0; i < c.names.size(); ++i) {
    std::vector<Value*> mine;
    for (size_t k : c.slots[i]) mine.push_back(vals.at(k));
    frame_->env[c.names[i]] = carried_bind(c.inits[i], mine);
  }
}

// New values of the slots' types, named after their variables.
std::vector<Value*> IrGen::carried_values(const Carried& c) {
  std::vector<Value*> out(c.values.size());
  for (size_t i = 0; i < c.names.size(); ++i)
    for (size_t k : c.slots[i]) out[k] = fn_->new_value(c.values[k]->type, c.names[i]);
  return out;
}

// What the body leaves in the carried names, one value per slot.
std::vector<Value*> IrGen::carried_yields(const Carried& c, const Loc& loc) {
  std::vector<Value*> out;
  for (size_t i = 0; i < c.names.size(); ++i) {
    std::vector<Type> want;
    for (size_t k : c.slots[i]) want.push_back(c.values[k]->type);
    for (Value* v : carried_out(c.names[i], c.inits[i], want, loc)) out.push_back(v);
  }
  return out;
}

// A scalar pointer is always truthy (`if bias_ptr:` tests for None, which is a constexpr).
SVal IrGen::pointer_truth(SVal v) {
  if (v.is_value() && v.v->type.is_ptr && !v.v->type.is_tile()) return SVal::of(ConstValue::of_bool(true));
  return v;
}

void IrGen::exec_if(const Stmt& s) {
  SVal cond = pointer_truth(eval(*s.test));
  if (cond.kind == SVal::Kind::Const) {
    exec_block(truthy(cond, s.test->loc) ? s.body : s.orelse);
    return;
  }
  Value* c = to_bool(cond, s.test->loc);
  if (c->type.is_tile()) fail(s.test->loc, "an 'if' condition must be a scalar, got " + c->type.str() + "; use tl.where for elementwise choices");
  Op* op = b().create(OpKind::If, s.loc, {c}, {});
  op->regions.resize(2);
  Region* saved = b().region();
  std::map<std::string, SVal> before = frame_->env;
  b().set_region(&op->regions[0]);
  exec_block(s.body);
  std::map<std::string, SVal> then_env = frame_->env;
  frame_->env = before;
  b().set_region(&op->regions[1]);
  exec_block(s.orelse);
  std::map<std::string, SVal> else_env = frame_->env;

  std::set<std::string> assigned;
  collect_assigned(s.body, assigned);
  collect_assigned(s.orelse, assigned);
  std::vector<std::string> results;
  std::vector<int> dims;  // -1: the variable's value; d >= 0: offset d of a block pointer
  std::vector<Type> types;
  frame_->env = before;
  for (const std::string& n : assigned) {
    auto t = then_env.find(n), e = else_env.find(n);
    if (t == then_env.end() || e == else_env.end()) {
      frame_->env.erase(n);
      continue;
    }
    const SVal &tv = t->second, &ev = e->second;
    if (tv.kind == SVal::Kind::Const && ev.kind == SVal::Kind::Const && tv.c.str() == ev.c.str()) {
      frame_->env[n] = tv;
      continue;
    }
    if (tv.kind == SVal::Kind::BlockPtr && ev.kind == SVal::Kind::BlockPtr) {
      if (!same_block_ptr_frame(*tv.bp, *ev.bp))
        fail(s.loc, "block pointer '" + n + "' gets a new base, shape, strides, block shape or order in a branch of this 'if'; "
                    "only tl.advance may differ between the branches");
      if (tv.bp->offsets == ev.bp->offsets) {
        frame_->env[n] = tv;
        continue;
      }
      for (size_t d = 0; d < tv.bp->offsets.size(); ++d) {
        results.push_back(n);
        dims.push_back(static_cast<int>(d));
        types.push_back(tv.bp->offsets[d]->type);
      }
      continue;
    }
    if (!(tv.is_value() || tv.is_number()) || !(ev.is_value() || ev.is_number()))
      fail(s.loc, "variable '" + n + "' is " + describe(tv) + " in one branch and " + describe(ev) + " in the other");
    Type ty = join_type(n, tv, ev, s.loc);
    results.push_back(n);
    dims.push_back(-1);
    types.push_back(ty);
  }
  auto branch_value = [&](const std::map<std::string, SVal>& env, size_t i) {
    const SVal& v = env.at(results[i]);
    return dims[i] < 0 ? convert(v, types[i], s.loc) : v.bp->offsets[dims[i]];
  };
  std::vector<Value*> then_vals, else_vals;
  b().set_region(&op->regions[0]);
  for (size_t i = 0; i < results.size(); ++i) then_vals.push_back(branch_value(then_env, i));
  b().create(OpKind::Yield, s.loc, then_vals, {});
  b().set_region(&op->regions[1]);
  for (size_t i = 0; i < results.size(); ++i) else_vals.push_back(branch_value(else_env, i));
  b().create(OpKind::Yield, s.loc, else_vals, {});
  b().set_region(saved);
  for (size_t i = 0; i < results.size(); ++i) {
    Value* r = fn_->new_value(types[i], results[i]);
    r->def = op;
    op->results.push_back(r);
    if (dims[i] < 0) {
      frame_->env[results[i]] = SVal::of(r);
    } else {
      BlockPtr p = *then_env.at(results[i]).bp;
      if (dims[i] > 0) p.offsets = frame_->env.at(results[i]).bp->offsets;
      p.offsets[dims[i]] = r;
      frame_->env[results[i]] = SVal::block_ptr(std::move(p));
    }
  }
}

Type IrGen::join_type(const std::string& n, const SVal& a, const SVal& b, const Loc& loc) {
  if (a.is_value() && b.is_value()) {
    if (a.v->type == b.v->type) return a.v->type;
    if (a.v->type.element() == b.v->type.element())
      if (auto s = broadcast_shapes(a.v->type.shape, b.v->type.shape)) return a.v->type.with_shape(*s);
    fail(loc, "variable '" + n + "' has type " + a.v->type.str() + " in one branch and " + b.v->type.str() + " in the other");
  }
  if (a.is_value()) return a.v->type;
  if (b.is_value()) return b.v->type;
  DType t = promote(const_dtype(a.c), false, const_dtype(b.c), false);
  return Type::scalar(t);
}

IrGen::RangeArgs IrGen::range_args(const std::vector<std::optional<SVal>>& a, const Loc& loc) {
  RangeArgs r;
  if (a[1]) {
    r.lb = *a[0];
    r.ub = *a[1];
  } else {
    r.lb = SVal::of(ConstValue::of_int(0));
    r.ub = *a[0];
  }
  r.step = a[2] ? *a[2] : SVal::of(ConstValue::of_int(1));
  for (const SVal* v : {&r.lb, &r.ub, &r.step}) {
    bool ok = v->is_const(ConstValue::Kind::Int) || (v->is_value() && !v->v->type.is_tile() && is_int(v->v->type.dtype) && !v->v->type.is_ptr);
    if (!ok) fail(loc, "range bounds must be integer scalars, got " + describe(*v));
  }
  if (r.step.is_const(ConstValue::Kind::Int) && r.step.c.i == 0) fail(loc, "range step must not be zero");
  return r;
}

void IrGen::exec_for(const Stmt& s) {
  const Expr& it = *s.iter;
  if (it.kind != ExprKind::Call) fail(it.loc, "a for loop must iterate over range(), tl.range() or tl.static_range()");
  SVal callee = eval(*it.args[0]);
  if (callee.kind != SVal::Kind::Builtin ||
      (callee.spec->id != Builtin::PyRange && callee.spec->id != Builtin::TlRange && callee.spec->id != Builtin::StaticRange))
    fail(it.loc, "a for loop must iterate over range(), tl.range() or tl.static_range()");
  std::vector<std::optional<SVal>> args = bind_call(*callee.spec, it, {});
  RangeArgs r = range_args(args, it.loc);
  if (s.target->kind != ExprKind::Name) fail(s.target->loc, "the loop variable must be a single name");

  bool all_const = r.lb.kind == SVal::Kind::Const && r.ub.kind == SVal::Kind::Const && r.step.kind == SVal::Kind::Const;
  if (callee.spec->id == Builtin::StaticRange) {
    if (!all_const) fail(it.loc, "tl.static_range bounds must be constexpr");
    int64_t count = 0;
    for (int64_t i = r.lb.c.i; r.step.c.i > 0 ? i < r.ub.c.i : i > r.ub.c.i; i += r.step.c.i) {
      if (++count > 4096) fail(it.loc, "tl.static_range unrolls to more than 4096 iterations; use tl.range");
      frame_->env[s.target->name] = SVal::of(ConstValue::of_int(i));
      exec_block(s.body);
      if (frame_->returned) return;
    }
    return;
  }
  int64_t num_stages = 0;
  if (callee.spec->id == Builtin::TlRange) {
    // num_stages is honoured by the GPU software pipeliner; the other loop options are not.
    if (args.size() > 3 && args[3] && !args[3]->is_none()) {
      if (!args[3]->is_const(ConstValue::Kind::Int) || args[3]->c.i < 1 || args[3]->c.i > 8)
        fail(it.loc, "tl.range num_stages must be a constexpr integer between 1 and 8");
      num_stages = args[3]->c.i;
    }
    const char* unsupported[] = {"loop_unroll_factor", "flatten", "warp_specialize"};
    for (size_t i = 4; i < args.size() && i < 7; ++i)
      if (args[i] && !args[i]->is_none())
        fail(it.loc, std::string("tl.range(") + unsupported[i - 4] + "=...) is not supported by tilec; remove the argument");
  }
  DType ity = DType::I32;
  for (const SVal* v : {&r.lb, &r.ub, &r.step}) {
    if (v->is_value()) ity = promote(ity, false, v->v->type.dtype, false);
    else if (v->c.i > std::numeric_limits<int32_t>::max() || v->c.i < std::numeric_limits<int32_t>::min()) ity = DType::I64;
  }
  Value* lb = convert(r.lb, Type::scalar(ity), it.loc);
  Value* ub = convert(r.ub, Type::scalar(ity), it.loc);
  Value* step = convert(r.step, Type::scalar(ity), it.loc);
  Carried carried = carried_state(s.body, s.target->name, s.loc);
  std::vector<Value*> operands = {lb, ub, step};
  operands.insert(operands.end(), carried.values.begin(), carried.values.end());
  Op* op = b().create(OpKind::For, s.loc, operands, {});
  op->ival = num_stages;
  op->regions.resize(1);
  Region& body = op->regions[0];
  body.args.push_back(fn_->new_value(Type::scalar(ity), s.target->name));
  std::vector<Value*> carried_args = carried_values(carried);
  body.args.insert(body.args.end(), carried_args.begin(), carried_args.end());
  std::map<std::string, SVal> before = frame_->env;
  frame_->env[s.target->name] = SVal::of(body.args[0]);
  bind_carried(carried, carried_args);
  Region* saved = b().region();
  b().set_region(&body);
  exec_block(s.body);
  std::vector<Value*> yields = carried_yields(carried, s.loc);
  std::vector<bool> kept = drop_invariant_offsets(carried, carried_args, yields, body);
  std::vector<Value*> kept_args, kept_yields;
  for (size_t k = 0; k < kept.size(); ++k) {
    if (!kept[k]) continue;
    kept_args.push_back(carried_args[k]);
    kept_yields.push_back(yields[k]);
  }
  op->operands.resize(3);
  body.args.resize(1);
  for (size_t k = 0; k < kept.size(); ++k)
    if (kept[k]) op->operands.push_back(carried.values[k]);
  body.args.insert(body.args.end(), kept_args.begin(), kept_args.end());
  b().create(OpKind::Yield, s.loc, kept_yields, {});
  b().set_region(saved);
  frame_->env = before;
  std::vector<Value*> results = carried_values(carried);
  for (size_t k = 0; k < kept.size(); ++k) {
    if (!kept[k]) {
      results[k] = carried.values[k];
      continue;
    }
    results[k]->def = op;
    op->results.push_back(results[k]);
  }
  bind_carried(carried, results);
}

// Block-pointer offsets that a for loop's body leaves as they were (advanced by 0 or not at all)
// are not carried: their uses in the body (and in the other yields) become the value at entry.
// Returns, per slot, whether it stays carried.
std::vector<bool> IrGen::drop_invariant_offsets(const Carried& c, const std::vector<Value*>& args, std::vector<Value*>& yields,
                                                Region& body) {
  std::vector<bool> kept(args.size(), true);
  std::map<Value*, Value*> repl;
  for (size_t i = 0; i < c.names.size(); ++i) {
    if (c.inits[i].kind != SVal::Kind::BlockPtr) continue;
    for (size_t k : c.slots[i])
      if (yields[k] == args[k]) {
        kept[k] = false;
        repl[args[k]] = c.values[k];
      }
  }
  if (repl.empty()) return kept;
  auto subst = [&](Value*& v) {
    auto it = repl.find(v);
    if (it != repl.end()) v = it->second;
  };
  walk_ops(body, [&](Op* op) {
    for (Value*& v : op->operands) subst(v);
  });
  for (Value*& v : yields) subst(v);
  return kept;
}

void IrGen::exec_while(const Stmt& s) {
  Carried carried = carried_state(s.body, "", s.loc);
  Op* op = b().create(OpKind::While, s.loc, carried.values, {});
  op->regions.resize(2);
  std::map<std::string, SVal> before = frame_->env;
  Region* saved = b().region();
  Region& cond_region = op->regions[0];
  cond_region.args = carried_values(carried);
  bind_carried(carried, cond_region.args);
  b().set_region(&cond_region);
  SVal cond = eval(*s.test);
  Value* c = to_bool(cond, s.test->loc);
  if (c->type.is_tile()) fail(s.test->loc, "a 'while' condition must be a scalar, got " + c->type.str());
  std::vector<Value*> cond_ops = {c};
  cond_ops.insert(cond_ops.end(), cond_region.args.begin(), cond_region.args.end());
  b().create(OpKind::Condition, s.loc, cond_ops, {});
  Region& body = op->regions[1];
  body.args = carried_values(carried);
  bind_carried(carried, body.args);
  b().set_region(&body);
  exec_block(s.body);
  b().create(OpKind::Yield, s.loc, carried_yields(carried, s.loc), {});
  b().set_region(saved);
  frame_->env = before;
  std::vector<Value*> results = carried_values(carried);
  for (Value* res : results) {
    res->def = op;
    op->results.push_back(res);
  }
  bind_carried(carried, results);
}

}  // namespace tilec::ir_gen
