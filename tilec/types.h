// Input: none (definitions). Output: DType and Type (scalar, pointer, tile of either) with
// Triton's promotion rules; a Type is a value type, compared structurally.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tilec {

// F8E5 and F8E4 are Triton's fp8e5 (e5m2) and fp8e4nv (e4m3fn: no infinities, 0x7f/0xff are NaN).
enum class DType { I1, I8, I16, I32, I64, U8, U16, U32, U64, F8E5, F8E4, F16, BF16, F32, F64 };

const char* dtype_name(DType t);                      // "i32", "fp16", ...
std::optional<DType> dtype_from_name(const std::string& s);  // accepts "fp32"/"f32"/"float32", "i32"/"int32", "bf16", ...
int dtype_bits(DType t);
int dtype_bytes(DType t);  // i1 is stored as one byte
bool is_float(DType t);
bool is_int(DType t);      // includes i1
bool is_signed(DType t);   // signed ints (not i1)
bool is_unsigned(DType t); // u8..u64
bool is_fp8(DType t);
// fp8, fp16 and bf16: stored narrow, computed in fp32 by both backends and rounded on the way back.
bool is_narrow_float(DType t);

// Element of a value: a number of `dtype`, or a pointer to `dtype` when is_ptr.
// Shape empty: a scalar (0-d); otherwise a tile with static, power-of-two dims.
struct Type {
  DType dtype = DType::I32;
  bool is_ptr = false;
  std::vector<int64_t> shape;

  static Type scalar(DType t) { return Type{t, false, {}}; }
  static Type pointer(DType t) { return Type{t, true, {}}; }
  static Type tile(DType t, std::vector<int64_t> s, bool ptr = false) { return Type{t, ptr, std::move(s)}; }

  bool is_tile() const { return !shape.empty(); }
  int64_t numel() const;
  Type element() const { return Type{dtype, is_ptr, {}}; }
  Type with_shape(std::vector<int64_t> s) const { return Type{dtype, is_ptr, std::move(s)}; }
  Type with_dtype(DType t) const { return Type{t, is_ptr, shape}; }
  bool operator==(const Type& o) const { return dtype == o.dtype && is_ptr == o.is_ptr && shape == o.shape; }
  bool operator!=(const Type& o) const { return !(*this == o); }
  // "i32", "ptr<fp32>", "tile<128x64xfp16>", "tile<1024xptr<fp32>>"
  std::string str() const;
};

// Triton's arithmetic promotion of two element types; `a_weak`/`b_weak` mark Python literals
// and constexprs, which take the other operand's type category.
DType promote(DType a, bool a_weak, DType b, bool b_weak);

// Numpy-style broadcast of two shapes; nullopt when incompatible.
std::optional<std::vector<int64_t>> broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
std::string shape_str(const std::vector<int64_t>& s);  // "[128, 64]"
bool is_pow2(int64_t v);

}  // namespace tilec
