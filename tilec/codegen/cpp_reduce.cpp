// Input: Reduce and Scan ops of tile IR. Output: their C++: loops over the outer x axis x inner split of the
// row-major tile; a Lazy input is computed as the reduction streams over it; narrow floats accumulate in float.
#include "tilec/codegen/cpp_gen.h"

namespace tilec::cpp_gen {

CppGen::Split CppGen::split(const Type& t, int axis) {
  Split s;
  for (int k = 0; k < static_cast<int>(t.shape.size()); ++k) {
    if (k < axis) s.outer *= t.shape[k];
    else if (k == axis) s.len = t.shape[k];
    else s.inner *= t.shape[k];
  }
  return s;
}

// A Lazy input is computed while the reduction streams over it: one pass, no array.
void CppGen::reduce(const Op* op) {
  Value* r = op->result();
  const Value* x = op->operands[0];
  Split s = split(x->type, op->axis);
  DType t = x->type.dtype;
  std::string T = ctype(t), RT = ctype(r->type.dtype);
  bool scalar = !r->type.is_tile();
  std::string n = vname(r);
  if (scalar) {
    line(RT + " " + n + ";");
    info_[r] = Info{Kind::Scalar, n, 0, "", Affine::Uniform};
  } else {
    declare_array(r);
  }
  std::string dst = scalar ? n : n + "[o * " + num(s.inner) + " + in]";
  std::string at = elem(x, "(o * " + num(s.len) + " + k) * " + num(s.inner) + " + in");
  std::string first = elem(x, "o * " + num(s.len * s.inner) + " + in");
  bool fl = is_float(t);
  std::string fmath = is_narrow_float(t) ? "float" : T;
  line("for (int o = 0; o < " + num(s.outer) + "; ++o)");
  line("  for (int in = 0; in < " + num(s.inner) + "; ++in) {");
  ++indent_;
  ++indent_;
  // Contiguous float/int rows (inner == 1) reduce with vectors (tilec_rt::row_sum, row_minmax);
  // NaN is tracked on the side so max/min propagate it like numpy.
  vconds_.clear();
  std::optional<std::string> xv;
  if (s.inner == 1 && op->reduce != ReduceKind::ArgMax && op->reduce != ReduceKind::ArgMin) xv = vexpr(x, "o * " + num(s.len) + " + k", t);
  bool vec = xv.has_value();
  std::string V = vec_w(t);
  if (vec) {
    line("constexpr int W = tilec_rt::kWidth<" + T + ">;");
    line("if constexpr (" + vcond(s.len) + ") {");
  }
  switch (op->reduce) {
    case ReduceKind::Sum:
      if (vec) {
        line("  " + dst + " = tilec_rt::row_sum<" + V + ", " + num(s.len) + ">([&](int k) { return " + *xv + "; });");
        line("} else {");
        ++indent_;
      }
      line(fmath + " acc = 0;");
      line("for (int k = 0; k < " + num(s.len) + "; ++k) acc += " + at + ";");
      line(dst + " = " + RT + "(acc);");
      break;
    case ReduceKind::Max:
    case ReduceKind::Min: {
      bool mx = op->reduce == ReduceKind::Max;
      if (vec) {
        // The identity of max/min; a NaN lane is caught by the flag, not by the accumulator.
        std::string id = fl ? std::string(mx ? "-" : "") + "std::numeric_limits<" + T + ">::infinity()"
                            : "std::numeric_limits<" + T + ">::" + (mx ? "lowest()" : "max()");
        line("  " + dst + " = tilec_rt::row_minmax<" + V + ", " + num(s.len) + ", " + (mx ? "true" : "false") + ", " + (fl ? "true" : "false") +
             ">([&](int k) { return " + *xv + "; }, " + T + "(" + id + "));");
        line("} else {");
        ++indent_;
      }
      line(fmath + " acc = " + first + ";");
      line("for (int k = 1; k < " + num(s.len) + "; ++k) { " + fmath + " xv = " + fmath + "(" + at + "); if (xv " + (mx ? ">" : "<") + " acc" +
           (fl ? " || xv != xv" : "") + ") acc = xv; }");
      line(dst + " = " + RT + "(acc);");
      break;
    }
    case ReduceKind::ArgMax:
    case ReduceKind::ArgMin: {
      bool mx = op->reduce == ReduceKind::ArgMax;
      // The first NaN wins (numpy); among equal values, the lowest index.
      line(fmath + " best = " + first + ";");
      line("int32_t bi = 0;");
      std::string cond = std::string("xv ") + (mx ? ">" : "<") + " best";
      if (fl) cond = "best == best && (xv != xv || " + cond + ")";
      line("for (int k = 1; k < " + num(s.len) + "; ++k) { " + fmath + " xv = " + fmath + "(" + at + "); if (" + cond + ") { best = xv; bi = k; } }");
      line(dst + " = bi;");
      break;
    }
  }
  if (vec) {
    --indent_;
    line("}");
  }
  --indent_;
  --indent_;
  line("  }");
}

void CppGen::scan(const Op* op) {
  Value* r = op->result();
  const Value* x = op->operands[0];
  std::string n = declare_array(r);
  Split s = split(x->type, op->axis);
  std::string T = ctype(r->type.dtype);
  std::string acc_t = is_narrow_float(r->type.dtype) ? "float" : T;
  const char *init = "0", *update = " += ";
  switch (op->scan) {
    case ScanKind::CumSum: break;
    case ScanKind::CumProd: init = "1"; update = " *= "; break;
  }
  line("for (int o = 0; o < " + num(s.outer) + "; ++o)");
  line("  for (int in = 0; in < " + num(s.inner) + "; ++in) {");
  line("    " + acc_t + " acc = " + init + ";");
  line("    for (int k = 0; k < " + num(s.len) + "; ++k) {");
  std::string idx = "(o * " + num(s.len) + " + k) * " + num(s.inner) + " + in";
  line("      acc" + std::string(update) + elem(x, idx) + ";");
  line("      " + n + "[" + idx + "] = " + T + "(acc);");
  line("    }");
  line("  }");
}

}  // namespace tilec::cpp_gen
