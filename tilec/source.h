// Input: the text of a Python file. Output: SourceFile (text + line index), Loc, and the
// Diagnostics engine that collects errors; rendering never throws and never exits.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tilec {

// Holds a whole .py file so that diagnostics can quote any line of it.
class SourceFile {
 public:
  SourceFile(std::string path, std::string text);
  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }
  // 1-based line; empty view for lines out of range.
  std::string_view line(int line) const;
  int line_count() const { return static_cast<int>(line_starts_.size()); }

 private:
  std::string path_;
  std::string text_;
  std::vector<size_t> line_starts_;
};

// 1-based line and column in `file`; a default Loc (file == nullptr) means "unknown".
struct Loc {
  const SourceFile* file = nullptr;
  int line = 0;
  int col = 0;
  std::string str() const;  // "path:line:col"
};

enum class Severity { Error, Note };

// `text` is rendered when the diagnostic is reported, because `loc.file` may be gone by the time
// it is read (a caller compiling a temporary source); only `text` is safe to use after that.
struct Diagnostic {
  Severity severity;
  Loc loc;
  std::string message;
  std::string text;
};

// Collects diagnostics; stages report here and carry on where they can.
class Diagnostics {
 public:
  void error(const Loc& loc, std::string message);
  void note(const Loc& loc, std::string message);
  bool has_errors() const { return error_count_ > 0; }
  int error_count() const { return error_count_; }
  const std::vector<Diagnostic>& all() const { return list_; }
  // "file:line:col: error: msg", the source line, and a caret under the column, for each.
  std::string render() const;
  // Stages stop producing new errors past this many, to keep cascades short.
  static constexpr int kMaxErrors = 20;

 private:
  std::vector<Diagnostic> list_;
  int error_count_ = 0;
};

std::string render_diagnostic(const Diagnostic& d);

// `s` between `quote` characters, with backslash escapes so that quotes, control and non-ASCII
// bytes stay visible and the result stays on one line (used by every stage printer).
std::string quote_escaped(const std::string& s, char quote);

// Thrown inside a stage to abandon the current construct after an error has been reported;
// it never escapes a stage's entry point.
struct AbortStage {};

}  // namespace tilec
