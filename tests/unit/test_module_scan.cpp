// Input: whole Python modules as strings. Output: checks that only real column-0 defs are found,
// with decorator, body-end and is_jit spans, plus constexpr globals and import aliases; random
// bytes must never crash the scanners.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tilec/module_scan.h"

namespace tilec {
namespace {

std::string scan(const std::string& text) {
  SourceFile file("m.py", text);
  std::string out;
  for (const TopLevelDef& d : scan_module(file)) {
    out += d.name + " " + std::to_string(d.first_line) + " " + std::to_string(d.def_line) + " " +
           std::to_string(d.last_line) + (d.is_jit ? " jit" : "") + "\n";
  }
  return out;
}

TEST(ModuleScan, FindsConstexprGlobals) {
  std::string text =
      "import tilec.language as tl\n"   // 1
      "BLOCK = tl.constexpr(128)\n"     // 2
      "MODE: tl.constexpr = 1\n"        // 3
      "PLAIN = 4\n"                     // 4
      "SIZES = tl.constexpr(\n"         // 5
      "    BLOCK * 2)\n"                // 6
      "if True:\n"                      // 7
      "    INNER = tl.constexpr(3)\n"   // 8
      "a == tl.constexpr(1)\n";         // 9
  SourceFile file("m.py", text);
  std::string out;
  for (const TopLevelConstexpr& g : scan_constexpr_globals(file))
    out += g.name + " " + std::to_string(g.first_line) + " " + std::to_string(g.last_line) + "\n";
  EXPECT_EQ(out, "BLOCK 2 2\nMODE 3 3\nSIZES 5 6\n");
}

TEST(ModuleScan, FindsImportAliases) {
  std::string text =
      "import triton\n"
      "import triton.language as tl, numpy as np\n"
      "from triton.language.extra import libdevice as ld  # comment\n"
      "from tilec.language.math import (tanh, erf as gauss)\n"
      "from .utils import helper\n"
      "if x:\n"
      "    import inner\n";
  SourceFile file("m.py", text);
  std::string out;
  for (const TopLevelImport& i : scan_imports(file)) out += i.alias + "=" + i.target + "\n";
  EXPECT_EQ(out, "triton=triton\ntl=triton.language\nnp=numpy\nld=triton.language.extra.libdevice\n"
                 "tanh=tilec.language.math.tanh\ngauss=tilec.language.math.erf\nhelper=.utils.helper\n");
}

TEST(ModuleScan, FindsDecoratedDefs) {
  std::string text =
      "import triton\n"                       // 1
      "import triton.language as tl\n"        // 2
      "\n"                                    // 3
      "@triton.jit\n"                         // 4
      "def add(x, y):\n"                      // 5
      "    z = x + y\n"                       // 6
      "# column-0 comment inside the body\n"  // 7
      "    return z\n"                        // 8
      "\n"                                    // 9
      "    # trailing comment\n"              // 10
      "\n"                                    // 11
      "@tilec.jit(debug=True)\n"              // 12
      "@other\n"                              // 13
      "def two(\n"                            // 14
      "a,\n"                                  // 15
      "b):\n"                                 // 16
      "    pass\n"                            // 17
      "def plain(): return 1\n"               // 18
      "@ jit\n"                               // 19
      "async def co():\n"                     // 20
      "    pass\n"                            // 21
      "x = 1\n";                              // 22
  EXPECT_EQ(scan(text),
            "add 4 5 8 jit\n"
            "two 12 14 17 jit\n"
            "plain 18 18 18\n"
            "co 19 20 21 jit\n");
}

TEST(ModuleScan, IgnoresDefsInStringsClassesAndBrackets) {
  std::string text =
      "s = '''\n"                  // 1
      "def fake_a():\n"            // 2
      "'''\n"                      // 3
      "class C:\n"                 // 4
      "    def method(self):\n"    // 5
      "        pass\n"             // 6
      "t = (1,\n"                  // 7
      "def)\n"                     // 8
      "u = 1 + \\\n"               // 9
      "def\n"                      // 10
      "v = 'it''s # not a comment \\\n"  // 11
      "def fake_b(): pass'\n"      // 12
      "def real():\n"              // 13
      "    \"\"\"doc\n"            // 14
      "def inside_doc():\n"        // 15
      "    \"\"\"\n"               // 16
      "@jitter\n"                  // 17
      "def not_jit():\n"           // 18
      "    x = 1  # c\n";          // 19
  EXPECT_EQ(scan(text),
            "real 13 13 16\n"
            "not_jit 17 18 19\n");
}

TEST(ModuleScan, JitSpellings) {
  EXPECT_EQ(scan("@jit\ndef a(): pass\n"), "a 1 2 2 jit\n");
  EXPECT_EQ(scan("@triton.jit()\ndef a(): pass\n"), "a 1 2 2 jit\n");
  EXPECT_EQ(scan("@tilec . jit  # c\ndef a(): pass\n"), "a 1 2 2 jit\n");
  EXPECT_EQ(scan("@triton.autotune(configs=[])\n@triton.jit\ndef a(): pass\n"), "a 1 3 3 jit\n");
  EXPECT_EQ(scan("@triton.jitted\ndef a(): pass\n"), "a 1 2 2\n");
  EXPECT_EQ(scan("@foo.jit\ndef a(): pass\n"), "a 1 2 2\n");
  // A decorator followed by a non-def statement does not carry over.
  EXPECT_EQ(scan("@jit\nx = 1\ndef a(): pass\n"), "a 3 3 3\n");
}

TEST(ModuleScan, CrlfAndNoTrailingNewline) {
  EXPECT_EQ(scan("@jit\r\ndef a():\r\n    pass\r\n\r\nx = 1"), "a 1 2 3 jit\n");
  EXPECT_EQ(scan("def a():\n    pass"), "a 1 1 2\n");
}

TEST(ModuleScan, RandomBytesNeverCrash) {
  for (unsigned seed = 0; seed < 3000; ++seed) {
    std::mt19937 rng(seed);
    std::string text(rng() % 400, '\0');
    for (char& c : text) c = static_cast<char>(rng() % 256);
    if (seed % 3 == 0) text = "@jit\ndef k(x):\n" + text;
    if (seed % 3 == 1) text = "from " + text.substr(0, 9) + " import " + text + "\nX = tl.constexpr(" + text;
    SourceFile file("m.py", text);
    for (const TopLevelDef& d : scan_module(file)) {
      ASSERT_LE(d.first_line, d.def_line);
      ASSERT_LE(d.def_line, d.last_line);
      ASSERT_LE(d.last_line, file.line_count());
    }
    for (const TopLevelConstexpr& g : scan_constexpr_globals(file)) {
      ASSERT_LE(g.first_line, g.last_line);
      ASSERT_LE(g.last_line, file.line_count());
    }
    scan_imports(file);
  }
}

}  // namespace
}  // namespace tilec
