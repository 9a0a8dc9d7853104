// Input: a for/while loop whose body returns (early exit). Output: the same loop over a done flag,
// followed by `if flag: return`; no `return` is left inside any loop.
// A for loop cannot stop in the IR (no break): its iterations after the return run the guard only;
// a while loop's condition also tests the flag.
#include "tilec/lower_loop_returns.h"

namespace tilec {
namespace {

ExprPtr clone(const Expr* e);

Keyword clone(const Keyword& k) { return Keyword{k.name, clone(k.value.get()), k.loc}; }

ExprPtr clone(const Expr* e) {
  if (!e) return nullptr;
  auto c = std::make_unique<Expr>();
  c->kind = e->kind;
  c->loc = e->loc;
  c->name = e->name;
  c->int_text = e->int_text;
  c->float_value = e->float_value;
  c->bool_value = e->bool_value;
  c->bin_op = e->bin_op;
  c->unary_op = e->unary_op;
  c->bool_op = e->bool_op;
  c->cmp_ops = e->cmp_ops;
  for (const ExprPtr& a : e->args) c->args.push_back(clone(a.get()));
  for (const Keyword& k : e->keywords) c->keywords.push_back(clone(k));
  return c;
}

std::vector<StmtPtr> clone(const std::vector<StmtPtr>& block);

StmtPtr clone(const Stmt& s) {
  auto c = std::make_unique<Stmt>();
  c->kind = s.kind;
  c->loc = s.loc;
  for (const ExprPtr& t : s.targets) c->targets.push_back(clone(t.get()));
  c->target = clone(s.target.get());
  c->annotation = clone(s.annotation.get());
  c->aug_op = s.aug_op;
  c->value = clone(s.value.get());
  c->test = clone(s.test.get());
  c->iter = clone(s.iter.get());
  c->msg = clone(s.msg.get());
  c->body = clone(s.body);
  c->orelse = clone(s.orelse);
  return c;
}

std::vector<StmtPtr> clone(const std::vector<StmtPtr>& block) {
  std::vector<StmtPtr> out;
  for (const StmtPtr& s : block) out.push_back(clone(*s));
  return out;
}

ExprPtr name(const std::string& n, const Loc& loc) {
  auto e = std::make_unique<Expr>();
  e->kind = ExprKind::Name;
  e->loc = loc;
  e->name = n;
  return e;
}

ExprPtr boolean(bool v, const Loc& loc) {
  auto e = std::make_unique<Expr>();
  e->kind = ExprKind::Bool;
  e->loc = loc;
  e->bool_value = v;
  return e;
}

ExprPtr negate(ExprPtr x) {
  auto e = std::make_unique<Expr>();
  e->kind = ExprKind::Unary;
  e->loc = x->loc;
  e->unary_op = UnaryOp::Not;
  e->args.push_back(std::move(x));
  return e;
}

StmtPtr assign(const std::string& n, bool v, const Loc& loc) {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::Assign;
  s->loc = loc;
  s->targets.push_back(name(n, loc));
  s->value = boolean(v, loc);
  return s;
}

StmtPtr if_stmt(ExprPtr test, std::vector<StmtPtr> body, std::vector<StmtPtr> orelse, const Loc& loc) {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::If;
  s->loc = loc;
  s->test = std::move(test);
  s->body = std::move(body);
  s->orelse = std::move(orelse);
  return s;
}

bool has_return(const std::vector<StmtPtr>& block) {
  for (const StmtPtr& s : block) {
    if (s->kind == StmtKind::Return) return true;
    if ((s->kind == StmtKind::If || s->kind == StmtKind::For || s->kind == StmtKind::While) &&
        (has_return(s->body) || has_return(s->orelse)))
      return true;
  }
  return false;
}

struct Lowering {
  int* next_id;
  Loc error_loc;
  std::string error;

  // `block` inside the loop of `flag`: a return sets the flag and drops the rest of its block;
  // what follows a statement that may return runs under `if not flag`.
  bool block(const std::vector<StmtPtr>& in, size_t start, const std::string& flag, std::vector<StmtPtr>* out) {
    for (size_t i = start; i < in.size(); ++i) {
      const Stmt& s = *in[i];
      if (s.kind == StmtKind::Return) {
        if (s.value) {
          error_loc = s.loc;
          error = "'return' with a value inside a runtime for/while loop is not supported (Triton rejects any return in a "
                  "loop); assign the result to a variable and return after the loop";
          return false;
        }
        out->push_back(assign(flag, true, s.loc));
        return true;
      }
      bool returns = (s.kind == StmtKind::If || s.kind == StmtKind::For || s.kind == StmtKind::While) &&
                     (has_return(s.body) || has_return(s.orelse));
      if (!returns) {
        out->push_back(clone(s));
        continue;
      }
      if (s.kind == StmtKind::If) {
        std::vector<StmtPtr> then_block, else_block;
        if (!block(s.body, 0, flag, &then_block) || !block(s.orelse, 0, flag, &else_block)) return false;
        out->push_back(if_stmt(clone(s.test.get()), std::move(then_block), std::move(else_block), s.loc));
      } else {
        // An inner loop: its own flag, then the inner `if flag: return` sets this loop's flag.
        std::string inner;
        if (!loop(s, out, &inner)) return false;
        std::vector<StmtPtr> set;
        set.push_back(assign(flag, true, s.loc));
        out->push_back(if_stmt(name(inner, s.loc), std::move(set), {}, s.loc));
      }
      if (i + 1 < in.size()) {
        std::vector<StmtPtr> rest;
        if (!block(in, i + 1, flag, &rest)) return false;
        out->push_back(if_stmt(negate(name(flag, s.loc)), std::move(rest), {}, s.loc));
      }
      return true;
    }
    return true;
  }

  // [flag = False; the loop with its body under `if not flag`]; *flag_name is the flag.
  bool loop(const Stmt& s, std::vector<StmtPtr>* out, std::string* flag_name) {
    std::string flag = "@returned" + std::to_string((*next_id)++);
    out->push_back(assign(flag, false, s.loc));
    std::vector<StmtPtr> body;
    if (!block(s.body, 0, flag, &body)) return false;
    StmtPtr l = clone(s);
    l->body.clear();
    l->body.push_back(if_stmt(negate(name(flag, s.loc)), std::move(body), {}, s.loc));
    if (s.kind == StmtKind::While) {
      // A while loop also stops on the flag: the skipped body no longer moves its condition on.
      auto test = std::make_unique<Expr>();
      test->kind = ExprKind::BoolOp;
      test->loc = s.test->loc;
      test->bool_op = BoolOpKind::And;
      test->args.push_back(negate(name(flag, s.loc)));
      test->args.push_back(std::move(l->test));
      l->test = std::move(test);
    }
    out->push_back(std::move(l));
    *flag_name = flag;
    return true;
  }
};

}  // namespace

bool lower_loop_returns(const Stmt& loop, int* flag_id, std::vector<StmtPtr>* out, Loc* error_loc, std::string* error) {
  Lowering l{flag_id, {}, {}};
  std::string flag;
  if (!l.loop(loop, out, &flag)) {
    *error_loc = l.error_loc;
    *error = l.error;
    return false;
  }
  auto ret = std::make_unique<Stmt>();
  ret->kind = StmtKind::Return;
  ret->loc = loop.loc;
  std::vector<StmtPtr> then_block;
  then_block.push_back(std::move(ret));
  out->push_back(if_stmt(name(flag, loop.loc), std::move(then_block), {}, loop.loc));
  return true;
}

}  // namespace tilec
