// Input: none (definitions). Output: the AST built by parser.cpp: expressions, statements and
// function definitions of the kernel subset; every node carries the Loc where it starts.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tilec/source.h"

namespace tilec {

enum class ExprKind {
  Name,       // name
  Int,        // int_text (arbitrary length; sema checks the range)
  Float,      // float_value
  Bool,       // bool_value
  None,
  Str,        // name holds the string value
  Attribute,  // args[0].name
  Subscript,  // args[0][args[1]]; a tuple index is a Tuple node
  Slice,      // args = {lower, upper, step}, each may be null (only ':' is supported by sema)
  Call,       // args[0](args[1:], keywords)
  Binary,     // args[0] bin_op args[1]
  Unary,      // unary_op args[0]
  BoolOp,     // args[0] and/or args[1] ... (bool_op)
  Compare,    // args[0] cmp_ops[0] args[1] cmp_ops[1] args[2] ...
  IfExp,      // args[1] if args[0] else args[2]
  Tuple,      // (args...)
};

enum class BinOp { Add, Sub, Mul, Div, FloorDiv, Mod, Pow, LShift, RShift, BitAnd, BitOr, BitXor, MatMul };
enum class UnaryOp { Neg, Pos, Invert, Not };
enum class BoolOpKind { And, Or };
enum class CmpOp { Eq, Ne, Lt, Le, Gt, Ge, Is, IsNot, In, NotIn };

const char* binop_spelling(BinOp op);
const char* unaryop_spelling(UnaryOp op);
const char* cmpop_spelling(CmpOp op);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Keyword {
  std::string name;
  ExprPtr value;
  Loc loc;
};

struct Expr {
  ExprKind kind;
  Loc loc;
  std::string name;      // Name id, Attribute attr, Str value
  std::string int_text;  // Int digits in base 10
  double float_value = 0;
  bool bool_value = false;
  BinOp bin_op = BinOp::Add;
  UnaryOp unary_op = UnaryOp::Neg;
  BoolOpKind bool_op = BoolOpKind::And;
  std::vector<CmpOp> cmp_ops;
  std::vector<ExprPtr> args;  // children, meaning per kind above; may hold nullptr for Slice
  std::vector<Keyword> keywords;
};

enum class StmtKind {
  Assign,     // targets[0] = targets[1] = ... = value (each target a Name, Tuple or Subscript)
  AugAssign,  // target aug_op= value
  AnnAssign,  // target: annotation [= value]
  If,         // if test: body else: orelse ('elif' is an If inside orelse)
  For,        // for target in iter: body
  While,      // while test: body
  Return,     // return [value]
  Pass,
  Break,
  Continue,
  Assert,     // assert test[, msg]
  ExprStmt,   // value
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

struct Stmt {
  StmtKind kind;
  Loc loc;
  std::vector<ExprPtr> targets;  // Assign
  ExprPtr target;                // AugAssign, AnnAssign, For
  ExprPtr annotation;            // AnnAssign
  BinOp aug_op = BinOp::Add;     // AugAssign
  ExprPtr value;                 // Assign, AugAssign, AnnAssign (may be null), Return (may be null), ExprStmt
  ExprPtr test;                  // If, While, Assert
  ExprPtr iter;                  // For
  ExprPtr msg;                   // Assert (may be null)
  std::vector<StmtPtr> body;
  std::vector<StmtPtr> orelse;
};

struct Param {
  std::string name;
  ExprPtr annotation;  // may be null
  ExprPtr default_value;  // may be null
  Loc loc;
};

struct FunctionDef {
  std::string name;
  Loc loc;  // of the 'def' keyword
  std::vector<ExprPtr> decorators;
  std::vector<Param> params;
  std::vector<StmtPtr> body;  // a leading docstring is dropped by the parser
};

// Deterministic, indented dump of the tree with locations (for --emit ast and golden tests).
std::string print_ast(const FunctionDef& fn);

}  // namespace tilec
