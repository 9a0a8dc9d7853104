// Input: any Python module text (even invalid or binary). Output: spans of its column-0 `def`s;
// strings, comments, brackets and continuations are tracked so only real logical-line starts count.
#include "tilec/module_scan.h"

#include <string_view>

namespace tilec {

namespace {

bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\r'; }

// Whether `text` (after the '@') names tilec.jit, jit or triton.jit, optionally called.
bool is_jit_decorator(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && is_space(text[i])) ++i;
  size_t start = i;
  while (i < text.size() && (is_ident_char(text[i]) || text[i] == '.' || is_space(text[i]))) ++i;
  std::string name;
  for (char c : text.substr(start, i - start))
    if (!is_space(c)) name += c;
  if (name != "jit" && name != "tilec.jit" && name != "triton.jit") return false;
  return i == text.size() || text[i] == '(' || text[i] == '#';
}

// Whether the line (from its first non-space char) starts with keyword `kw` as a whole word.
bool starts_with_word(std::string_view s, std::string_view kw) {
  return s.substr(0, kw.size()) == kw && (s.size() == kw.size() || !is_ident_char(s[kw.size()]));
}

// Per-line lexical state carried across lines: open triple-quoted string, bracket depth and
// backslash continuation decide whether the next physical line starts a logical line.
struct ScanState {
  char triple_quote = 0;
  int depth = 0;
  bool continued = false;
};

// Scans one physical line; returns whether it holds anything besides whitespace and
// comments (characters inside strings count).
bool scan_line(std::string_view line, ScanState& st) {
  bool content = false;
  st.continued = false;
  size_t i = 0;
  size_t n = line.size();
  while (i < n) {
    char c = line[i];
    if (st.triple_quote) {
      content = content || !is_space(c);
      if (c == '\\') {
        i += 2;
        continue;
      }
      if (c == st.triple_quote && i + 2 < n && line[i + 1] == c && line[i + 2] == c) {
        st.triple_quote = 0;
        i += 3;
        continue;
      }
      ++i;
      continue;
    }
    if (is_space(c)) {
      ++i;
      continue;
    }
    if (c == '#') break;
    content = true;
    if (c == '\\') {
      if (i + 1 >= n) {
        st.continued = true;
        break;
      }
      ++i;
      continue;
    }
    if (c == '\'' || c == '"') {
      if (i + 2 < n && line[i + 1] == c && line[i + 2] == c) {
        st.triple_quote = c;
        i += 3;
        continue;
      }
      // A single-quoted string ends at its quote or, unterminated, at the end of the line;
      // a trailing backslash continues it onto the next line.
      ++i;
      bool closed = false;
      while (i < n) {
        if (line[i] == '\\') {
          if (i + 1 >= n) {
            st.continued = true;
            break;
          }
          i += 2;
          continue;
        }
        if (line[i] == c) {
          closed = true;
          ++i;
          break;
        }
        ++i;
      }
      if (!closed) break;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++st.depth;
    if ((c == ')' || c == ']' || c == '}') && st.depth > 0) --st.depth;
    ++i;
  }
  return content;
}

}  // namespace

std::vector<TopLevelDef> scan_module(const SourceFile& file) {
  std::vector<TopLevelDef> defs;
  ScanState st;
  bool open = false;            // defs.back() is still collecting body lines
  int last_content = 0;         // last line with code or string text
  int first_decorator = 0;      // first '@' line of the pending decorator group
  bool pending_jit = false;
  int count = file.line_count();
  for (int ln = 1; ln <= count; ++ln) {
    std::string_view line = file.line(ln);
    bool logical_start = !st.triple_quote && st.depth == 0 && !st.continued;
    size_t indent = 0;
    while (indent < line.size() && is_space(line[indent])) ++indent;
    bool blank = indent == line.size() || line[indent] == '#';
    if (logical_start && !blank && indent == 0) {
      // A column-0 statement ends the previous def's body.
      if (open) {
        defs.back().last_line = last_content;
        open = false;
      }
      std::string_view rest = line;
      if (rest[0] == '@') {
        if (!first_decorator) first_decorator = ln;
        pending_jit = pending_jit || is_jit_decorator(rest.substr(1));
      } else {
        bool is_def = starts_with_word(rest, "def");
        if (!is_def && starts_with_word(rest, "async")) {
          size_t k = 5;
          while (k < rest.size() && is_space(rest[k])) ++k;
          if (starts_with_word(rest.substr(k), "def")) {
            rest = rest.substr(k);
            is_def = true;
          }
        }
        if (is_def) {
          size_t k = 3;
          while (k < rest.size() && is_space(rest[k])) ++k;
          size_t name_start = k;
          while (k < rest.size() && is_ident_char(rest[k])) ++k;
          TopLevelDef d;
          d.name = std::string(rest.substr(name_start, k - name_start));
          d.def_line = ln;
          d.first_line = first_decorator ? first_decorator : ln;
          d.last_line = ln;
          d.is_jit = pending_jit;
          defs.push_back(std::move(d));
          open = true;
        }
        first_decorator = 0;
        pending_jit = false;
      }
    }
    if (scan_line(line, st)) last_content = ln;
  }
  if (open) defs.back().last_line = last_content;
  return defs;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_space(s.front()) || s.front() == '(')) s.remove_prefix(1);
  while (!s.empty() && (is_space(s.back()) || s.back() == ')' || s.back() == '\\')) s.remove_suffix(1);
  return s;
}

// "a.b as c" -> (c, a.b); "a.b" -> (a.b, a.b).
std::pair<std::string, std::string> split_as(std::string_view item) {
  item = trim(item);
  size_t as = item.find(" as ");
  if (as == std::string_view::npos) return {std::string(item), std::string(item)};
  return {std::string(trim(item.substr(as + 4))), std::string(trim(item.substr(0, as)))};
}

}  // namespace

std::vector<TopLevelImport> scan_imports(const SourceFile& file) {
  std::vector<TopLevelImport> out;
  ScanState st;
  int count = file.line_count();
  for (int ln = 1; ln <= count; ++ln) {
    std::string_view line = file.line(ln);
    bool logical_start = !st.triple_quote && st.depth == 0 && !st.continued;
    scan_line(line, st);
    if (!logical_start) continue;
    size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    if (starts_with_word(line, "import")) {
      std::string_view rest = line.substr(6);
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        auto [alias, target] = split_as(rest.substr(0, comma));
        if (alias == target) alias = target.substr(0, target.find('.'));
        if (!alias.empty()) out.push_back(TopLevelImport{alias, target});
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    } else if (starts_with_word(line, "from")) {
      size_t imp = line.find(" import ");
      if (imp == std::string_view::npos) continue;
      std::string module(trim(line.substr(4, imp - 4)));
      if (module.empty()) continue;
      std::string_view rest = line.substr(imp + 8);
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        auto [alias, name] = split_as(rest.substr(0, comma));
        if (!alias.empty() && alias != "*") out.push_back(TopLevelImport{alias, module + (module.back() == '.' ? "" : ".") + name});
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    }
  }
  return out;
}

std::vector<TopLevelConstexpr> scan_constexpr_globals(const SourceFile& file) {
  std::vector<TopLevelConstexpr> out;
  ScanState st;
  int count = file.line_count();
  for (int ln = 1; ln <= count; ++ln) {
    std::string_view line = file.line(ln);
    bool logical_start = !st.triple_quote && st.depth == 0 && !st.continued;
    scan_line(line, st);
    if (!logical_start || line.empty() || !is_ident_char(line[0]) || (line[0] >= '0' && line[0] <= '9')) continue;
    size_t k = 0;
    while (k < line.size() && is_ident_char(line[k])) ++k;
    std::string name(line.substr(0, k));
    while (k < line.size() && is_space(line[k])) ++k;
    if (k >= line.size() || (line[k] != '=' && line[k] != ':') || (k + 1 < line.size() && line[k + 1] == '=')) continue;
    if (name == "def" || name == "class" || name == "if" || name == "for" || name == "while" || name == "with" ||
        name == "try" || name == "else" || name == "elif" || name == "except" || name == "finally") continue;
    int last = ln;
    bool mentions = line.find("constexpr") != std::string_view::npos;
    while ((st.depth > 0 || st.continued || st.triple_quote) && last < count) {
      ++last;
      mentions = mentions || file.line(last).find("constexpr") != std::string_view::npos;
      scan_line(file.line(last), st);
    }
    if (mentions) out.push_back(TopLevelConstexpr{name, ln, last});
    ln = last;
  }
  return out;
}

}  // namespace tilec
