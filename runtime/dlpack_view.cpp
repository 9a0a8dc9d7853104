// Input: DLPack tensors from any producer (torch, cupy, jax, numpy). Output: TensorView with a
// tilec DType; validation never trusts the producer (null shape, negative sizes, lanes, bits).
#include "runtime/dlpack_view.h"

#include <optional>

namespace tilec {

namespace {

std::string dtype_desc(const DLDataType& d) {
  std::string base;
  // A raw integer from foreign data, not a closed enum: unknown codes are expected.
  switch (d.code) {
    case kDLInt: base = "int"; break;
    case kDLUInt: base = "uint"; break;
    case kDLFloat: base = "float"; break;
    case kDLOpaqueHandle: base = "opaque_handle"; break;
    case kDLBfloat: base = "bfloat"; break;
    case kDLComplex: base = "complex"; break;
    case kDLBool: base = "bool"; break;
    default: base = "code" + std::to_string(d.code) + "_"; break;
  }
  std::string s = base + std::to_string(d.bits);
  if (d.lanes != 1) s += "x" + std::to_string(d.lanes);
  return s;
}

std::optional<DType> map_dtype(const DLDataType& d, std::string* why) {
  const int bits = d.bits;
  switch (d.code) {
    case kDLInt:
      if (bits == 8) return DType::I8;
      if (bits == 16) return DType::I16;
      if (bits == 32) return DType::I32;
      if (bits == 64) return DType::I64;
      break;
    case kDLUInt:
      if (bits == 8) return DType::U8;
      if (bits == 16) return DType::U16;
      if (bits == 32) return DType::U32;
      if (bits == 64) return DType::U64;
      break;
    case kDLFloat:
      if (bits == 16) return DType::F16;
      if (bits == 32) return DType::F32;
      if (bits == 64) return DType::F64;
      break;
    case kDLBfloat:
      if (bits == 16) return DType::BF16;
      break;
    case kDLBool:
      // DLPack bools are one byte each, which is how tilec stores i1.
      if (bits == 8) return DType::I1;
      break;
    case kDLComplex:
      *why = "tilec has no complex types";
      return std::nullopt;
    case kDLOpaqueHandle:
      *why = "opaque handles carry no numeric type";
      return std::nullopt;
    case kDLFloat8_e5m2:
      if (bits == 8) return DType::F8E5;
      break;
    case kDLFloat8_e4m3fn:
      if (bits == 8) return DType::F8E4;
      break;
    case kDLFloat8_e3m4:
    case kDLFloat8_e4m3:
    case kDLFloat8_e4m3b11fnuz:
    case kDLFloat8_e4m3fnuz:
    case kDLFloat8_e5m2fnuz:
    case kDLFloat8_e8m0fnu:
      *why = "of the float8 types tilec supports only float8_e5m2 (tl.float8e5) and float8_e4m3fn (tl.float8e4nv)";
      return std::nullopt;
    case kDLFloat6_e2m3fn:
    case kDLFloat6_e3m2fn:
    case kDLFloat4_e2m1fn:
      *why = "sub-byte float types are not supported";
      return std::nullopt;
    default:
      *why = "unknown DLPack type code " + std::to_string(d.code);
      return std::nullopt;
  }
  *why = std::to_string(bits) + "-bit width is not supported for this type";
  return std::nullopt;
}

}  // namespace

bool dlpack_to_view(const DLTensor& t, TensorView* view, std::string* error) {
  auto fail = [&](const std::string& msg) {
    if (error != nullptr) *error = msg;
    return false;
  };
  if (t.dtype.lanes != 1)
    return fail("unsupported DLPack dtype " + dtype_desc(t.dtype) + ": vector types (lanes=" +
                std::to_string(t.dtype.lanes) + ") are not supported, only lanes=1");
  std::string why;
  std::optional<DType> dtype = map_dtype(t.dtype, &why);
  if (!dtype) return fail("unsupported DLPack dtype " + dtype_desc(t.dtype) + ": " + why);
  if (t.ndim < 0) return fail("invalid DLPack tensor: ndim=" + std::to_string(t.ndim));
  if (t.ndim > 0 && t.shape == nullptr) return fail("invalid DLPack tensor: ndim > 0 but shape is NULL");

  TensorView v;
  v.dtype = *dtype;
  v.device_type = static_cast<int>(t.device.device_type);
  v.device_id = t.device.device_id;
  v.shape.assign(t.shape, t.shape + t.ndim);
  for (int64_t d : v.shape)
    if (d < 0) return fail("invalid DLPack tensor: negative dimension " + std::to_string(d));
  if (t.strides != nullptr) {
    v.strides.assign(t.strides, t.strides + t.ndim);
  } else {
    v.strides.assign(t.ndim, 1);
    for (int i = t.ndim - 2; i >= 0; --i) v.strides[i] = v.strides[i + 1] * v.shape[i + 1];
  }
  // Pointer arithmetic on a null base is undefined, and empty tensors may legitimately have one.
  v.data = t.data == nullptr ? nullptr : static_cast<char*>(t.data) + t.byte_offset;
  *view = std::move(v);
  return true;
}

bool dlpack_to_view(const DLManagedTensorVersioned& t, TensorView* view, bool* read_only, std::string* error) {
  if (t.version.major != DLPACK_MAJOR_VERSION) {
    if (error != nullptr)
      *error = "unsupported DLPack version " + std::to_string(t.version.major) + "." +
               std::to_string(t.version.minor) + " (tilec reads major version " +
               std::to_string(DLPACK_MAJOR_VERSION) + ")";
    return false;
  }
  if (read_only != nullptr) *read_only = (t.flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0;
  return dlpack_to_view(t.dl_tensor, view, error);
}

}  // namespace tilec
