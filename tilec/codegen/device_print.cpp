// Input: a Print op. Output: its printf format (see device_print.h); '%' in the prefix is escaped.
#include "tilec/codegen/device_print.h"

#include <algorithm>
#include <cmath>

namespace tilec {

PrintLine device_print_line(const Op& op, size_t k) {
  PrintLine line;
  std::string prefix;
  for (char c : op.str) prefix += c == '%' ? std::string("%%") : std::string(1, c);
  line.format = "pid (%d, %d, %d)";
  if (op.operands.empty()) {
    line.format += prefix + "\n";
    return line;
  }
  const Type& t = op.operands.at(k)->type;
  line.format += " idx (";
  for (size_t d = 0; d < t.shape.size(); ++d) {
    int width = t.shape[d] > 1 ? static_cast<int>(std::ceil(std::log10(static_cast<double>(t.shape[d])))) : 1;
    line.format += (d ? ", %" : "%") + std::to_string(width) + "d";
  }
  line.format += ")" + prefix;
  if (op.operands.size() > 1) line.format += "(operand " + std::to_string(k) + ") ";
  int bits = t.is_ptr ? 64 : dtype_bits(t.dtype);
  if (op.ival || t.is_ptr) {
    line.value = PrintValue::Bits;
    line.format += "0x%0" + std::to_string(std::max(bits, 8) / 4) + "llx";
  } else if (is_float(t.dtype)) {
    line.value = PrintValue::Float;
    line.format += "%f";
  } else if (is_unsigned(t.dtype) || t.dtype == DType::I1) {
    line.value = PrintValue::Unsigned;
    line.format += "%llu";
  } else {
    line.value = PrintValue::Signed;
    line.format += "%lld";
  }
  line.format += "\n";
  return line;
}

}  // namespace tilec
