// Input: lines [first_line, last_line] of a SourceFile. Output: Python tokens with real file
// Locs; the stream is always well formed (NEWLINE-terminated lines, balanced INDENT/DEDENT, EOF).
#include "tilec/lexer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace tilec {

const char* tok_name(Tok kind) {
  switch (kind) {
    case Tok::Newline: return "newline";
    case Tok::Indent: return "indent";
    case Tok::Dedent: return "dedent";
    case Tok::EndOfFile: return "end of file";
    case Tok::Name: return "name";
    case Tok::Int: return "integer literal";
    case Tok::Float: return "float literal";
    case Tok::String: return "string literal";
    case Tok::KwFalse: return "'False'";
    case Tok::KwNone: return "'None'";
    case Tok::KwTrue: return "'True'";
    case Tok::KwAnd: return "'and'";
    case Tok::KwAs: return "'as'";
    case Tok::KwAssert: return "'assert'";
    case Tok::KwAsync: return "'async'";
    case Tok::KwAwait: return "'await'";
    case Tok::KwBreak: return "'break'";
    case Tok::KwClass: return "'class'";
    case Tok::KwContinue: return "'continue'";
    case Tok::KwDef: return "'def'";
    case Tok::KwDel: return "'del'";
    case Tok::KwElif: return "'elif'";
    case Tok::KwElse: return "'else'";
    case Tok::KwExcept: return "'except'";
    case Tok::KwFinally: return "'finally'";
    case Tok::KwFor: return "'for'";
    case Tok::KwFrom: return "'from'";
    case Tok::KwGlobal: return "'global'";
    case Tok::KwIf: return "'if'";
    case Tok::KwImport: return "'import'";
    case Tok::KwIn: return "'in'";
    case Tok::KwIs: return "'is'";
    case Tok::KwLambda: return "'lambda'";
    case Tok::KwNonlocal: return "'nonlocal'";
    case Tok::KwNot: return "'not'";
    case Tok::KwOr: return "'or'";
    case Tok::KwPass: return "'pass'";
    case Tok::KwRaise: return "'raise'";
    case Tok::KwReturn: return "'return'";
    case Tok::KwTry: return "'try'";
    case Tok::KwWhile: return "'while'";
    case Tok::KwWith: return "'with'";
    case Tok::KwYield: return "'yield'";
    case Tok::Plus: return "'+'";
    case Tok::Minus: return "'-'";
    case Tok::Star: return "'*'";
    case Tok::Slash: return "'/'";
    case Tok::DoubleSlash: return "'//'";
    case Tok::Percent: return "'%'";
    case Tok::DoubleStar: return "'**'";
    case Tok::LShift: return "'<<'";
    case Tok::RShift: return "'>>'";
    case Tok::Amp: return "'&'";
    case Tok::Pipe: return "'|'";
    case Tok::Caret: return "'^'";
    case Tok::Tilde: return "'~'";
    case Tok::At: return "'@'";
    case Tok::Less: return "'<'";
    case Tok::Greater: return "'>'";
    case Tok::LessEq: return "'<='";
    case Tok::GreaterEq: return "'>='";
    case Tok::EqEq: return "'=='";
    case Tok::NotEq: return "'!='";
    case Tok::LParen: return "'('";
    case Tok::RParen: return "')'";
    case Tok::LBracket: return "'['";
    case Tok::RBracket: return "']'";
    case Tok::LBrace: return "'{'";
    case Tok::RBrace: return "'}'";
    case Tok::Comma: return "','";
    case Tok::Colon: return "':'";
    case Tok::Dot: return "'.'";
    case Tok::Semicolon: return "';'";
    case Tok::Assign: return "'='";
    case Tok::Arrow: return "'->'";
    case Tok::Walrus: return "':='";
    case Tok::Ellipsis: return "'...'";
    case Tok::PlusAssign: return "'+='";
    case Tok::MinusAssign: return "'-='";
    case Tok::StarAssign: return "'*='";
    case Tok::SlashAssign: return "'/='";
    case Tok::DoubleSlashAssign: return "'//='";
    case Tok::PercentAssign: return "'%='";
    case Tok::DoubleStarAssign: return "'**='";
    case Tok::LShiftAssign: return "'<<='";
    case Tok::RShiftAssign: return "'>>='";
    case Tok::AmpAssign: return "'&='";
    case Tok::PipeAssign: return "'|='";
    case Tok::CaretAssign: return "'^='";
    case Tok::AtAssign: return "'@='";
  }
  return "token";
}

namespace {

struct Keyword {
  const char* text;
  Tok kind;
};

constexpr Keyword kKeywords[] = {
    {"False", Tok::KwFalse},       {"None", Tok::KwNone},       {"True", Tok::KwTrue},
    {"and", Tok::KwAnd},           {"as", Tok::KwAs},           {"assert", Tok::KwAssert},
    {"async", Tok::KwAsync},       {"await", Tok::KwAwait},     {"break", Tok::KwBreak},
    {"class", Tok::KwClass},       {"continue", Tok::KwContinue}, {"def", Tok::KwDef},
    {"del", Tok::KwDel},           {"elif", Tok::KwElif},       {"else", Tok::KwElse},
    {"except", Tok::KwExcept},     {"finally", Tok::KwFinally}, {"for", Tok::KwFor},
    {"from", Tok::KwFrom},         {"global", Tok::KwGlobal},   {"if", Tok::KwIf},
    {"import", Tok::KwImport},     {"in", Tok::KwIn},           {"is", Tok::KwIs},
    {"lambda", Tok::KwLambda},     {"nonlocal", Tok::KwNonlocal}, {"not", Tok::KwNot},
    {"or", Tok::KwOr},             {"pass", Tok::KwPass},       {"raise", Tok::KwRaise},
    {"return", Tok::KwReturn},     {"try", Tok::KwTry},         {"while", Tok::KwWhile},
    {"with", Tok::KwWith},         {"yield", Tok::KwYield},
};

// Longest spellings first so that a prefix never shadows a longer operator.
struct Punct {
  const char* text;
  Tok kind;
};

constexpr Punct kPuncts[] = {
    {"**=", Tok::DoubleStarAssign}, {"//=", Tok::DoubleSlashAssign}, {"<<=", Tok::LShiftAssign},
    {">>=", Tok::RShiftAssign},     {"...", Tok::Ellipsis},          {"**", Tok::DoubleStar},
    {"//", Tok::DoubleSlash},       {"<<", Tok::LShift},             {">>", Tok::RShift},
    {"<=", Tok::LessEq},            {">=", Tok::GreaterEq},          {"==", Tok::EqEq},
    {"!=", Tok::NotEq},             {"->", Tok::Arrow},              {":=", Tok::Walrus},
    {"+=", Tok::PlusAssign},        {"-=", Tok::MinusAssign},        {"*=", Tok::StarAssign},
    {"/=", Tok::SlashAssign},       {"%=", Tok::PercentAssign},      {"&=", Tok::AmpAssign},
    {"|=", Tok::PipeAssign},        {"^=", Tok::CaretAssign},        {"@=", Tok::AtAssign},
    {"+", Tok::Plus},               {"-", Tok::Minus},               {"*", Tok::Star},
    {"/", Tok::Slash},              {"%", Tok::Percent},             {"&", Tok::Amp},
    {"|", Tok::Pipe},               {"^", Tok::Caret},               {"~", Tok::Tilde},
    {"@", Tok::At},                 {"<", Tok::Less},                {">", Tok::Greater},
    {"(", Tok::LParen},             {")", Tok::RParen},              {"[", Tok::LBracket},
    {"]", Tok::RBracket},           {"{", Tok::LBrace},              {"}", Tok::RBrace},
    {",", Tok::Comma},              {":", Tok::Colon},               {".", Tok::Dot},
    {";", Tok::Semicolon},          {"=", Tok::Assign},
};

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

// Converts digits in `base` to a decimal string with limbs of 10^9, so that literals too big
// for uint64 still reach sema as decimal text.
std::string to_decimal(std::string_view digits, int base) {
  std::vector<uint32_t> limbs;  // little-endian, base 1e9
  for (char c : digits) {
    uint64_t carry = static_cast<uint64_t>(digit_value(c));
    for (uint32_t& limb : limbs) {
      uint64_t v = static_cast<uint64_t>(limb) * static_cast<uint64_t>(base) + carry;
      limb = static_cast<uint32_t>(v % 1000000000u);
      carry = v / 1000000000u;
    }
    if (carry) limbs.push_back(static_cast<uint32_t>(carry));
  }
  if (limbs.empty()) return "0";
  std::string out = std::to_string(limbs.back());
  for (size_t i = limbs.size() - 1; i-- > 0;) {
    std::string part = std::to_string(limbs[i]);
    out += std::string(9 - part.size(), '0') + part;
  }
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | ((cp >> 18) & 0x07));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Indentation measured both with tabs to multiples of 8 and with tabs as one column, as
// CPython does: the two orders must agree or the indentation depends on the tab size.
struct Indent {
  int col8 = 0;
  int col1 = 0;
};

class Lexer {
 public:
  Lexer(const SourceFile& file, int first_line, int last_line, Diagnostics& diags)
      : file_(file), diags_(diags) {
    const std::string& text = file.text();
    int count = file.line_count();
    first_line = std::max(first_line, 1);
    last_line = std::min(last_line, count);
    if (first_line > last_line || text.empty()) {
      begin_ = end_ = 0;
      line_ = std::max(first_line, 1);
      return;
    }
    std::string_view first = file.line(first_line);
    std::string_view last = file.line(last_line);
    begin_ = static_cast<size_t>(first.data() - text.data());
    end_ = static_cast<size_t>(last.data() - text.data()) + last.size();
    // Keep a trailing '\r' of the last line inside the range; it is whitespace.
    if (end_ < text.size() && text[end_] == '\r') ++end_;
    line_ = first_line;
  }

  std::vector<Token> run();

 private:
  char peek(size_t ahead = 0) const {
    size_t p = pos_ + ahead;
    return p < end_ ? file_.text()[p] : '\0';
  }
  bool at_end() const { return pos_ >= end_; }
  Loc loc_here() const { return Loc{&file_, line_, static_cast<int>(pos_ - line_start_) + 1}; }
  void advance() {
    if (at_end()) return;
    if (file_.text()[pos_] == '\n') {
      ++line_;
      line_start_ = pos_ + 1;
    }
    ++pos_;
  }
  void error(const Loc& loc, std::string msg) { diags_.error(loc, std::move(msg)); }
  bool too_many_errors() const { return diags_.error_count() >= Diagnostics::kMaxErrors; }
  void push(Tok kind, Loc loc, std::string text) {
    tokens_.push_back(Token{kind, loc, std::move(text)});
  }

  void handle_indentation();
  void lex_name();
  void lex_number();
  void lex_string(size_t prefix_len);
  void lex_punct();
  void finish();

  const SourceFile& file_;
  Diagnostics& diags_;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
  std::vector<Indent> indents_;
  std::vector<Token> brackets_;  // open brackets, for matching and "never closed" errors
  bool line_has_tokens_ = false;
};

// At the start of a logical line: skip blank and comment-only lines, then compare the
// indentation with the stack and emit INDENT or DEDENTs.
void Lexer::handle_indentation() {
  while (!at_end()) {
    Indent ind;
    while (!at_end()) {
      char c = peek();
      if (c == ' ') {
        ++ind.col8;
        ++ind.col1;
      } else if (c == '\t') {
        ind.col8 = (ind.col8 / 8 + 1) * 8;
        ++ind.col1;
      } else if (c == '\f') {
        ind = Indent{};
      } else {
        break;
      }
      advance();
    }
    char c = peek();
    if (c == '#') {
      while (!at_end() && peek() != '\n') advance();
    }
    c = peek();
    if (c == '\r' && peek(1) == '\n') advance(), c = peek();
    if (c == '\n') {
      advance();
      continue;
    }
    if (at_end() || c == '\r') {
      if (c == '\r') advance();
      if (at_end()) return;
      continue;
    }
    if (c == '\\' && (peek(1) == '\n' || (peek(1) == '\r' && peek(2) == '\n'))) {
      // A line that is only a continuation joins with the next; its indentation counts.
      return;
    }
    Loc loc = loc_here();
    if (indents_.empty()) {
      indents_.push_back(ind);
      return;
    }
    const Indent& top = indents_.back();
    if (ind.col8 == top.col8) {
      if (ind.col1 != top.col1) error(loc, "inconsistent use of tabs and spaces in indentation");
      return;
    }
    if (ind.col8 > top.col8) {
      if (ind.col1 <= top.col1) error(loc, "inconsistent use of tabs and spaces in indentation");
      indents_.push_back(ind);
      push(Tok::Indent, loc, "");
      return;
    }
    while (indents_.size() > 1 && ind.col8 < indents_.back().col8) {
      indents_.pop_back();
      push(Tok::Dedent, loc, "");
    }
    if (ind.col8 != indents_.back().col8)
      error(loc, "unindent does not match any outer indentation level");
    else if (ind.col1 != indents_.back().col1)
      error(loc, "inconsistent use of tabs and spaces in indentation");
    return;
  }
}

void Lexer::lex_name() {
  Loc loc = loc_here();
  size_t start = pos_;
  while (!at_end() && is_ident_char(peek())) advance();
  std::string text = file_.text().substr(start, pos_ - start);
  for (const Keyword& kw : kKeywords) {
    if (text == kw.text) {
      push(kw.kind, loc, std::move(text));
      return;
    }
  }
  push(Tok::Name, loc, std::move(text));
}

void Lexer::lex_number() {
  Loc loc = loc_here();
  bool bad = false;
  // Digits of `base` with single '_' separators between digits; returns them without '_'.
  auto digits = [&](int base) {
    std::string out;
    bool last_underscore = false;
    while (!at_end()) {
      char c = peek();
      if (c == '_') {
        if (out.empty() || last_underscore) bad = true;
        last_underscore = true;
        advance();
        continue;
      }
      if (!is_ident_char(c) || digit_value(c) >= base) break;
      out += c;
      last_underscore = false;
      advance();
    }
    if (last_underscore) bad = true;
    return out;
  };

  char c0 = peek();
  char c1 = static_cast<char>(peek(1) | 0x20);
  if (c0 == '0' && (c1 == 'x' || c1 == 'o' || c1 == 'b')) {
    int base = c1 == 'x' ? 16 : c1 == 'o' ? 8 : 2;
    advance();
    advance();
    if (peek() == '_') advance();  // Python allows 0x_ff
    std::string ds = digits(base);
    if (ds.empty()) bad = true;
    if (!at_end() && (is_ident_char(peek()) || peek() == '.')) bad = true;
    while (!at_end() && is_ident_char(peek())) advance();
    if (bad) {
      error(loc, std::string("invalid ") + (base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary") +
                     " literal");
      push(Tok::Int, loc, "0");
      return;
    }
    push(Tok::Int, loc, to_decimal(ds, base));
    return;
  }

  std::string int_part = c0 == '.' ? std::string() : digits(10);
  bool is_float = false;
  std::string spelled = int_part;
  if (peek() == '.' && !(int_part.empty() && !is_digit(peek(1)))) {
    is_float = true;
    advance();
    spelled += '.';
    if (is_digit(peek())) spelled += digits(10);
  }
  char e = peek();
  if ((e == 'e' || e == 'E') &&
      (is_digit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && is_digit(peek(2))))) {
    is_float = true;
    advance();
    spelled += 'e';
    if (peek() == '+' || peek() == '-') {
      spelled += peek();
      advance();
    }
    spelled += digits(10);
  }
  if (peek() == 'j' || peek() == 'J') {
    advance();
    error(loc, "complex literals are not supported in kernels");
    push(Tok::Int, loc, "0");
    return;
  }
  if (!at_end() && is_ident_char(peek())) {
    while (!at_end() && is_ident_char(peek())) advance();
    bad = true;
  }
  if (bad) {
    error(loc, "invalid decimal literal");
    push(is_float ? Tok::Float : Tok::Int, loc, "0");
    return;
  }
  if (is_float) {
    push(Tok::Float, loc, spelled);
    return;
  }
  if (int_part.size() > 1 && int_part[0] == '0' &&
      int_part.find_first_not_of('0') != std::string::npos) {
    error(loc, "leading zeros in decimal integer literals are not permitted");
    push(Tok::Int, loc, "0");
    return;
  }
  // Strip leading zeros ("00" is 0); longer-than-uint64 text stays raw for sema's range check.
  size_t nz = int_part.find_first_not_of('0');
  std::string value = nz == std::string::npos ? "0" : int_part.substr(nz);
  push(Tok::Int, loc, value);
}

// `prefix_len` letters (r, b, u, f in any case) precede the opening quote.
void Lexer::lex_string(size_t prefix_len) {
  Loc loc = loc_here();
  bool raw = false;
  for (size_t i = 0; i < prefix_len; ++i) {
    char c = static_cast<char>(peek() | 0x20);
    if (c == 'r') raw = true;
    advance();
  }
  char quote = peek();
  bool triple = peek(1) == quote && peek(2) == quote;
  advance();
  if (triple) advance(), advance();
  std::string value;
  while (true) {
    if (at_end()) {
      error(loc, triple ? "unterminated triple-quoted string literal" : "unterminated string literal");
      break;
    }
    char c = peek();
    if (c == quote && (!triple || (peek(1) == quote && peek(2) == quote))) {
      advance();
      if (triple) advance(), advance();
      break;
    }
    if (c == '\n' && !triple) {
      error(loc, "unterminated string literal");
      break;
    }
    if (c == '\\') {
      char n = peek(1);
      if (n == '\n' || (n == '\r' && peek(2) == '\n')) {
        // Backslash-newline continues the string without adding characters (kept when raw).
        if (raw) value += '\\';
        advance();
        if (peek() == '\r') {
          if (raw) value += '\r';
          advance();
        }
        if (raw) value += '\n';
        advance();
        continue;
      }
      if (raw) {
        value += '\\';
        advance();
        if (!at_end()) {
          value += peek();
          advance();
        }
        continue;
      }
      advance();
      if (at_end()) continue;
      char esc = peek();
      advance();
      switch (esc) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case 'a': value += '\a'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'v': value += '\v'; break;
        case '\\': value += '\\'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case 'x':
        case 'u':
        case 'U': {
          int width = esc == 'x' ? 2 : esc == 'u' ? 4 : 8;
          uint32_t cp = 0;
          int n_digits = 0;
          while (n_digits < width && !at_end() && digit_value(peek()) < 16) {
            cp = cp * 16 + static_cast<uint32_t>(digit_value(peek()));
            advance();
            ++n_digits;
          }
          if (n_digits != width || cp > 0x10FFFF) {
            error(loc, "invalid escape sequence in string literal");
          } else if (esc == 'x') {
            value += static_cast<char>(cp);
          } else {
            append_utf8(value, cp);
          }
          break;
        }
        default:
          if (esc >= '0' && esc <= '7') {
            uint32_t v = static_cast<uint32_t>(esc - '0');
            for (int i = 0; i < 2 && peek() >= '0' && peek() <= '7'; ++i) {
              v = v * 8 + static_cast<uint32_t>(peek() - '0');
              advance();
            }
            value += static_cast<char>(v & 0xFF);
          } else {
            // Unknown escapes keep the backslash, as Python does.
            value += '\\';
            value += esc;
          }
          break;
      }
      continue;
    }
    value += c;
    advance();
  }
  push(Tok::String, loc, std::move(value));
}

void Lexer::lex_punct() {
  Loc loc = loc_here();
  std::string_view rest(file_.text().data() + pos_, end_ - pos_);
  for (const Punct& p : kPuncts) {
    size_t n = std::strlen(p.text);
    if (rest.substr(0, std::min(n, rest.size())) != p.text) continue;
    for (size_t i = 0; i < n; ++i) advance();
    bool opens = p.kind == Tok::LParen || p.kind == Tok::LBracket || p.kind == Tok::LBrace;
    bool closes = p.kind == Tok::RParen || p.kind == Tok::RBracket || p.kind == Tok::RBrace;
    if (opens) brackets_.push_back(Token{p.kind, loc, p.text});
    if (closes) {
      // A stray or mismatched closer is dropped so the parser sees balanced brackets.
      if (brackets_.empty()) {
        error(loc, std::string("unmatched '") + p.text + "'");
        return;
      }
      Tok open = brackets_.back().kind;
      brackets_.pop_back();
      bool ok = (open == Tok::LParen && p.kind == Tok::RParen) ||
                (open == Tok::LBracket && p.kind == Tok::RBracket) ||
                (open == Tok::LBrace && p.kind == Tok::RBrace);
      if (!ok) {
        error(loc, std::string("closing bracket '") + p.text + "' does not match opening bracket " +
                       tok_name(open));
        return;
      }
    }
    push(p.kind, loc, p.text);
    return;
  }
  unsigned char u = static_cast<unsigned char>(peek());
  if (u >= 0x80) {
    // Skip a whole UTF-8 sequence so that one non-ASCII character is one error.
    error(loc, "unsupported non-ASCII character in kernel source");
    advance();
    while (!at_end() && (static_cast<unsigned char>(peek()) & 0xC0) == 0x80) advance();
    return;
  }
  char buf[8];
  if (u >= 0x21 && u < 0x7f)
    std::snprintf(buf, sizeof buf, "'%c'", static_cast<char>(u));
  else
    std::snprintf(buf, sizeof buf, "0x%02x", u);
  error(loc, std::string("invalid character ") + buf + " in kernel source");
  advance();
}

void Lexer::finish() {
  Loc loc = loc_here();
  for (const Token& b : brackets_) {
    if (too_many_errors()) break;
    error(b.loc, std::string(tok_name(b.kind)) + " was never closed");
  }
  if (line_has_tokens_) push(Tok::Newline, loc, "");
  for (size_t i = 1; i < indents_.size(); ++i) push(Tok::Dedent, loc, "");
  push(Tok::EndOfFile, loc, "");
}

std::vector<Token> Lexer::run() {
  pos_ = begin_;
  line_start_ = begin_;
  bool at_line_start = true;
  while (!at_end() && !too_many_errors()) {
    if (at_line_start && brackets_.empty()) {
      handle_indentation();
      at_line_start = false;
      if (at_end()) break;
    }
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\f' || c == '\r') {
      advance();
      continue;
    }
    if (c == '#') {
      while (!at_end() && peek() != '\n') advance();
      continue;
    }
    if (c == '\n') {
      if (brackets_.empty() && line_has_tokens_) {
        push(Tok::Newline, loc_here(), "");
        line_has_tokens_ = false;
      }
      advance();
      at_line_start = brackets_.empty();
      continue;
    }
    if (c == '\\') {
      Loc loc = loc_here();
      advance();
      if (peek() == '\r') advance();
      if (peek() == '\n') {
        advance();
        continue;
      }
      if (at_end())
        error(loc, "unexpected end of file after line continuation character");
      else
        error(loc, "unexpected character after line continuation character");
      continue;
    }
    // Only a line that produced a token ends in NEWLINE (a dropped bad character does not).
    size_t before = tokens_.size();
    if (is_ident_start(c)) {
      // String prefixes: up to two of r/b/u/f directly before a quote.
      size_t n = 0;
      while (n < 2 && peek(n) != '\0' && std::strchr("rRbBuUfF", peek(n))) ++n;
      size_t prefix = 0;
      for (size_t k = 1; k <= n && prefix == 0; ++k)
        if (peek(k) == '\'' || peek(k) == '"') prefix = k;
      if (prefix)
        lex_string(prefix);
      else
        lex_name();
    } else if (is_digit(c) || (c == '.' && is_digit(peek(1)))) {
      lex_number();
    } else if (c == '\'' || c == '"') {
      lex_string(0);
    } else {
      lex_punct();
    }
    if (tokens_.size() > before) line_has_tokens_ = true;
  }
  finish();
  return std::move(tokens_);
}

const char* dump_kind(Tok kind) {
  switch (kind) {
    case Tok::Newline: return "NEWLINE";
    case Tok::Indent: return "INDENT";
    case Tok::Dedent: return "DEDENT";
    case Tok::EndOfFile: return "EOF";
    case Tok::Name: return "NAME";
    case Tok::Int: return "INT";
    case Tok::Float: return "FLOAT";
    case Tok::String: return "STRING";
    case Tok::KwFalse: case Tok::KwNone: case Tok::KwTrue: case Tok::KwAnd: case Tok::KwAs:
    case Tok::KwAssert: case Tok::KwAsync: case Tok::KwAwait: case Tok::KwBreak:
    case Tok::KwClass: case Tok::KwContinue: case Tok::KwDef: case Tok::KwDel:
    case Tok::KwElif: case Tok::KwElse: case Tok::KwExcept: case Tok::KwFinally:
    case Tok::KwFor: case Tok::KwFrom: case Tok::KwGlobal: case Tok::KwIf: case Tok::KwImport:
    case Tok::KwIn: case Tok::KwIs: case Tok::KwLambda: case Tok::KwNonlocal: case Tok::KwNot:
    case Tok::KwOr: case Tok::KwPass: case Tok::KwRaise: case Tok::KwReturn: case Tok::KwTry:
    case Tok::KwWhile: case Tok::KwWith: case Tok::KwYield:
      return "KEYWORD";
    case Tok::Plus: case Tok::Minus: case Tok::Star: case Tok::Slash: case Tok::DoubleSlash:
    case Tok::Percent: case Tok::DoubleStar: case Tok::LShift: case Tok::RShift: case Tok::Amp:
    case Tok::Pipe: case Tok::Caret: case Tok::Tilde: case Tok::At: case Tok::Less:
    case Tok::Greater: case Tok::LessEq: case Tok::GreaterEq: case Tok::EqEq: case Tok::NotEq:
    case Tok::LParen: case Tok::RParen: case Tok::LBracket: case Tok::RBracket: case Tok::LBrace:
    case Tok::RBrace: case Tok::Comma: case Tok::Colon: case Tok::Dot: case Tok::Semicolon:
    case Tok::Assign: case Tok::Arrow: case Tok::Walrus: case Tok::Ellipsis:
    case Tok::PlusAssign: case Tok::MinusAssign: case Tok::StarAssign: case Tok::SlashAssign:
    case Tok::DoubleSlashAssign: case Tok::PercentAssign: case Tok::DoubleStarAssign:
    case Tok::LShiftAssign: case Tok::RShiftAssign: case Tok::AmpAssign: case Tok::PipeAssign:
    case Tok::CaretAssign: case Tok::AtAssign:
      return "OP";
  }
  return "OP";
}


}  // namespace

std::vector<Token> lex(const SourceFile& file, int first_line, int last_line, Diagnostics& diags) {
  Lexer lexer(file, first_line, last_line, diags);
  return lexer.run();
}

std::string print_tokens(const std::vector<Token>& tokens) {
  std::string out;
  for (const Token& t : tokens) {
    out += std::to_string(t.loc.line) + ":" + std::to_string(t.loc.col) + " " + dump_kind(t.kind) +
           " " + quote_escaped(t.text, '\'') + "\n";
  }
  return out;
}

}  // namespace tilec
