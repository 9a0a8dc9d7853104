// Input: none (definitions). Output: the token kinds of the Python subset and the Token record
// produced by lexer.cpp; every token carries the Loc of its first character.
#pragma once
#include <string>
#include <vector>

#include "tilec/source.h"

namespace tilec {

enum class Tok {
  // Structure
  Newline, Indent, Dedent, EndOfFile,
  // Atoms
  Name, Int, Float, String,
  // Keywords (every Python keyword, so that unsupported ones can be named in errors)
  KwFalse, KwNone, KwTrue, KwAnd, KwAs, KwAssert, KwAsync, KwAwait, KwBreak, KwClass,
  KwContinue, KwDef, KwDel, KwElif, KwElse, KwExcept, KwFinally, KwFor, KwFrom, KwGlobal,
  KwIf, KwImport, KwIn, KwIs, KwLambda, KwNonlocal, KwNot, KwOr, KwPass, KwRaise, KwReturn,
  KwTry, KwWhile, KwWith, KwYield,
  // Operators and delimiters
  Plus, Minus, Star, Slash, DoubleSlash, Percent, DoubleStar, LShift, RShift, Amp, Pipe,
  Caret, Tilde, At, Less, Greater, LessEq, GreaterEq, EqEq, NotEq, LParen, RParen, LBracket,
  RBracket, LBrace, RBrace, Comma, Colon, Dot, Semicolon, Assign, Arrow, Walrus, Ellipsis,
  PlusAssign, MinusAssign, StarAssign, SlashAssign, DoubleSlashAssign, PercentAssign,
  DoubleStarAssign, LShiftAssign, RShiftAssign, AmpAssign, PipeAssign, CaretAssign, AtAssign,
};

// Spelling for diagnostics and the token dump ("'+'", "name", "end of file").
const char* tok_name(Tok kind);

struct Token {
  Tok kind;
  Loc loc;
  std::string text;  // identifier, literal spelling (digits without '_'), or string value
};

}  // namespace tilec
