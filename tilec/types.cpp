// Input: DType/Type values. Output: names, sizes, Triton's promotion and numpy broadcasting;
// every function is total over the closed DType enum.
#include "tilec/types.h"

#include <algorithm>

namespace tilec {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::I1: return "i1";
    case DType::I8: return "i8";
    case DType::I16: return "i16";
    case DType::I32: return "i32";
    case DType::I64: return "i64";
    case DType::U8: return "u8";
    case DType::U16: return "u16";
    case DType::U32: return "u32";
    case DType::U64: return "u64";
    case DType::F8E5: return "fp8e5";
    case DType::F8E4: return "fp8e4nv";
    case DType::F16: return "fp16";
    case DType::BF16: return "bf16";
    case DType::F32: return "fp32";
    case DType::F64: return "fp64";
  }
  return "?";
}

std::optional<DType> dtype_from_name(const std::string& s) {
  static const std::pair<const char*, DType> kNames[] = {
      {"i1", DType::I1},     {"int1", DType::I1},       {"bool", DType::I1},     {"i8", DType::I8},
      {"int8", DType::I8},   {"i16", DType::I16},       {"int16", DType::I16},   {"i32", DType::I32},
      {"int32", DType::I32}, {"i64", DType::I64},       {"int64", DType::I64},   {"u8", DType::U8},
      {"uint8", DType::U8},  {"u16", DType::U16},       {"uint16", DType::U16},  {"u32", DType::U32},
      {"uint32", DType::U32}, {"u64", DType::U64},      {"uint64", DType::U64},  {"fp16", DType::F16},
      {"f16", DType::F16},   {"float16", DType::F16},   {"bf16", DType::BF16},   {"bfloat16", DType::BF16},
      {"fp32", DType::F32},  {"f32", DType::F32},       {"float32", DType::F32}, {"fp64", DType::F64},
      {"f64", DType::F64},   {"float64", DType::F64},
      // fp8: Triton's names (tl.float8e5, fp8e4nv) and torch's (float8_e5m2, float8_e4m3fn).
      {"fp8e5", DType::F8E5}, {"float8e5", DType::F8E5}, {"float8_e5m2", DType::F8E5},
      {"fp8e4nv", DType::F8E4}, {"float8e4nv", DType::F8E4}, {"float8_e4m3fn", DType::F8E4},
  };
  for (const auto& [name, t] : kNames)
    if (s == name) return t;
  return std::nullopt;
}

int dtype_bits(DType t) {
  switch (t) {
    case DType::I1: return 1;
    case DType::I8: case DType::U8: case DType::F8E5: case DType::F8E4: return 8;
    case DType::I16: case DType::U16: case DType::F16: case DType::BF16: return 16;
    case DType::I32: case DType::U32: case DType::F32: return 32;
    case DType::I64: case DType::U64: case DType::F64: return 64;
  }
  return 0;
}

int dtype_bytes(DType t) { return t == DType::I1 ? 1 : dtype_bits(t) / 8; }

bool is_float(DType t) {
  switch (t) {
    case DType::F8E5: case DType::F8E4: case DType::F16: case DType::BF16: case DType::F32: case DType::F64: return true;
    case DType::I1: case DType::I8: case DType::I16: case DType::I32: case DType::I64:
    case DType::U8: case DType::U16: case DType::U32: case DType::U64: return false;
  }
  return false;
}

bool is_int(DType t) { return !is_float(t); }

bool is_signed(DType t) {
  switch (t) {
    case DType::I8: case DType::I16: case DType::I32: case DType::I64: return true;
    case DType::I1: case DType::U8: case DType::U16: case DType::U32: case DType::U64:
    case DType::F8E5: case DType::F8E4: case DType::F16: case DType::BF16: case DType::F32: case DType::F64: return false;
  }
  return false;
}

bool is_unsigned(DType t) { return is_int(t) && t != DType::I1 && !is_signed(t); }

bool is_fp8(DType t) { return t == DType::F8E5 || t == DType::F8E4; }

bool is_narrow_float(DType t) { return is_fp8(t) || t == DType::F16 || t == DType::BF16; }

int64_t Type::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string Type::str() const {
  std::string elem = is_ptr ? std::string("ptr<") + dtype_name(dtype) + ">" : dtype_name(dtype);
  if (shape.empty()) return elem;
  std::string out = "tile<";
  for (int64_t d : shape) out += std::to_string(d) + "x";
  return out + elem + ">";
}

namespace {

DType int_of_bits(int bits, bool is_unsigned_type) {
  switch (bits) {
    case 8: return is_unsigned_type ? DType::U8 : DType::I8;
    case 16: return is_unsigned_type ? DType::U16 : DType::I16;
    case 32: return is_unsigned_type ? DType::U32 : DType::I32;
    default: return is_unsigned_type ? DType::U64 : DType::I64;
  }
}

DType promote_strong(DType a, DType b) {
  if (a == b) return a;
  if (is_float(a) || is_float(b)) {
    if (a == DType::F64 || b == DType::F64) return DType::F64;
    if (a == DType::F32 || b == DType::F32) return DType::F32;
    // Triton's computation_type_impl: fp16 absorbs fp8, bf16 with anything else is fp32, and two
    // different fp8 types meet in fp16.
    if (a == DType::F16 || b == DType::F16) return is_float(a) && is_float(b) && (a == DType::BF16 || b == DType::BF16) ? DType::F32 : DType::F16;
    if (a == DType::BF16 || b == DType::BF16) return is_float(a) && is_float(b) ? DType::F32 : DType::BF16;
    if (is_float(a) && is_float(b)) return DType::F16;  // fp8e5 with fp8e4nv
    return is_float(a) ? a : b;
  }
  if (a == DType::I1) return b;
  if (b == DType::I1) return a;
  // Same signedness: the wider; mixed: unsigned wins when at least as wide (as in C and Triton).
  bool ua = is_unsigned(a), ub = is_unsigned(b);
  if (ua == ub) return dtype_bits(a) >= dtype_bits(b) ? a : b;
  DType u = ua ? a : b, s = ua ? b : a;
  if (dtype_bits(u) >= dtype_bits(s)) return u;
  return int_of_bits(dtype_bits(s), false);
}

}  // namespace

DType promote(DType a, bool a_weak, DType b, bool b_weak) {
  if (a_weak == b_weak) return promote_strong(a, b);
  // A weak (literal) operand adopts the strong operand's type unless it changes category.
  DType strong = a_weak ? b : a, weak = a_weak ? a : b;
  if (is_float(weak) && !is_float(strong)) return DType::F32;
  if (weak == DType::I1) return strong;
  if (strong == DType::I1) return weak == DType::I1 ? DType::I1 : (is_float(weak) ? DType::F32 : DType::I32);
  return strong;
}

std::optional<std::vector<int64_t>> broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

bool is_pow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

}  // namespace tilec
