// Input: the token stream of one decorated `def` (from lex()). Output: its FunctionDef AST, or
// nullptr once any error was reported; recursion is bounded so no input can overflow the stack.
#include "tilec/parser.h"

#include <cstdlib>
#include <set>
#include <string_view>
#include <utility>

namespace tilec {

namespace {

constexpr int kMaxDepth = 200;

// Ends the whole parse (nesting limit, error cap); AbortStage ends only the current statement.
struct AbortAll {};

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, Diagnostics& diags) : toks_(tokens), diags_(diags) {}

  std::unique_ptr<FunctionDef> function();
  // module_statement: expr_stmt NEWLINE
  StmtPtr module_statement() {
    StmtPtr s = expr_stmt();
    if (!at(Tok::Newline) && !at(Tok::EndOfFile)) fail(cur().loc, "expected the end of the statement, found " + describe(cur()));
    return s;
  }

 private:
  // Raises the nesting depth for the lifetime of a parse function; past kMaxDepth the whole
  // parse stops, because recovery inside a too-deep construct would just repeat the error.
  class DepthGuard {
   public:
    DepthGuard(Parser& p, const char* what)
        : p_(p), counter_(std::string_view(what) == "statement" ? p.stmt_depth_ : p.depth_) {
      if (++counter_ > kMaxDepth) {
        p_.diags_.error(p_.cur().loc, std::string(what) + " nested too deeply (limit 200)");
        throw AbortAll{};
      }
    }
    ~DepthGuard() { --counter_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

   private:
    Parser& p_;
    int& counter_;
  };

  const Token& cur() const { return toks_[pos_]; }
  const Token& peek_at(size_t ahead) const {
    size_t p = pos_ + ahead;
    return p < toks_.size() ? toks_[p] : toks_.back();
  }
  bool at(Tok k) const { return cur().kind == k; }
  const Token& advance() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool accept(Tok k) {
    if (!at(k)) return false;
    advance();
    return true;
  }

  std::string describe(const Token& t) const {
    if (t.kind == Tok::Name) return "name '" + t.text + "'";
    return tok_name(t.kind);
  }
  [[noreturn]] void fail(const Loc& loc, std::string msg) {
    diags_.error(loc, std::move(msg));
    throw AbortStage{};
  }
  [[noreturn]] void unsupported(const Loc& loc, const std::string& what) {
    fail(loc, what + " is not supported in kernels");
  }
  // "expected X CONTEXT, found Y" at the offending token.
  const Token& expect(Tok k, const std::string& context) {
    if (!at(k)) {
      std::string msg = std::string("expected ") + tok_name(k);
      if (!context.empty()) msg += " " + context;
      fail(cur().loc, msg + ", found " + describe(cur()));
    }
    return advance();
  }

  static ExprPtr make(ExprKind kind, Loc loc) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->loc = loc;
    return e;
  }
  static StmtPtr make_stmt(StmtKind kind, Loc loc) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->loc = loc;
    return s;
  }

  static bool starts_expression(Tok k);
  ExprPtr binary_level(size_t level);
  void block(std::vector<StmtPtr>& out, const char* what);
  void statement(std::vector<StmtPtr>& out);
  void simple_stmts(std::vector<StmtPtr>& out);
  StmtPtr simple_stmt();
  StmtPtr if_stmt(Loc loc);
  StmtPtr for_stmt();
  StmtPtr while_stmt();
  StmtPtr expr_stmt();
  void recover();
  void reject_statement_keyword();

  void check_target(const Expr& e, bool allow_tuple);
  ExprPtr expressions();
  ExprPtr target_list();
  ExprPtr expression();
  ExprPtr disjunction();
  ExprPtr conjunction();
  ExprPtr inversion();
  ExprPtr comparison();
  ExprPtr bitor_expr();
  ExprPtr factor();
  ExprPtr power();
  ExprPtr primary();
  ExprPtr call(ExprPtr func);
  ExprPtr subscript(ExprPtr value);
  ExprPtr slice_item();
  ExprPtr atom();
  ExprPtr paren_atom();
  ExprPtr list_atom();
  [[noreturn]] void reject_display(const Token& open);

  const std::vector<Token>& toks_;
  Diagnostics& diags_;
  size_t pos_ = 0;
  int depth_ = 0;       // expression nesting
  int stmt_depth_ = 0;  // block nesting, counted apart so each limit names its construct
};

// Left-associative operator loops build left-deep trees; each extra operand counts as one
// level of nesting so that the finished tree (and its recursive destructor) stays shallow.
class ChainDepth {
 public:
  explicit ChainDepth(int& depth) : depth_(depth) {}
  void bump() { ++depth_, ++added_; }
  ~ChainDepth() { depth_ -= added_; }
  ChainDepth(const ChainDepth&) = delete;
  ChainDepth& operator=(const ChainDepth&) = delete;

 private:
  int& depth_;
  int added_ = 0;
};

// function := decorator* 'def' NAME '(' [param (',' param)* [',']] ')' ['->' expression] ':' block
// decorator := '@' expression NEWLINE
// param := NAME [':' expression] ['=' expression]
// Only jit decorators (`jit`, `X.jit`, optionally called) are parsed; others (autotune,
// heuristics, ...) run in Python before the kernel is compiled, so their tokens are skipped.
std::unique_ptr<FunctionDef> Parser::function() {
  auto fn = std::make_unique<FunctionDef>();
  while (at(Tok::At)) {
    advance();
    bool jit = (at(Tok::Name) && cur().text == "jit") ||
               (at(Tok::Name) && peek_at(1).kind == Tok::Dot && peek_at(2).kind == Tok::Name && peek_at(2).text == "jit");
    if (jit) {
      fn->decorators.push_back(expression());
    } else {
      while (!at(Tok::Newline) && !at(Tok::EndOfFile)) advance();
    }
    expect(Tok::Newline, "after decorator");
  }
  if (at(Tok::KwAsync)) unsupported(cur().loc, "'async'");
  fn->loc = expect(Tok::KwDef, "").loc;
  fn->name = expect(Tok::Name, "after 'def'").text;
  expect(Tok::LParen, "after function name");
  std::set<std::string> seen;
  bool had_default = false;
  while (!at(Tok::RParen)) {
    if (at(Tok::Star)) unsupported(cur().loc, "variadic parameter '*'");
    if (at(Tok::DoubleStar)) unsupported(cur().loc, "variadic keyword parameter '**'");
    if (at(Tok::Slash)) unsupported(cur().loc, "positional-only marker '/'");
    const Token& name = expect(Tok::Name, "in parameter list");
    Param p;
    p.name = name.text;
    p.loc = name.loc;
    if (!seen.insert(p.name).second) fail(name.loc, "duplicate parameter '" + p.name + "'");
    if (accept(Tok::Colon)) p.annotation = expression();
    if (accept(Tok::Assign)) {
      p.default_value = expression();
      had_default = true;
    } else if (had_default) {
      fail(name.loc, "parameter without a default follows parameter with a default");
    }
    fn->params.push_back(std::move(p));
    if (!accept(Tok::Comma)) break;
  }
  expect(Tok::RParen, "after parameters");
  if (accept(Tok::Arrow)) expression();
  expect(Tok::Colon, "after function signature");
  block(fn->body, "function definition");
  if (!at(Tok::EndOfFile)) fail(cur().loc, "expected end of function, found " + describe(cur()));
  // A leading string statement is the docstring, not code.
  if (!fn->body.empty() && fn->body[0]->kind == StmtKind::ExprStmt &&
      fn->body[0]->value->kind == ExprKind::Str)
    fn->body.erase(fn->body.begin());
  return fn;
}

// block := NEWLINE INDENT statement+ DEDENT | simple_stmts
void Parser::block(std::vector<StmtPtr>& out, const char* what) {
  DepthGuard guard(*this, "statement");
  if (!accept(Tok::Newline)) {
    simple_stmts(out);
    return;
  }
  if (!at(Tok::Indent))
    fail(cur().loc, std::string("expected an indented block after ") + what + ", found " +
                        describe(cur()));
  advance();
  while (!at(Tok::Dedent) && !at(Tok::EndOfFile)) {
    size_t before = pos_;
    try {
      statement(out);
    } catch (const AbortStage&) {
      if (diags_.error_count() >= Diagnostics::kMaxErrors) throw AbortAll{};
      recover();
    }
    // Recovery always consumes; this guards against a statement that consumed nothing.
    if (pos_ == before) advance();
  }
  accept(Tok::Dedent);
}

// Skips to the start of the next statement: past the current line and any block it opens.
void Parser::recover() {
  while (!at(Tok::Newline) && !at(Tok::EndOfFile) && !at(Tok::Dedent)) advance();
  accept(Tok::Newline);
  if (!at(Tok::Indent)) return;
  int level = 0;
  do {
    if (at(Tok::Indent)) ++level;
    if (at(Tok::Dedent)) --level;
    advance();
  } while (level > 0 && !at(Tok::EndOfFile));
}

// statement := if_stmt | for_stmt | while_stmt | simple_stmts
void Parser::statement(std::vector<StmtPtr>& out) {
  if (at(Tok::KwIf)) {
    Loc loc = advance().loc;
    out.push_back(if_stmt(loc));
  } else if (at(Tok::KwFor)) {
    out.push_back(for_stmt());
  } else if (at(Tok::KwWhile)) {
    out.push_back(while_stmt());
  } else if (at(Tok::Indent)) {
    fail(cur().loc, "unexpected indent");
  } else {
    simple_stmts(out);
  }
}

// if_stmt := 'if' expression ':' block ('elif' expression ':' block)* ['else' ':' block]
// ('elif' becomes an If inside orelse; `loc` is that of the 'if' or 'elif' keyword.)
StmtPtr Parser::if_stmt(Loc loc) {
  auto s = make_stmt(StmtKind::If, loc);
  s->test = expression();
  expect(Tok::Colon, "after 'if' condition");
  block(s->body, "'if' statement");
  if (at(Tok::KwElif)) {
    DepthGuard guard(*this, "statement");
    Loc elif_loc = advance().loc;
    s->orelse.push_back(if_stmt(elif_loc));
  } else if (at(Tok::KwElse)) {
    advance();
    expect(Tok::Colon, "after 'else'");
    block(s->orelse, "'else'");
  }
  return s;
}

// for_stmt := 'for' target_list 'in' expressions ':' block      ('else' is rejected)
StmtPtr Parser::for_stmt() {
  auto s = make_stmt(StmtKind::For, advance().loc);
  s->target = target_list();
  check_target(*s->target, true);
  expect(Tok::KwIn, "after 'for' target");
  s->iter = expressions();
  expect(Tok::Colon, "after 'for' iterable");
  block(s->body, "'for' statement");
  if (at(Tok::KwElse)) unsupported(cur().loc, "'else' clause on 'for' loop");
  return s;
}

// while_stmt := 'while' expression ':' block      ('else' is rejected)
StmtPtr Parser::while_stmt() {
  auto s = make_stmt(StmtKind::While, advance().loc);
  s->test = expression();
  expect(Tok::Colon, "after 'while' condition");
  block(s->body, "'while' statement");
  if (at(Tok::KwElse)) unsupported(cur().loc, "'else' clause on 'while' loop");
  return s;
}

// simple_stmts := simple_stmt (';' simple_stmt)* [';'] NEWLINE
void Parser::simple_stmts(std::vector<StmtPtr>& out) {
  out.push_back(simple_stmt());
  while (accept(Tok::Semicolon)) {
    if (at(Tok::Newline)) break;
    out.push_back(simple_stmt());
  }
  if (at(Tok::EndOfFile)) return;
  expect(Tok::Newline, "after statement");
}

// Statement keywords outside the kernel subset, named by their keyword.
void Parser::reject_statement_keyword() {
  static constexpr std::pair<Tok, const char*> kRejected[] = {
      {Tok::KwDef, "nested function definition"}, {Tok::KwClass, "'class'"},
      {Tok::KwWith, "'with'"},       {Tok::KwTry, "'try'"},         {Tok::KwImport, "'import'"},
      {Tok::KwFrom, "'from'"},       {Tok::KwGlobal, "'global'"},   {Tok::KwNonlocal, "'nonlocal'"},
      {Tok::KwDel, "'del'"},         {Tok::KwRaise, "'raise'"},     {Tok::KwAsync, "'async'"},
      {Tok::At, "decorator"},
  };
  const Token& t = cur();
  for (const auto& [kind, what] : kRejected)
    if (t.kind == kind) unsupported(t.loc, what);
  // Clause keywords that can only follow a compound statement.
  static constexpr Tok kStray[] = {Tok::KwExcept, Tok::KwFinally, Tok::KwElif, Tok::KwElse,
                                   Tok::KwAs, Tok::Dedent};
  for (Tok kind : kStray)
    if (t.kind == kind) fail(t.loc, "unexpected " + describe(t));
}

// simple_stmt := 'pass' | 'break' | 'continue' | 'return' [expressions]
//              | 'assert' expression [',' expression] | expr_stmt
StmtPtr Parser::simple_stmt() {
  reject_statement_keyword();
  const Token& t = cur();
  if (accept(Tok::KwPass)) return make_stmt(StmtKind::Pass, t.loc);
  if (accept(Tok::KwBreak)) return make_stmt(StmtKind::Break, t.loc);
  if (accept(Tok::KwContinue)) return make_stmt(StmtKind::Continue, t.loc);
  if (accept(Tok::KwReturn)) {
    auto s = make_stmt(StmtKind::Return, t.loc);
    if (!at(Tok::Newline) && !at(Tok::Semicolon) && !at(Tok::EndOfFile)) s->value = expressions();
    return s;
  }
  if (accept(Tok::KwAssert)) {
    auto s = make_stmt(StmtKind::Assert, t.loc);
    s->test = expression();
    if (accept(Tok::Comma)) s->msg = expression();
    return s;
  }
  return expr_stmt();
}

// expr_stmt := (target_list '=')+ expressions          (Assign; chained targets)
//            | target augop expressions               (AugAssign)
//            | NAME ':' expression ['=' expressions]  (AnnAssign)
//            | expressions                            (ExprStmt)
StmtPtr Parser::expr_stmt() {
  Loc loc = cur().loc;
  ExprPtr first = expressions();
  static constexpr std::pair<Tok, BinOp> kAug[] = {
      {Tok::PlusAssign, BinOp::Add},         {Tok::MinusAssign, BinOp::Sub},
      {Tok::StarAssign, BinOp::Mul},         {Tok::SlashAssign, BinOp::Div},
      {Tok::DoubleSlashAssign, BinOp::FloorDiv}, {Tok::PercentAssign, BinOp::Mod},
      {Tok::DoubleStarAssign, BinOp::Pow},   {Tok::LShiftAssign, BinOp::LShift},
      {Tok::RShiftAssign, BinOp::RShift},    {Tok::AmpAssign, BinOp::BitAnd},
      {Tok::PipeAssign, BinOp::BitOr},       {Tok::CaretAssign, BinOp::BitXor},
      {Tok::AtAssign, BinOp::MatMul},
  };
  for (const auto& [tok, op] : kAug) {
    if (!at(tok)) continue;
    if (first->kind == ExprKind::Tuple)
      fail(first->loc, "augmented assignment to a tuple is not possible");
    check_target(*first, false);
    advance();
    auto s = make_stmt(StmtKind::AugAssign, loc);
    s->aug_op = op;
    s->target = std::move(first);
    s->value = expressions();
    return s;
  }
  if (at(Tok::Colon)) {
    if (first->kind != ExprKind::Name)
      fail(first->loc, "annotated assignment target must be a name");
    advance();
    auto s = make_stmt(StmtKind::AnnAssign, loc);
    s->target = std::move(first);
    s->annotation = expression();
    if (accept(Tok::Assign)) s->value = expressions();
    return s;
  }
  if (at(Tok::Assign)) {
    auto s = make_stmt(StmtKind::Assign, loc);
    ExprPtr last = std::move(first);
    while (accept(Tok::Assign)) {
      check_target(*last, true);
      s->targets.push_back(std::move(last));
      last = expressions();
    }
    s->value = std::move(last);
    return s;
  }
  if (at(Tok::Walrus)) unsupported(cur().loc, "':='");
  auto s = make_stmt(StmtKind::ExprStmt, loc);
  s->value = std::move(first);
  return s;
}

// target := NAME | primary '[' slices ']' | '(' target_list ')' | target (',' target)*
void Parser::check_target(const Expr& e, bool allow_tuple) {
  switch (e.kind) {
    case ExprKind::Name:
    case ExprKind::Subscript:
      return;
    case ExprKind::Tuple:
      if (!allow_tuple) fail(e.loc, "cannot assign to tuple here");
      if (e.args.empty()) fail(e.loc, "cannot assign to empty tuple");
      for (const ExprPtr& a : e.args) check_target(*a, true);
      return;
    case ExprKind::Attribute:
      unsupported(e.loc, "attribute assignment");
    case ExprKind::Call:
      fail(e.loc, "cannot assign to function call");
    case ExprKind::Int:
    case ExprKind::Float:
    case ExprKind::Bool:
    case ExprKind::None:
    case ExprKind::Str:
      fail(e.loc, "cannot assign to literal");
    case ExprKind::Slice:
    case ExprKind::Binary:
    case ExprKind::Unary:
    case ExprKind::BoolOp:
    case ExprKind::Compare:
    case ExprKind::IfExp:
      fail(e.loc, "cannot assign to expression");
  }
}

// expressions := expression (',' expression)* [',']     (a Tuple when a comma is present)
ExprPtr Parser::expressions() {
  ExprPtr first = expression();
  if (!at(Tok::Comma)) return first;
  auto tuple = make(ExprKind::Tuple, first->loc);
  tuple->args.push_back(std::move(first));
  while (accept(Tok::Comma) && starts_expression(cur().kind)) tuple->args.push_back(expression());
  return tuple;
}

// target_list := bitor_expr (',' bitor_expr)* [',']   (stops before 'in' of a for loop)
ExprPtr Parser::target_list() {
  if (at(Tok::Star)) unsupported(cur().loc, "starred expression");
  ExprPtr first = bitor_expr();
  if (!at(Tok::Comma)) return first;
  auto tuple = make(ExprKind::Tuple, first->loc);
  tuple->args.push_back(std::move(first));
  while (accept(Tok::Comma) && !at(Tok::KwIn)) {
    if (at(Tok::Star)) unsupported(cur().loc, "starred expression");
    tuple->args.push_back(bitor_expr());
  }
  return tuple;
}

// expression := disjunction ['if' disjunction 'else' expression] | 'lambda' ...
ExprPtr Parser::expression() {
  DepthGuard guard(*this, "expression");
  if (at(Tok::KwLambda)) unsupported(cur().loc, "'lambda'");
  if (at(Tok::KwYield)) unsupported(cur().loc, "'yield'");
  if (at(Tok::Star)) unsupported(cur().loc, "starred expression");
  ExprPtr body = disjunction();
  if (at(Tok::Walrus)) unsupported(cur().loc, "':='");
  if (!at(Tok::KwIf)) return body;
  advance();
  auto e = make(ExprKind::IfExp, body->loc);
  ExprPtr test = disjunction();
  expect(Tok::KwElse, "in conditional expression");
  ExprPtr orelse = expression();
  e->args.push_back(std::move(test));
  e->args.push_back(std::move(body));
  e->args.push_back(std::move(orelse));
  return e;
}

// disjunction := conjunction ('or' conjunction)*
ExprPtr Parser::disjunction() {
  ExprPtr first = conjunction();
  if (!at(Tok::KwOr)) return first;
  auto e = make(ExprKind::BoolOp, first->loc);
  e->bool_op = BoolOpKind::Or;
  e->args.push_back(std::move(first));
  while (accept(Tok::KwOr)) e->args.push_back(conjunction());
  return e;
}

// conjunction := inversion ('and' inversion)*
ExprPtr Parser::conjunction() {
  ExprPtr first = inversion();
  if (!at(Tok::KwAnd)) return first;
  auto e = make(ExprKind::BoolOp, first->loc);
  e->bool_op = BoolOpKind::And;
  e->args.push_back(std::move(first));
  while (accept(Tok::KwAnd)) e->args.push_back(inversion());
  return e;
}

// inversion := 'not' inversion | comparison
ExprPtr Parser::inversion() {
  if (!at(Tok::KwNot)) return comparison();
  DepthGuard guard(*this, "expression");
  auto e = make(ExprKind::Unary, advance().loc);
  e->unary_op = UnaryOp::Not;
  e->args.push_back(inversion());
  return e;
}

// comparison := bitor_expr (compop bitor_expr)*
// compop := '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not' 'in' | 'is' | 'is' 'not'
ExprPtr Parser::comparison() {
  static constexpr std::pair<Tok, CmpOp> kSimple[] = {
      {Tok::EqEq, CmpOp::Eq}, {Tok::NotEq, CmpOp::Ne},     {Tok::Less, CmpOp::Lt},
      {Tok::LessEq, CmpOp::Le}, {Tok::Greater, CmpOp::Gt}, {Tok::GreaterEq, CmpOp::Ge},
      {Tok::KwIn, CmpOp::In},
  };
  ExprPtr first = bitor_expr();
  ExprPtr e;
  while (true) {
    CmpOp op = CmpOp::Eq;
    bool found = false;
    for (const auto& [kind, cmp] : kSimple)
      if (at(kind)) op = cmp, found = true;
    if (at(Tok::KwIs)) {
      found = true;
      op = peek_at(1).kind == Tok::KwNot ? CmpOp::IsNot : CmpOp::Is;
      if (op == CmpOp::IsNot) advance();
    } else if (at(Tok::KwNot) && peek_at(1).kind == Tok::KwIn) {
      found = true;
      op = CmpOp::NotIn;
      advance();
    }
    if (!found) return e ? std::move(e) : std::move(first);
    advance();
    if (!e) {
      e = make(ExprKind::Compare, first->loc);
      e->args.push_back(std::move(first));
    }
    e->cmp_ops.push_back(op);
    e->args.push_back(bitor_expr());
  }
}

// The left-associative binary levels, loosest first; the level past the last is factor.
// bitor_expr  := bitxor_expr ('|' bitxor_expr)*
// bitxor_expr := bitand_expr ('^' bitand_expr)*
// bitand_expr := shift_expr ('&' shift_expr)*
// shift_expr  := sum (('<<' | '>>') sum)*
// sum         := term (('+' | '-') term)*
// term        := factor (('*' | '/' | '//' | '%' | '@') factor)*
struct BinLevelOp {
  Tok tok;
  BinOp op;
};
const std::vector<std::vector<BinLevelOp>>& binary_levels() {
  static const std::vector<std::vector<BinLevelOp>> levels = {
      {{Tok::Pipe, BinOp::BitOr}},
      {{Tok::Caret, BinOp::BitXor}},
      {{Tok::Amp, BinOp::BitAnd}},
      {{Tok::LShift, BinOp::LShift}, {Tok::RShift, BinOp::RShift}},
      {{Tok::Plus, BinOp::Add}, {Tok::Minus, BinOp::Sub}},
      {{Tok::Star, BinOp::Mul}, {Tok::Slash, BinOp::Div}, {Tok::DoubleSlash, BinOp::FloorDiv},
       {Tok::Percent, BinOp::Mod}, {Tok::At, BinOp::MatMul}},
  };
  return levels;
}

ExprPtr Parser::binary_level(size_t level) {
  const auto& levels = binary_levels();
  if (level == levels.size()) return factor();
  ExprPtr lhs = binary_level(level + 1);
  ChainDepth chain(depth_);
  while (true) {
    const BinLevelOp* match = nullptr;
    for (const BinLevelOp& candidate : levels[level])
      if (at(candidate.tok)) match = &candidate;
    if (!match) return lhs;
    advance();
    chain.bump();
    DepthGuard guard(*this, "expression");
    auto e = make(ExprKind::Binary, lhs->loc);
    e->bin_op = match->op;
    e->args.push_back(std::move(lhs));
    e->args.push_back(binary_level(level + 1));
    lhs = std::move(e);
  }
}

ExprPtr Parser::bitor_expr() { return binary_level(0); }

// factor := ('+' | '-' | '~') factor | power
ExprPtr Parser::factor() {
  UnaryOp op;
  if (at(Tok::Plus))
    op = UnaryOp::Pos;
  else if (at(Tok::Minus))
    op = UnaryOp::Neg;
  else if (at(Tok::Tilde))
    op = UnaryOp::Invert;
  else
    return power();
  DepthGuard guard(*this, "expression");
  auto e = make(ExprKind::Unary, advance().loc);
  e->unary_op = op;
  e->args.push_back(factor());
  return e;
}

// power := primary ['**' factor]      (right-associative; binds tighter than a unary on its left)
ExprPtr Parser::power() {
  if (at(Tok::KwAwait)) unsupported(cur().loc, "'await'");
  ExprPtr base = primary();
  if (!accept(Tok::DoubleStar)) return base;
  DepthGuard guard(*this, "expression");
  auto e = make(ExprKind::Binary, base->loc);
  e->bin_op = BinOp::Pow;
  e->args.push_back(std::move(base));
  e->args.push_back(factor());
  return e;
}

// primary := atom ('.' NAME | '(' arguments ')' | '[' slices ']')*
ExprPtr Parser::primary() {
  ExprPtr e = atom();
  ChainDepth chain(depth_);
  while (at(Tok::Dot) || at(Tok::LParen) || at(Tok::LBracket)) {
    chain.bump();
    DepthGuard guard(*this, "expression");
    if (accept(Tok::Dot)) {
      auto a = make(ExprKind::Attribute, e->loc);
      a->name = expect(Tok::Name, "after '.'").text;
      a->args.push_back(std::move(e));
      e = std::move(a);
    } else if (at(Tok::LParen)) {
      e = call(std::move(e));
    } else {
      e = subscript(std::move(e));
    }
  }
  return e;
}

// arguments := [argument (',' argument)* [',']]
// argument := NAME '=' expression | expression      (keywords after positionals only)
ExprPtr Parser::call(ExprPtr func) {
  auto e = make(ExprKind::Call, func->loc);
  e->args.push_back(std::move(func));
  advance();
  std::set<std::string> seen;
  while (!at(Tok::RParen)) {
    if (at(Tok::Star)) unsupported(cur().loc, "'*' argument unpacking");
    if (at(Tok::DoubleStar)) unsupported(cur().loc, "'**' argument unpacking");
    if (at(Tok::Name) && peek_at(1).kind == Tok::Assign) {
      const Token& name = advance();
      advance();
      if (!seen.insert(name.text).second)
        fail(name.loc, "keyword argument repeated: '" + name.text + "'");
      Keyword kw;
      kw.name = name.text;
      kw.loc = name.loc;
      kw.value = expression();
      e->keywords.push_back(std::move(kw));
    } else {
      Loc loc = cur().loc;
      ExprPtr arg = expression();
      if (at(Tok::KwFor)) unsupported(cur().loc, "generator expression");
      if (!e->keywords.empty()) fail(loc, "positional argument follows keyword argument");
      e->args.push_back(std::move(arg));
    }
    if (!accept(Tok::Comma)) break;
  }
  expect(Tok::RParen, "after call arguments");
  return e;
}

// subscript := '[' slice_item (',' slice_item)* [','] ']'   (several items form a Tuple)
ExprPtr Parser::subscript(ExprPtr value) {
  auto e = make(ExprKind::Subscript, value->loc);
  e->args.push_back(std::move(value));
  advance();
  ExprPtr first = slice_item();
  if (at(Tok::Comma)) {
    auto tuple = make(ExprKind::Tuple, first->loc);
    tuple->args.push_back(std::move(first));
    while (accept(Tok::Comma) && !at(Tok::RBracket)) tuple->args.push_back(slice_item());
    first = std::move(tuple);
  }
  e->args.push_back(std::move(first));
  expect(Tok::RBracket, "after subscript");
  return e;
}

// slice_item := [expression] ':' [expression] [':' [expression]] | expression
ExprPtr Parser::slice_item() {
  Loc loc = cur().loc;
  ExprPtr lower;
  if (!at(Tok::Colon)) {
    lower = expression();
    if (!at(Tok::Colon)) return lower;
  }
  advance();
  auto e = make(ExprKind::Slice, loc);
  auto ends_part = [&] {
    return at(Tok::Colon) || at(Tok::Comma) || at(Tok::RBracket);
  };
  ExprPtr upper = ends_part() ? nullptr : expression();
  ExprPtr step;
  if (accept(Tok::Colon) && !at(Tok::Comma) && !at(Tok::RBracket)) step = expression();
  e->args.push_back(std::move(lower));
  e->args.push_back(std::move(upper));
  e->args.push_back(std::move(step));
  return e;
}

// Reports a '[' or '{' display by what it holds, scanning to its matching close bracket.
void Parser::reject_display(const Token& open) {
  Tok close = open.kind == Tok::LBracket ? Tok::RBracket : Tok::RBrace;
  bool has_for = false, has_colon = false, empty = peek_at(1).kind == close;
  int level = 0;
  for (size_t i = pos_; i < toks_.size(); ++i) {
    Tok k = toks_[i].kind;
    if (k == Tok::LParen || k == Tok::LBracket || k == Tok::LBrace) ++level;
    if (k == Tok::RParen || k == Tok::RBracket || k == Tok::RBrace) --level;
    if (level == 0 || k == Tok::Newline || k == Tok::EndOfFile) break;
    if (level == 1 && k == Tok::KwFor) has_for = true;
    if (level == 1 && k == Tok::Colon) has_colon = true;
  }
  if (close == Tok::RBracket) unsupported(open.loc, has_for ? "list comprehension" : "list display");
  if (empty || has_colon) unsupported(open.loc, has_for ? "dict comprehension" : "dict display");
  unsupported(open.loc, has_for ? "set comprehension" : "set display");
}

// Tokens that can begin an expression (used to tell a trailing comma from a separator).
bool Parser::starts_expression(Tok k) {
  static constexpr Tok kStarts[] = {
      Tok::Name,  Tok::Int,      Tok::Float,    Tok::String, Tok::KwTrue,   Tok::KwFalse,
      Tok::KwNone, Tok::LParen,  Tok::LBracket, Tok::LBrace, Tok::Minus,    Tok::Plus,
      Tok::Tilde, Tok::KwNot,    Tok::KwLambda, Tok::KwAwait, Tok::KwYield, Tok::Star,
      Tok::Ellipsis,
  };
  for (Tok s : kStarts)
    if (k == s) return true;
  return false;
}

// atom := NAME | INT | FLOAT | STRING+ | 'True' | 'False' | 'None' | paren_atom
ExprPtr Parser::atom() {
  const Token& t = cur();
  if (at(Tok::Name)) {
    auto e = make(ExprKind::Name, advance().loc);
    e->name = t.text;
    return e;
  }
  if (at(Tok::Int)) {
    auto e = make(ExprKind::Int, advance().loc);
    e->int_text = t.text;
    return e;
  }
  if (at(Tok::Float)) {
    auto e = make(ExprKind::Float, advance().loc);
    e->float_value = std::strtod(t.text.c_str(), nullptr);
    return e;
  }
  if (at(Tok::String)) {
    // Adjacent string literals concatenate.
    auto e = make(ExprKind::Str, t.loc);
    while (at(Tok::String)) e->name += advance().text;
    return e;
  }
  if (at(Tok::KwTrue) || at(Tok::KwFalse)) {
    auto e = make(ExprKind::Bool, advance().loc);
    e->bool_value = t.kind == Tok::KwTrue;
    return e;
  }
  if (at(Tok::KwNone)) return make(ExprKind::None, advance().loc);
  if (at(Tok::LParen)) return paren_atom();
  if (at(Tok::LBracket)) return list_atom();
  if (at(Tok::LBrace)) reject_display(t);
  static constexpr std::pair<Tok, const char*> kRejected[] = {
      {Tok::Ellipsis, "'...'"}, {Tok::KwLambda, "'lambda'"}, {Tok::KwYield, "'yield'"},
      {Tok::KwAwait, "'await'"}, {Tok::Star, "starred expression"},
      {Tok::DoubleStar, "'**' unpacking"},
  };
  for (const auto& [kind, what] : kRejected)
    if (at(kind)) unsupported(t.loc, what);
  fail(t.loc, "expected expression, found " + describe(t));
}

// paren_atom := '(' ')' | '(' expression ')' | '(' expression ',' [expressions] ')'
ExprPtr Parser::paren_atom() {
  Loc open = advance().loc;
  if (accept(Tok::RParen)) return make(ExprKind::Tuple, open);
  if (at(Tok::KwYield)) unsupported(cur().loc, "'yield'");
  ExprPtr first = expression();
  if (at(Tok::KwFor)) unsupported(cur().loc, "generator expression");
  if (!at(Tok::Comma)) {
    expect(Tok::RParen, "after parenthesized expression");
    return first;
  }
  auto tuple = make(ExprKind::Tuple, open);
  tuple->args.push_back(std::move(first));
  while (accept(Tok::Comma) && !at(Tok::RParen)) tuple->args.push_back(expression());
  expect(Tok::RParen, "after tuple");
  return tuple;
}

// list_atom := '[' [expression (',' expression)* [',']] ']'
// (a list of constants is a shape, as in tl.zeros([BLOCK], ...); it is a Tuple node)
ExprPtr Parser::list_atom() {
  const Token& open = cur();
  bool comprehension = false;
  int level = 0;
  for (size_t i = pos_; i < toks_.size(); ++i) {
    Tok k = toks_[i].kind;
    if (k == Tok::LParen || k == Tok::LBracket || k == Tok::LBrace) ++level;
    if (k == Tok::RParen || k == Tok::RBracket || k == Tok::RBrace) --level;
    if (level == 0 || k == Tok::Newline || k == Tok::EndOfFile) break;
    if (level == 1 && k == Tok::KwFor) comprehension = true;
  }
  if (comprehension) reject_display(open);
  auto list = make(ExprKind::Tuple, advance().loc);
  while (!at(Tok::RBracket)) {
    list->args.push_back(expression());
    if (!accept(Tok::Comma)) break;
  }
  expect(Tok::RBracket, "after list elements");
  return list;
}

}  // namespace

StmtPtr parse_module_statement(const std::vector<Token>& tokens, Diagnostics& diags) {
  if (tokens.empty()) return nullptr;
  StmtPtr s;
  try {
    Parser parser(tokens, diags);
    s = parser.module_statement();
  } catch (const AbortStage&) {
    s = nullptr;
  } catch (const AbortAll&) {
    s = nullptr;
  }
  if (diags.has_errors()) return nullptr;
  return s;
}

std::unique_ptr<FunctionDef> parse_function(const std::vector<Token>& tokens, Diagnostics& diags) {
  if (tokens.empty()) return nullptr;
  std::unique_ptr<FunctionDef> fn;
  try {
    Parser parser(tokens, diags);
    fn = parser.function();
  } catch (const AbortStage&) {
    fn = nullptr;
  } catch (const AbortAll&) {
    fn = nullptr;
  }
  // Lexer errors count too: a stream with dropped characters must not compile.
  if (diags.has_errors()) return nullptr;
  return fn;
}

}  // namespace tilec
