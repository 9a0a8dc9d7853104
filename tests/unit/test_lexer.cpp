// Input: small Python snippets. Output: checks of the exact token dumps and lexer diagnostics;
// any input (random bytes, huge literals, deep nesting) must end in EOF without crashing.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tilec/lexer.h"

namespace tilec {
namespace {

std::string dump(const std::string& text, std::string* diags_out = nullptr) {
  SourceFile file("t.py", text);
  Diagnostics diags;
  std::vector<Token> toks = lex(file, 1, file.line_count(), diags);
  if (diags_out) *diags_out = diags.render();
  return print_tokens(toks);
}

std::string errors(const std::string& text) {
  std::string d;
  dump(text, &d);
  return d;
}

TEST(Lexer, IndentDedentAndComments) {
  std::string text =
      "def f(x):\n"
      "    # comment\n"
      "\n"
      "    if x:\n"
      "        y = 1  # trailing\n"
      "    return y\n";
  EXPECT_EQ(dump(text),
            "1:1 KEYWORD 'def'\n"
            "1:5 NAME 'f'\n"
            "1:6 OP '('\n"
            "1:7 NAME 'x'\n"
            "1:8 OP ')'\n"
            "1:9 OP ':'\n"
            "1:10 NEWLINE ''\n"
            "4:5 INDENT ''\n"
            "4:5 KEYWORD 'if'\n"
            "4:8 NAME 'x'\n"
            "4:9 OP ':'\n"
            "4:10 NEWLINE ''\n"
            "5:9 INDENT ''\n"
            "5:9 NAME 'y'\n"
            "5:11 OP '='\n"
            "5:13 INT '1'\n"
            "5:26 NEWLINE ''\n"
            "6:5 DEDENT ''\n"
            "6:5 KEYWORD 'return'\n"
            "6:12 NAME 'y'\n"
            "6:13 NEWLINE ''\n"
            "7:1 DEDENT ''\n"
            "7:1 EOF ''\n");
}

TEST(Lexer, ImplicitAndExplicitContinuation) {
  std::string text =
      "x = f(a,\n"
      "      b) + \\\n"
      "    c\n";
  EXPECT_EQ(dump(text),
            "1:1 NAME 'x'\n"
            "1:3 OP '='\n"
            "1:5 NAME 'f'\n"
            "1:6 OP '('\n"
            "1:7 NAME 'a'\n"
            "1:8 OP ','\n"
            "2:7 NAME 'b'\n"
            "2:8 OP ')'\n"
            "2:10 OP '+'\n"
            "3:5 NAME 'c'\n"
            "3:6 NEWLINE ''\n"
            "4:1 EOF ''\n");
}

TEST(Lexer, LinesSubsetAndClassIndentedBase) {
  std::string text =
      "x = 1\n"
      "class A:\n"
      "    def f(self):\n"
      "        return 1\n"
      "y = 2\n";
  SourceFile file("t.py", text);
  Diagnostics diags;
  std::string out = print_tokens(lex(file, 3, 4, diags));
  EXPECT_FALSE(diags.has_errors());
  EXPECT_EQ(out,
            "3:5 KEYWORD 'def'\n"
            "3:9 NAME 'f'\n"
            "3:10 OP '('\n"
            "3:11 NAME 'self'\n"
            "3:15 OP ')'\n"
            "3:16 OP ':'\n"
            "3:17 NEWLINE ''\n"
            "4:9 INDENT ''\n"
            "4:9 KEYWORD 'return'\n"
            "4:16 INT '1'\n"
            "4:17 NEWLINE ''\n"
            "4:17 DEDENT ''\n"
            "4:17 EOF ''\n");
}

TEST(Lexer, Numbers) {
  EXPECT_EQ(dump("1_000 0x_FF 0o17 0b1010 00 1e-5 1. .5 1_000.0 2E+3 18446744073709551615"),
            "1:1 INT '1000'\n"
            "1:7 INT '255'\n"
            "1:13 INT '15'\n"
            "1:18 INT '10'\n"
            "1:25 INT '0'\n"
            "1:28 FLOAT '1e-5'\n"
            "1:33 FLOAT '1.'\n"
            "1:36 FLOAT '.5'\n"
            "1:39 FLOAT '1000.0'\n"
            "1:47 FLOAT '2e+3'\n"
            "1:52 INT '18446744073709551615'\n"
            "1:72 NEWLINE ''\n"
            "1:72 EOF ''\n");
  // Past uint64 the value is still given in decimal, for sema's range check.
  EXPECT_EQ(dump("0x10000000000000000 123456789012345678901234567890"),
            "1:1 INT '18446744073709551616'\n"
            "1:21 INT '123456789012345678901234567890'\n"
            "1:51 NEWLINE ''\n"
            "1:51 EOF ''\n");
}

TEST(Lexer, Strings) {
  EXPECT_EQ(dump("'a\\n' \"b\" r'\\d' b'x' f'{y}' '''t\nq''' \"\"\"d\"\"\""),
            "1:1 STRING 'a\\n'\n"
            "1:7 STRING 'b'\n"
            "1:11 STRING '\\\\d'\n"
            "1:17 STRING 'x'\n"
            "1:22 STRING '{y}'\n"
            "1:29 STRING 't\\nq'\n"
            "2:6 STRING 'd'\n"
            "2:13 NEWLINE ''\n"
            "2:13 EOF ''\n");
}

TEST(Lexer, Operators) {
  EXPECT_EQ(dump("+ - * / // % ** << >> & | ^ ~ @ < > <= >= == != -> := ... . ; = "
                 "+= -= *= /= //= %= **= <<= >>= &= |= ^= @= ( [ { } ] ) , :"),
            "1:1 OP '+'\n1:3 OP '-'\n1:5 OP '*'\n1:7 OP '/'\n1:9 OP '//'\n1:12 OP '%'\n"
            "1:14 OP '**'\n1:17 OP '<<'\n1:20 OP '>>'\n1:23 OP '&'\n1:25 OP '|'\n1:27 OP '^'\n"
            "1:29 OP '~'\n1:31 OP '@'\n1:33 OP '<'\n1:35 OP '>'\n1:37 OP '<='\n1:40 OP '>='\n"
            "1:43 OP '=='\n1:46 OP '!='\n1:49 OP '->'\n1:52 OP ':='\n1:55 OP '...'\n"
            "1:59 OP '.'\n1:61 OP ';'\n1:63 OP '='\n1:65 OP '+='\n1:68 OP '-='\n1:71 OP '*='\n"
            "1:74 OP '/='\n1:77 OP '//='\n1:81 OP '%='\n1:84 OP '**='\n1:88 OP '<<='\n"
            "1:92 OP '>>='\n1:96 OP '&='\n1:99 OP '|='\n1:102 OP '^='\n1:105 OP '@='\n"
            "1:108 OP '('\n1:110 OP '['\n1:112 OP '{'\n1:114 OP '}'\n1:116 OP ']'\n"
            "1:118 OP ')'\n1:120 OP ','\n1:122 OP ':'\n1:123 NEWLINE ''\n1:123 EOF ''\n");
}

TEST(Lexer, Keywords) {
  EXPECT_EQ(dump("if not x is None and lambda_"),
            "1:1 KEYWORD 'if'\n1:4 KEYWORD 'not'\n1:8 NAME 'x'\n1:10 KEYWORD 'is'\n"
            "1:13 KEYWORD 'None'\n1:18 KEYWORD 'and'\n1:22 NAME 'lambda_'\n"
            "1:29 NEWLINE ''\n1:29 EOF ''\n");
}

TEST(Lexer, Errors) {
  EXPECT_EQ(errors("x = $\n"), "t.py:1:5: error: invalid character '$' in kernel source\n    x = $\n        ^\n");
  EXPECT_EQ(errors("x = 'abc\n"), "t.py:1:5: error: unterminated string literal\n    x = 'abc\n        ^\n");
  EXPECT_EQ(errors("x = '''abc\n\n"),
            "t.py:1:5: error: unterminated triple-quoted string literal\n    x = '''abc\n        ^\n");
  EXPECT_EQ(errors("if x:\n        a\n    b\n"),
            "t.py:3:5: error: unindent does not match any outer indentation level\n    "
            "    b\n        ^\n");
  EXPECT_EQ(errors("if x:\n\ta\n        b\n"),
            "t.py:3:9: error: inconsistent use of tabs and spaces in indentation\n            b\n"
            "            ^\n");
  EXPECT_EQ(errors("x = 1)\n"), "t.py:1:6: error: unmatched ')'\n    x = 1)\n         ^\n");
  EXPECT_EQ(errors("x = (1]\n"),
            "t.py:1:7: error: closing bracket ']' does not match opening bracket '('\n"
            "    x = (1]\n          ^\n");
  EXPECT_EQ(errors("f(1\n"), "t.py:1:2: error: '(' was never closed\n    f(1\n     ^\n");
  EXPECT_EQ(errors("0777"),
            "t.py:1:1: error: leading zeros in decimal integer literals are not permitted\n"
            "    0777\n    ^\n");
  EXPECT_EQ(errors("x = 1 \\ y"),
            "t.py:1:7: error: unexpected character after line continuation character\n"
            "    x = 1 \\ y\n          ^\n");
}

bool ends_in_eof(const std::string& text) {
  SourceFile file("t.py", text);
  Diagnostics diags;
  std::vector<Token> toks = lex(file, 1, file.line_count(), diags);
  return !toks.empty() && toks.back().kind == Tok::EndOfFile;
}

TEST(Lexer, RandomBytesTerminate) {
  for (unsigned seed = 0; seed < 3000; ++seed) {
    std::mt19937 rng(seed);
    std::string text(rng() % 300, '\0');
    for (char& c : text) c = static_cast<char>(rng() % 256);
    ASSERT_TRUE(ends_in_eof(text)) << "seed " << seed;
  }
}

TEST(Lexer, HugeInputs) {
  std::string digits(10000, '7');
  std::string d;
  EXPECT_NE(dump("x = " + digits, &d).find("INT '" + digits + "'"), std::string::npos);
  EXPECT_EQ(d, "");
  EXPECT_TRUE(ends_in_eof("x = 0x" + std::string(10000, 'f')));
  EXPECT_TRUE(ends_in_eof(std::string(10000, '(')));
  EXPECT_NE(errors(std::string(10000, '(')).find("was never closed"), std::string::npos);
}

}  // namespace
}  // namespace tilec
