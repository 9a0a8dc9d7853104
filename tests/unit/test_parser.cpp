// Input: kernel sources as strings. Output: checks of exact AST dumps, precedence, the exact
// diagnostic for each unsupported construct, and that hostile inputs end in a diagnostic.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tilec/lexer.h"
#include "tilec/parser.h"

namespace tilec {
namespace {

struct Parsed {
  std::string ast;     // empty when parsing failed
  std::string diags;   // rendered diagnostics
  std::string first;   // first line of the rendered diagnostics
  bool ok = false;
};

Parsed parse(const std::string& text) {
  SourceFile file("t.py", text);
  Diagnostics diags;
  std::vector<Token> toks = lex(file, 1, file.line_count(), diags);
  std::unique_ptr<FunctionDef> fn = parse_function(toks, diags);
  Parsed p;
  p.ok = fn != nullptr;
  if (fn) p.ast = print_ast(*fn);
  p.diags = diags.render();
  p.first = p.diags.substr(0, p.diags.find('\n'));
  EXPECT_EQ(p.ok, !diags.has_errors());
  return p;
}

// The dump of `expr` as the value of `x = expr` inside a one-line kernel.
std::string value_of(const std::string& expr) {
  Parsed p = parse("def f():\n    x = " + expr + "\n");
  EXPECT_TRUE(p.ok) << p.diags;
  size_t at = p.ast.find("value ");
  return at == std::string::npos ? "" : p.ast.substr(at + 6, p.ast.size() - at - 7);
}

// The first diagnostic for `stmt` as the body of a kernel.
std::string error_of(const std::string& stmt) {
  Parsed p = parse("def f(a):\n    " + stmt + "\n");
  EXPECT_FALSE(p.ok);
  return p.first;
}

TEST(Parser, AddKernelDump) {
  Parsed p = parse(
      "@triton.jit\n"
      "def add_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr = 4):\n"
      "    \"\"\"Adds.\"\"\"\n"
      "    pid = tl.program_id(axis=0)\n"
      "    offs = pid * BLOCK + tl.arange(0, BLOCK)\n"
      "    mask = offs < n\n"
      "    x = tl.load(x_ptr + offs, mask=mask, other=0.0)\n"
      "    tl.store(y_ptr + offs, x, mask=mask)\n");
  ASSERT_TRUE(p.ok) << p.diags;
  EXPECT_EQ(p.ast,
            "FunctionDef add_kernel @2:1\n"
            "  decorator (Attribute jit @1:2 (Name triton @1:2))\n"
            "  param x_ptr @2:16\n"
            "  param y_ptr @2:23\n"
            "  param n @2:30\n"
            "  param BLOCK @2:33 annotation=(Attribute constexpr @2:40 (Name tl @2:40)) default=(Int 4 @2:55)\n"
            "  Assign @4:5\n"
            "    target (Name pid @4:5)\n"
            "    value (Call @4:11 (Attribute program_id @4:11 (Name tl @4:11)) (Keyword axis @4:25 (Int 0 @4:30)))\n"
            "  Assign @5:5\n"
            "    target (Name offs @5:5)\n"
            "    value (Binary + @5:12 (Binary * @5:12 (Name pid @5:12) (Name BLOCK @5:18)) "
            "(Call @5:26 (Attribute arange @5:26 (Name tl @5:26)) (Int 0 @5:36) (Name BLOCK @5:39)))\n"
            "  Assign @6:5\n"
            "    target (Name mask @6:5)\n"
            "    value (Compare @6:12 (Name offs @6:12) < (Name n @6:19))\n"
            "  Assign @7:5\n"
            "    target (Name x @7:5)\n"
            "    value (Call @7:9 (Attribute load @7:9 (Name tl @7:9)) (Binary + @7:17 (Name x_ptr @7:17) "
            "(Name offs @7:25)) (Keyword mask @7:31 (Name mask @7:36)) (Keyword other @7:42 (Float 0.0 @7:48)))\n"
            "  Expr @8:5\n"
            "    value (Call @8:5 (Attribute store @8:5 (Name tl @8:5)) (Binary + @8:14 (Name y_ptr @8:14) "
            "(Name offs @8:22)) (Name x @8:28) (Keyword mask @8:31 (Name mask @8:36)))\n");
}

TEST(Parser, StatementsDump) {
  Parsed p = parse(
      "def k(a, b):\n"
      "    a, b = b, a\n"
      "    (c, d) = e = a\n"
      "    x[0] += 1; x[1] **= 2;\n"
      "    s: tl.int32 = 0\n"
      "    if a: pass\n"
      "    elif b:\n"
      "        continue\n"
      "    else:\n"
      "        while a:\n"
      "            break\n"
      "    for i in range(3):\n"
      "        assert i, 'm'\n"
      "    return\n");
  ASSERT_TRUE(p.ok) << p.diags;
  EXPECT_EQ(p.ast,
            "FunctionDef k @1:1\n"
            "  param a @1:7\n"
            "  param b @1:10\n"
            "  Assign @2:5\n"
            "    target (Tuple @2:5 (Name a @2:5) (Name b @2:8))\n"
            "    value (Tuple @2:12 (Name b @2:12) (Name a @2:15))\n"
            "  Assign @3:5\n"
            "    target (Tuple @3:5 (Name c @3:6) (Name d @3:9))\n"
            "    target (Name e @3:14)\n"
            "    value (Name a @3:18)\n"
            "  AugAssign += @4:5\n"
            "    target (Subscript @4:5 (Name x @4:5) (Int 0 @4:7))\n"
            "    value (Int 1 @4:13)\n"
            "  AugAssign **= @4:16\n"
            "    target (Subscript @4:16 (Name x @4:16) (Int 1 @4:18))\n"
            "    value (Int 2 @4:25)\n"
            "  AnnAssign @5:5\n"
            "    target (Name s @5:5)\n"
            "    annotation (Attribute int32 @5:8 (Name tl @5:8))\n"
            "    value (Int 0 @5:19)\n"
            "  If @6:5\n"
            "    test (Name a @6:8)\n"
            "    body\n"
            "      Pass @6:11\n"
            "    orelse\n"
            "      If @7:5\n"
            "        test (Name b @7:10)\n"
            "        body\n"
            "          Continue @8:9\n"
            "        orelse\n"
            "          While @10:9\n"
            "            test (Name a @10:15)\n"
            "            body\n"
            "              Break @11:13\n"
            "  For @12:5\n"
            "    target (Name i @12:9)\n"
            "    iter (Call @12:14 (Name range @12:14) (Int 3 @12:20))\n"
            "    body\n"
            "      Assert @13:9\n"
            "        test (Name i @13:16)\n"
            "        msg (Str \"m\" @13:19)\n"
            "  Return @14:5\n");
}

TEST(Parser, Precedence) {
  EXPECT_EQ(value_of("-x**2"), "(Unary - @2:9 (Binary ** @2:10 (Name x @2:10) (Int 2 @2:13)))");
  EXPECT_EQ(value_of("a < b < c"),
            "(Compare @2:9 (Name a @2:9) < (Name b @2:13) < (Name c @2:17))");
  EXPECT_EQ(value_of("not a and b or c"),
            "(BoolOp or @2:9 (BoolOp and @2:9 (Unary not @2:9 (Name a @2:13)) (Name b @2:19)) "
            "(Name c @2:24))");
  EXPECT_EQ(value_of("x[:, None] * y[None, :]"),
            "(Binary * @2:9 (Subscript @2:9 (Name x @2:9) (Tuple @2:11 (Slice @2:11 _ _ _) "
            "(None @2:14))) (Subscript @2:22 (Name y @2:22) (Tuple @2:24 (None @2:24) "
            "(Slice @2:30 _ _ _))))");
  EXPECT_EQ(value_of("2**-1**2"),
            "(Binary ** @2:9 (Int 2 @2:9) (Unary - @2:12 (Binary ** @2:13 (Int 1 @2:13) "
            "(Int 2 @2:16))))");
  EXPECT_EQ(value_of("a - b - c"),
            "(Binary - @2:9 (Binary - @2:9 (Name a @2:9) (Name b @2:13)) (Name c @2:17))");
  EXPECT_EQ(value_of("a | b ^ c & d << e + f * g"),
            "(Binary | @2:9 (Name a @2:9) (Binary ^ @2:13 (Name b @2:13) (Binary & @2:17 "
            "(Name c @2:17) (Binary << @2:21 (Name d @2:21) (Binary + @2:26 (Name e @2:26) "
            "(Binary * @2:30 (Name f @2:30) (Name g @2:34)))))))");
  EXPECT_EQ(value_of("a if b else c if d else e"),
            "(IfExp @2:9 (Name b @2:14) (Name a @2:9) (IfExp @2:21 (Name d @2:26) (Name c @2:21) "
            "(Name e @2:33)))");
  EXPECT_EQ(value_of("a is not b not in c"),
            "(Compare @2:9 (Name a @2:9) is not (Name b @2:18) not in (Name c @2:27))");
  EXPECT_EQ(value_of("x[0], x[1:3], x[::2]"),
            "(Tuple @2:9 (Subscript @2:9 (Name x @2:9) (Int 0 @2:11)) (Subscript @2:15 (Name x @2:15) "
            "(Slice @2:17 (Int 1 @2:17) (Int 3 @2:19) _)) (Subscript @2:23 (Name x @2:23) "
            "(Slice @2:25 _ _ (Int 2 @2:27))))");
  EXPECT_EQ(value_of("'a' \"b\""), "(Str \"ab\" @2:9)");
  EXPECT_EQ(value_of("~a // b % c @ d"),
            "(Binary @ @2:9 (Binary % @2:9 (Binary // @2:9 (Unary ~ @2:9 (Name a @2:10)) "
            "(Name b @2:15)) (Name c @2:19)) (Name d @2:23))");
  EXPECT_EQ(value_of("(1,)"), "(Tuple @2:9 (Int 1 @2:10))");
  EXPECT_EQ(value_of("()"), "(Tuple @2:9)");
  EXPECT_EQ(value_of("True, False, None, 1.5"),
            "(Tuple @2:9 (Bool True @2:9) (Bool False @2:15) (None @2:22) (Float 1.5 @2:28))");
}

TEST(Parser, UnsupportedConstructs) {
  struct Case {
    const char* stmt;
    const char* diag;
  };
  const Case cases[] = {
      {"lambda x: x", "t.py:2:5: error: 'lambda' is not supported in kernels"},
      {"y = [i for i in a]", "t.py:2:9: error: list comprehension is not supported in kernels"},
      {"y = {}", "t.py:2:9: error: dict display is not supported in kernels"},
      {"y = {1: 2}", "t.py:2:9: error: dict display is not supported in kernels"},
      {"y = {k: 1 for k in a}", "t.py:2:9: error: dict comprehension is not supported in kernels"},
      {"y = {1}", "t.py:2:9: error: set display is not supported in kernels"},
      {"y = {i for i in a}", "t.py:2:9: error: set comprehension is not supported in kernels"},
      {"y = (i for i in a)", "t.py:2:12: error: generator expression is not supported in kernels"},
      {"f(i for i in a)", "t.py:2:9: error: generator expression is not supported in kernels"},
      {"yield a", "t.py:2:5: error: 'yield' is not supported in kernels"},
      {"y = await a", "t.py:2:9: error: 'await' is not supported in kernels"},
      {"if (y := a): pass", "t.py:2:11: error: ':=' is not supported in kernels"},
      {"*y, z = a", "t.py:2:5: error: starred expression is not supported in kernels"},
      {"f(*a)", "t.py:2:7: error: '*' argument unpacking is not supported in kernels"},
      {"f(**a)", "t.py:2:7: error: '**' argument unpacking is not supported in kernels"},
      {"y = ...", "t.py:2:9: error: '...' is not supported in kernels"},
      {"with a: pass", "t.py:2:5: error: 'with' is not supported in kernels"},
      {"try: pass", "t.py:2:5: error: 'try' is not supported in kernels"},
      {"class A: pass", "t.py:2:5: error: 'class' is not supported in kernels"},
      {"import os", "t.py:2:5: error: 'import' is not supported in kernels"},
      {"from os import path", "t.py:2:5: error: 'from' is not supported in kernels"},
      {"global a", "t.py:2:5: error: 'global' is not supported in kernels"},
      {"nonlocal a", "t.py:2:5: error: 'nonlocal' is not supported in kernels"},
      {"del a", "t.py:2:5: error: 'del' is not supported in kernels"},
      {"raise a", "t.py:2:5: error: 'raise' is not supported in kernels"},
      {"async def g(): pass", "t.py:2:5: error: 'async' is not supported in kernels"},
      {"def g(): pass", "t.py:2:5: error: nested function definition is not supported in kernels"},
      {"@d", "t.py:2:5: error: decorator is not supported in kernels"},
      {"a.b = 1", "t.py:2:5: error: attribute assignment is not supported in kernels"},
      {"for i in a: pass\n    else: pass",
       "t.py:3:5: error: 'else' clause on 'for' loop is not supported in kernels"},
      {"while a: pass\n    else: pass",
       "t.py:3:5: error: 'else' clause on 'while' loop is not supported in kernels"},
      {"y = 1j", "t.py:2:9: error: complex literals are not supported in kernels"},
  };
  for (const Case& c : cases) EXPECT_EQ(error_of(c.stmt), c.diag) << c.stmt;
  EXPECT_EQ(parse("def f(*a): pass\n").first,
            "t.py:1:7: error: variadic parameter '*' is not supported in kernels");
  EXPECT_EQ(parse("def f(**a): pass\n").first,
            "t.py:1:7: error: variadic keyword parameter '**' is not supported in kernels");
  EXPECT_EQ(parse("def f(a, /): pass\n").first,
            "t.py:1:10: error: positional-only marker '/' is not supported in kernels");
}

TEST(Parser, SyntaxErrors) {
  EXPECT_EQ(error_of("if a pass"), "t.py:2:10: error: expected ':' after 'if' condition, found 'pass'");
  EXPECT_EQ(error_of("for a b: pass"), "t.py:2:11: error: expected 'in' after 'for' target, found name 'b'");
  EXPECT_EQ(error_of("f(a b)"), "t.py:2:9: error: expected ')' after call arguments, found name 'b'");
  EXPECT_EQ(error_of("y = a if b"), "t.py:2:15: error: expected 'else' in conditional expression, found newline");
  EXPECT_EQ(error_of("y = "), "t.py:2:9: error: expected expression, found newline");
  EXPECT_EQ(error_of("f() = 1"), "t.py:2:5: error: cannot assign to function call");
  EXPECT_EQ(error_of("1 = a"), "t.py:2:5: error: cannot assign to literal");
  EXPECT_EQ(error_of("f(x=1, a)"), "t.py:2:12: error: positional argument follows keyword argument");
  EXPECT_EQ(error_of("f(x=1, x=2)"), "t.py:2:12: error: keyword argument repeated: 'x'");
  EXPECT_EQ(error_of("if a:\n    pass"),
            "t.py:3:5: error: expected an indented block after 'if' statement, found 'pass'");
  EXPECT_EQ(error_of("a = 1\n        b = 2"), "t.py:3:9: error: unexpected indent");
  EXPECT_EQ(parse("def f(a=1, b): pass\n").first,
            "t.py:1:12: error: parameter without a default follows parameter with a default");
  EXPECT_EQ(parse("def f(a, a): pass\n").first, "t.py:1:10: error: duplicate parameter 'a'");
  EXPECT_EQ(parse("x = 1\n").first, "t.py:1:1: error: expected 'def', found name 'x'");
  // A character the lexer dropped does not cascade into a parser error.
  EXPECT_EQ(parse("def f():\n    )\n    x = 1\n").diags,
            "t.py:2:5: error: unmatched ')'\n        )\n        ^\n");
}

TEST(Parser, RecoversToNextStatement) {
  Parsed p = parse("def f(a):\n    y = {1}\n    if a b:\n        pass\n    z = lambda: 0\n    ok = 1\n");
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.diags,
            "t.py:2:9: error: set display is not supported in kernels\n"
            "        y = {1}\n"
            "            ^\n"
            "t.py:3:10: error: expected ':' after 'if' condition, found name 'b'\n"
            "        if a b:\n"
            "             ^\n"
            "t.py:5:9: error: 'lambda' is not supported in kernels\n"
            "        z = lambda: 0\n"
            "            ^\n");
}

TEST(Parser, DocstringDroppedAndExprKept) {
  Parsed p = parse("def f():\n    'doc'\n    'not doc'\n");
  ASSERT_TRUE(p.ok) << p.diags;
  EXPECT_EQ(p.ast, "FunctionDef f @1:1\n  Expr @3:5\n    value (Str \"not doc\" @3:5)\n");
}

TEST(Parser, MethodIndentedInClass) {
  SourceFile file("t.py", "class A:\n    @jit\n    def f(x) -> int:\n        return x\n");
  Diagnostics diags;
  std::unique_ptr<FunctionDef> fn = parse_function(lex(file, 2, 4, diags), diags);
  ASSERT_TRUE(fn) << diags.render();
  EXPECT_EQ(print_ast(*fn),
            "FunctionDef f @3:5\n  decorator (Name jit @2:6)\n  param x @3:11\n"
            "  Return @4:9\n    value (Name x @4:16)\n");
}

const char* kMatmul = R"(@triton.jit
def matmul_kernel(
        a_ptr, b_ptr, c_ptr,
        M, N, K,
        stride_am, stride_ak,  #
        stride_bk, stride_bn,  #
        stride_cm, stride_cn,
        BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr, BLOCK_SIZE_K: tl.constexpr,  #
        GROUP_SIZE_M: tl.constexpr,  #
        ACTIVATION: tl.constexpr  #
):
    """Kernel for computing the matmul C = A x B.
    A has shape (M, K), B has shape (K, N) and C has shape (M, N)
    """
    pid = tl.program_id(axis=0)
    num_pid_m = tl.cdiv(M, BLOCK_SIZE_M)
    num_pid_n = tl.cdiv(N, BLOCK_SIZE_N)
    num_pid_in_group = GROUP_SIZE_M * num_pid_n
    group_id = pid // num_pid_in_group
    first_pid_m = group_id * GROUP_SIZE_M
    group_size_m = min(num_pid_m - first_pid_m, GROUP_SIZE_M)
    pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
    pid_n = (pid % num_pid_in_group) // group_size_m

    offs_am = (pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)) % M
    offs_bn = (pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)) % N
    offs_k = tl.arange(0, BLOCK_SIZE_K)
    a_ptrs = a_ptr + (offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak)
    b_ptrs = b_ptr + (offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn)

    accumulator = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_SIZE_K)):
        a = tl.load(a_ptrs, mask=offs_k[None, :] < K - k * BLOCK_SIZE_K, other=0.0)
        b = tl.load(b_ptrs, mask=offs_k[:, None] < K - k * BLOCK_SIZE_K, other=0.0)
        accumulator = tl.dot(a, b, accumulator)
        a_ptrs += BLOCK_SIZE_K * stride_ak
        b_ptrs += BLOCK_SIZE_K * stride_bk
    if ACTIVATION == "leaky_relu":
        accumulator = leaky_relu(accumulator)
    c = accumulator.to(tl.float16)

    offs_cm = pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)
    offs_cn = pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)
    c_ptrs = c_ptr + stride_cm * offs_cm[:, None] + stride_cn * offs_cn[None, :]
    c_mask = (offs_cm[:, None] < M) & (offs_cn[None, :] < N)
    tl.store(c_ptrs, c, mask=c_mask)
)";

const char* kSoftmax = R"(@triton.jit
def softmax_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_rows, n_cols, BLOCK_SIZE: tl.constexpr,
                   num_stages: tl.constexpr):
    # starting row of the program
    row_start = tl.program_id(0)
    row_step = tl.num_programs(0)
    for row_idx in tl.range(row_start, n_rows, row_step, num_stages=num_stages):
        # The stride represents how much we need to increase the pointer to advance 1 row
        row_start_ptr = input_ptr + row_idx * input_row_stride
        col_offsets = tl.arange(0, BLOCK_SIZE)
        input_ptrs = row_start_ptr + col_offsets
        mask = col_offsets < n_cols
        row = tl.load(input_ptrs, mask=mask, other=-float('inf'))
        row_minus_max = row - tl.max(row, axis=0)
        numerator = tl.exp(row_minus_max)
        denominator = tl.sum(numerator, axis=0)
        softmax_output = numerator / denominator
        output_row_start_ptr = output_ptr + row_idx * output_row_stride
        output_ptrs = output_row_start_ptr + col_offsets
        tl.store(output_ptrs, softmax_output, mask=mask)
)";

TEST(Parser, TutorialKernels) {
  Parsed m = parse(kMatmul);
  EXPECT_TRUE(m.ok) << m.diags;
  EXPECT_EQ(m.ast.substr(0, 29), "FunctionDef matmul_kernel @2:");
  Parsed s = parse(kSoftmax);
  EXPECT_TRUE(s.ok) << s.diags;
  EXPECT_NE(s.ast.find("(Unary - @13:52 (Call @13:53 (Name float @13:53) (Str \"inf\" @13:59)))"),
            std::string::npos)
      << s.ast;
}

TEST(Parser, RandomBytesEndInDiagnostics) {
  for (unsigned seed = 0; seed < 3000; ++seed) {
    std::mt19937 rng(seed);
    std::string text = seed % 2 ? "def f(x):\n    " : "";
    size_t n = rng() % 300;
    for (size_t i = 0; i < n; ++i) text += static_cast<char>(rng() % 256);
    SourceFile file("t.py", text);
    Diagnostics diags;
    std::unique_ptr<FunctionDef> fn = parse_function(lex(file, 1, file.line_count(), diags), diags);
    if (!fn) {
      ASSERT_TRUE(diags.has_errors()) << "seed " << seed;
    }
  }
}

TEST(Parser, RandomTokenSoupEndsInDiagnostics) {
  // Valid tokens in random order reach deeper into the parser than random bytes do.
  const char* words[] = {"(", ")", "[", "]", "x", "1", ",", ":", "=", "+", "**", "-", "not",
                         "if", "else", "for", "in", "\n    ", "\n", "lambda", ".", "{", "}",
                         "'s'", "and", "is", "*", "@", ";", "return", "while"};
  for (unsigned seed = 0; seed < 3000; ++seed) {
    std::mt19937 rng(seed);
    std::string text = "def f(x):\n    ";
    for (size_t i = rng() % 60; i > 0; --i) text += std::string(words[rng() % std::size(words)]) + " ";
    Parsed p = parse(text);
    if (!p.ok) {
      ASSERT_FALSE(p.diags.empty()) << text;
    }
  }
}

TEST(Parser, HostileInputs) {
  EXPECT_EQ(parse("def f():\n    x = " + std::string(10000, '(') + "1" + std::string(10000, ')') + "\n")
                .first,
            "t.py:2:" + std::to_string(9 + 200) + ": error: expression nested too deeply (limit 200)");
  Parsed unbalanced = parse("def f():\n    x = " + std::string(10000, '(') + "\n");
  EXPECT_FALSE(unbalanced.ok);
  Parsed digits = parse("def f():\n    x = " + std::string(10000, '9') + "\n");
  EXPECT_TRUE(digits.ok) << digits.diags;  // sema checks the range
  EXPECT_EQ(parse("def f():\n    x = '''abc\n    y = 1\n").first,
            "t.py:2:9: error: unterminated triple-quoted string literal");
  EXPECT_EQ(parse("def f():\n        x = 1\n    y = 2\n").first,
            "t.py:3:5: error: unindent does not match any outer indentation level");
  std::string long_sum = "def f():\n    x = 1";
  for (int i = 0; i < 10000; ++i) long_sum += " + 1";
  EXPECT_NE(parse(long_sum + "\n").first.find("nested too deeply (limit 200)"), std::string::npos);
  EXPECT_NE(parse("def f():\n    x = " + std::string(10000, '-') + "1\n").first.find("nested too deeply"),
            std::string::npos);
  std::string calls = "def f():\n    x = a";
  for (int i = 0; i < 10000; ++i) calls += "()";
  EXPECT_NE(parse(calls + "\n").first.find("nested too deeply"), std::string::npos);
  std::string nested_ifs = "def f():\n";
  for (int i = 0; i < 300; ++i) nested_ifs += std::string(4 * (i + 1), ' ') + "if x:\n";
  nested_ifs += std::string(4 * 301, ' ') + "pass\n";
  EXPECT_NE(parse(nested_ifs).first.find("statement nested too deeply (limit 200)"), std::string::npos);
  std::string many_errors = "def f():\n";
  for (int i = 0; i < 100; ++i) many_errors += "    x = {1}\n";
  Parsed many = parse(many_errors);
  EXPECT_FALSE(many.ok);
}

}  // namespace
}  // namespace tilec
