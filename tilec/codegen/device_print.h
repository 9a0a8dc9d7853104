// Input: a Print op (tl.device_print / print in a kernel). Output: the printf format of one line,
// shared by both printers so that the CPU and the GPU print the same text, in Triton's format:
//   pid (<x>, <y>, <z>) idx (<i0>, <i1>)<prefix>(operand <n>) <value>
// ("(operand <n>)" only with several operands, "idx (...)" only for tiles). Each element is
// printed once per program.
#pragma once
#include <string>

#include "tilec/ir.h"

namespace tilec {

// How a printer passes the element to printf.
enum class PrintValue {
  Signed,    // as long long
  Unsigned,  // as unsigned long long
  Float,     // as double
  Bits,      // hex=True: the element's bits as unsigned long long
};

struct PrintLine {
  std::string format;  // printf format, '\n' included; arguments: pid0..2 (int), one int per dim, the value
  PrintValue value = PrintValue::Signed;
};

// The line for an element of operand `k` (ignored when the op has no operands: then the format
// takes only the three program ids).
PrintLine device_print_line(const Op& op, size_t k);

}  // namespace tilec
