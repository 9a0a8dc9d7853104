// Input: a FunctionDef from the parser. Output: operator spellings and a deterministic dump, one
// statement per line, expressions as "(Kind payload @line:col children...)"; every node has its Loc.
#include "tilec/ast.h"

#include <charconv>
#include <cstdio>

namespace tilec {

const char* binop_spelling(BinOp op) {
  switch (op) {
    case BinOp::Add: return "+";
    case BinOp::Sub: return "-";
    case BinOp::Mul: return "*";
    case BinOp::Div: return "/";
    case BinOp::FloorDiv: return "//";
    case BinOp::Mod: return "%";
    case BinOp::Pow: return "**";
    case BinOp::LShift: return "<<";
    case BinOp::RShift: return ">>";
    case BinOp::BitAnd: return "&";
    case BinOp::BitOr: return "|";
    case BinOp::BitXor: return "^";
    case BinOp::MatMul: return "@";
  }
  return "?";
}

const char* unaryop_spelling(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return "-";
    case UnaryOp::Pos: return "+";
    case UnaryOp::Invert: return "~";
    case UnaryOp::Not: return "not";
  }
  return "?";
}

const char* cmpop_spelling(CmpOp op) {
  switch (op) {
    case CmpOp::Eq: return "==";
    case CmpOp::Ne: return "!=";
    case CmpOp::Lt: return "<";
    case CmpOp::Le: return "<=";
    case CmpOp::Gt: return ">";
    case CmpOp::Ge: return ">=";
    case CmpOp::Is: return "is";
    case CmpOp::IsNot: return "is not";
    case CmpOp::In: return "in";
    case CmpOp::NotIn: return "not in";
  }
  return "?";
}

namespace {

std::string at(const Loc& loc) {
  return "@" + std::to_string(loc.line) + ":" + std::to_string(loc.col);
}


// Shortest text that reads back as the same double.
std::string float_text(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string out(buf, res.ptr);
  // Keep floats visibly distinct from ints in the dump.
  if (out.find_first_of(".eni") == std::string::npos) out += ".0";
  return out;
}

std::string expr_str(const Expr* e);

std::string children(const Expr& e, size_t from) {
  std::string out;
  for (size_t i = from; i < e.args.size(); ++i) out += " " + expr_str(e.args[i].get());
  return out;
}

std::string expr_str(const Expr* e) {
  if (!e) return "_";
  std::string loc = at(e->loc);
  switch (e->kind) {
    case ExprKind::Name: return "(Name " + e->name + " " + loc + ")";
    case ExprKind::Int: return "(Int " + e->int_text + " " + loc + ")";
    case ExprKind::Float: return "(Float " + float_text(e->float_value) + " " + loc + ")";
    case ExprKind::Bool: return std::string("(Bool ") + (e->bool_value ? "True" : "False") + " " + loc + ")";
    case ExprKind::None: return "(None " + loc + ")";
    case ExprKind::Str: return "(Str " + quote_escaped(e->name, '"') + " " + loc + ")";
    case ExprKind::Attribute: return "(Attribute " + e->name + " " + loc + children(*e, 0) + ")";
    case ExprKind::Subscript: return "(Subscript " + loc + children(*e, 0) + ")";
    case ExprKind::Slice: return "(Slice " + loc + children(*e, 0) + ")";
    case ExprKind::Call: {
      std::string out = "(Call " + loc + children(*e, 0);
      for (const Keyword& kw : e->keywords)
        out += " (Keyword " + kw.name + " " + at(kw.loc) + " " + expr_str(kw.value.get()) + ")";
      return out + ")";
    }
    case ExprKind::Binary:
      return std::string("(Binary ") + binop_spelling(e->bin_op) + " " + loc + children(*e, 0) + ")";
    case ExprKind::Unary:
      return std::string("(Unary ") + unaryop_spelling(e->unary_op) + " " + loc + children(*e, 0) + ")";
    case ExprKind::BoolOp:
      return std::string("(BoolOp ") + (e->bool_op == BoolOpKind::And ? "and" : "or") + " " + loc +
             children(*e, 0) + ")";
    case ExprKind::Compare: {
      std::string out = "(Compare " + loc;
      for (size_t i = 0; i < e->args.size(); ++i) {
        if (i > 0 && i - 1 < e->cmp_ops.size()) out += std::string(" ") + cmpop_spelling(e->cmp_ops[i - 1]);
        out += " " + expr_str(e->args[i].get());
      }
      return out + ")";
    }
    case ExprKind::IfExp: return "(IfExp " + loc + children(*e, 0) + ")";
    case ExprKind::Tuple: return "(Tuple " + loc + children(*e, 0) + ")";
  }
  return "(?)";
}

void print_body(std::string& out, const std::vector<StmtPtr>& body, int indent);

void field(std::string& out, int indent, const char* name, const Expr* e) {
  out += std::string(indent, ' ') + name + " " + expr_str(e) + "\n";
}

void print_stmt(std::string& out, const Stmt& s, int indent) {
  std::string pad(indent, ' ');
  int in = indent + 2;
  std::string loc = at(s.loc);
  switch (s.kind) {
    case StmtKind::Assign:
      out += pad + "Assign " + loc + "\n";
      for (const ExprPtr& t : s.targets) field(out, in, "target", t.get());
      field(out, in, "value", s.value.get());
      return;
    case StmtKind::AugAssign:
      out += pad + "AugAssign " + binop_spelling(s.aug_op) + "= " + loc + "\n";
      field(out, in, "target", s.target.get());
      field(out, in, "value", s.value.get());
      return;
    case StmtKind::AnnAssign:
      out += pad + "AnnAssign " + loc + "\n";
      field(out, in, "target", s.target.get());
      field(out, in, "annotation", s.annotation.get());
      if (s.value) field(out, in, "value", s.value.get());
      return;
    case StmtKind::If:
      out += pad + "If " + loc + "\n";
      field(out, in, "test", s.test.get());
      out += std::string(in, ' ') + "body\n";
      print_body(out, s.body, in + 2);
      if (!s.orelse.empty()) {
        out += std::string(in, ' ') + "orelse\n";
        print_body(out, s.orelse, in + 2);
      }
      return;
    case StmtKind::For:
      out += pad + "For " + loc + "\n";
      field(out, in, "target", s.target.get());
      field(out, in, "iter", s.iter.get());
      out += std::string(in, ' ') + "body\n";
      print_body(out, s.body, in + 2);
      return;
    case StmtKind::While:
      out += pad + "While " + loc + "\n";
      field(out, in, "test", s.test.get());
      out += std::string(in, ' ') + "body\n";
      print_body(out, s.body, in + 2);
      return;
    case StmtKind::Return:
      out += pad + "Return " + loc + "\n";
      if (s.value) field(out, in, "value", s.value.get());
      return;
    case StmtKind::Pass: out += pad + "Pass " + loc + "\n"; return;
    case StmtKind::Break: out += pad + "Break " + loc + "\n"; return;
    case StmtKind::Continue: out += pad + "Continue " + loc + "\n"; return;
    case StmtKind::Assert:
      out += pad + "Assert " + loc + "\n";
      field(out, in, "test", s.test.get());
      if (s.msg) field(out, in, "msg", s.msg.get());
      return;
    case StmtKind::ExprStmt:
      out += pad + "Expr " + loc + "\n";
      field(out, in, "value", s.value.get());
      return;
  }
}

void print_body(std::string& out, const std::vector<StmtPtr>& body, int indent) {
  for (const StmtPtr& s : body) print_stmt(out, *s, indent);
}

}  // namespace

std::string print_ast(const FunctionDef& fn) {
  std::string out = "FunctionDef " + fn.name + " " + at(fn.loc) + "\n";
  for (const ExprPtr& d : fn.decorators) out += "  decorator " + expr_str(d.get()) + "\n";
  for (const Param& p : fn.params) {
    out += "  param " + p.name + " " + at(p.loc);
    if (p.annotation) out += " annotation=" + expr_str(p.annotation.get());
    if (p.default_value) out += " default=" + expr_str(p.default_value.get());
    out += "\n";
  }
  print_body(out, fn.body, 2);
  return out;
}

}  // namespace tilec
