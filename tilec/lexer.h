// Input: lines [first_line, last_line] of a SourceFile. Output: tokens with file-relative Locs,
// INDENT/DEDENT relative to the first line's indentation, ending in NEWLINE, DEDENTs and EOF.
#pragma once
#include <vector>

#include "tilec/source.h"
#include "tilec/token.h"

namespace tilec {

// Errors (bad characters, unterminated strings, inconsistent dedent, ...) go to `diags`;
// the returned stream is always well formed (it ends in EndOfFile).
std::vector<Token> lex(const SourceFile& file, int first_line, int last_line, Diagnostics& diags);

// "line:col KIND 'text'" per token, for --emit tokens and the lexer tests.
std::string print_tokens(const std::vector<Token>& tokens);

}  // namespace tilec
