// Input: a specialization signature as text ("x:*fp32:16,n:i32,n2:i64") and constexpr values
// ("BLOCK=1024"). Output: the Signature that sema specializes a kernel by; parsing never throws.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "tilec/types.h"

namespace tilec {

// A compile-time value: a constexpr argument, or a number folded by sema.
struct ConstValue {
  enum class Kind { Int, Float, Bool, None, Str, DType };
  Kind kind = Kind::None;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;
  DType dtype = DType::I32;

  static ConstValue of_int(int64_t v) { ConstValue c; c.kind = Kind::Int; c.i = v; return c; }
  static ConstValue of_float(double v) { ConstValue c; c.kind = Kind::Float; c.f = v; return c; }
  static ConstValue of_bool(bool v) { ConstValue c; c.kind = Kind::Bool; c.b = v; return c; }
  static ConstValue of_str(std::string v) { ConstValue c; c.kind = Kind::Str; c.s = std::move(v); return c; }
  static ConstValue of_dtype(DType t) { ConstValue c; c.kind = Kind::DType; c.dtype = t; return c; }
  std::string str() const;  // Python spelling: 1024, 0.5, True, None, 'abc', tl.float16
};

// Descriptor: a host-side TensorDescriptor (triton.tools.tensor_descriptor), passed as its base
// pointer, then its shape and its strides but the last (which is 1), all i64.
enum class ArgKind { Pointer, Scalar, Constexpr, Descriptor };

struct ArgSpec {
  std::string name;
  ArgKind kind = ArgKind::Scalar;
  DType dtype = DType::I32;  // pointee for pointers and descriptors
  int divisibility = 1;      // 16: pointer 16-byte aligned / integer (every descriptor shape entry) divisible by 16
  ConstValue value;          // for Constexpr
  std::vector<int64_t> block;  // a Descriptor's block_shape; its rank is the descriptor's
  bool nan_padding = false;    // a Descriptor's padding="nan"
};

struct Signature {
  std::vector<ArgSpec> args;
  const ArgSpec* find(const std::string& name) const;
};

// What a kernel can ask about its target at compile time (tl.target_info.is_cuda(),
// cuda_capability_geq(), tl.extra.cuda.num_warps()): the IR is specialized to it, and every cache
// key covers it (backend, arch and num_warps).
struct KernelTarget {
  bool cuda = false;  // the CPU backend otherwise
  int arch = 0;       // sm_XY as XY, on cuda
  int num_warps = 4;  // the launch's num_warps, on both backends
};

// Signature text: comma-separated `name:TYPE[:16]` with TYPE `*DTYPE` (pointer), `DTYPE` or
// `tensordesc<DTYPE[B0,B1,...]>` (Triton's spelling; `tensordesc<fp32[64,64],nan>` pads with NaN;
// its base and strides are 16-byte aligned, and `:16` promises every shape entry divisible by 16);
// constexprs: `NAME=VALUE` with VALUE an int, float, True/False/None, a dtype (fp16, tl.float16)
// or a quoted string. Errors name the offending item.
std::optional<Signature> parse_signature(const std::string& text, const std::vector<std::string>& constexprs,
                                         std::string* error);

// "x_ptr:*fp32:16,n:i32" form of a signature's runtime args, and "BLOCK=1024" of its constexprs.
std::string signature_str(const Signature& sig);

}  // namespace tilec
