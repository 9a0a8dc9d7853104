// Input: file text and diagnostics reported by every stage. Output: line lookups and rendered
// "file:line:col: error:" messages with the source line and a caret.
#include "tilec/source.h"

#include <algorithm>
#include <cstdio>

namespace tilec {

SourceFile::SourceFile(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

std::string_view SourceFile::line(int line) const {
  if (line < 1 || line > line_count()) return {};
  size_t begin = line_starts_[line - 1];
  size_t end = text_.find('\n', begin);
  if (end == std::string::npos) end = text_.size();
  if (end > begin && text_[end - 1] == '\r') --end;
  return std::string_view(text_).substr(begin, end - begin);
}

std::string Loc::str() const {
  std::string path = file ? file->path() : "<unknown>";
  return path + ":" + std::to_string(line) + ":" + std::to_string(col);
}

void Diagnostics::error(const Loc& loc, std::string message) {
  ++error_count_;
  if (error_count_ > kMaxErrors) return;
  list_.push_back({Severity::Error, loc, std::move(message), {}});
  list_.back().text = render_diagnostic(list_.back());
}

void Diagnostics::note(const Loc& loc, std::string message) {
  if (error_count_ > kMaxErrors) return;
  list_.push_back({Severity::Note, loc, std::move(message), {}});
  list_.back().text = render_diagnostic(list_.back());
}

std::string render_diagnostic(const Diagnostic& d) {
  std::string out = d.loc.str();
  out += d.severity == Severity::Error ? ": error: " : ": note: ";
  out += d.message;
  out += '\n';
  if (!d.loc.file) return out;
  std::string_view text = d.loc.file->line(d.loc.line);
  if (text.empty() && d.loc.line > d.loc.file->line_count()) return out;
  // Long or binary lines are clipped so that a diagnostic stays readable.
  constexpr size_t kMaxShown = 200;
  std::string shown;
  for (char c : text.substr(0, kMaxShown)) {
    unsigned char u = static_cast<unsigned char>(c);
    shown += (u < 0x20 && c != '\t') || u == 0x7f ? '?' : c;
  }
  out += "    " + shown + '\n';
  std::string caret = "    ";
  int col = std::max(1, d.loc.col);
  for (int i = 1; i < col && static_cast<size_t>(i - 1) < shown.size(); ++i)
    caret += shown[i - 1] == '\t' ? '\t' : ' ';
  out += caret + "^\n";
  return out;
}

std::string quote_escaped(const std::string& s, char quote) {
  std::string out(1, quote);
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\\' || c == quote) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + quote;
}

std::string Diagnostics::render() const {
  std::string out;
  for (const Diagnostic& d : list_) out += d.text;
  if (error_count_ > kMaxErrors)
    out += std::to_string(error_count_ - kMaxErrors) + " more errors not shown\n";
  return out;
}

}  // namespace tilec
