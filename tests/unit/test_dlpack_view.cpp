// Input: hand-built DLPack tensors. Output: checks dlpack_to_view's dtype mapping, stride
// filling, byte offsets, version checks and the errors for unsupported dtypes.
#include <gtest/gtest.h>

#include "runtime/dlpack_view.h"

namespace tilec {
namespace {

DLTensor make_tensor(void* data, int64_t* shape, int32_t ndim, DLDataType dt) {
  DLTensor t{};
  t.data = data;
  t.device = DLDevice{kDLCUDA, 1};
  t.ndim = ndim;
  t.dtype = dt;
  t.shape = shape;
  t.strides = nullptr;
  t.byte_offset = 0;
  return t;
}

TEST(DlpackView, MapsEverySupportedDtype) {
  struct Case {
    uint8_t code, bits;
    DType want;
  };
  const Case cases[] = {
      {kDLInt, 8, DType::I8},     {kDLInt, 16, DType::I16},    {kDLInt, 32, DType::I32},
      {kDLInt, 64, DType::I64},   {kDLUInt, 8, DType::U8},     {kDLUInt, 16, DType::U16},
      {kDLUInt, 32, DType::U32},  {kDLUInt, 64, DType::U64},   {kDLFloat, 16, DType::F16},
      {kDLFloat, 32, DType::F32}, {kDLFloat, 64, DType::F64},  {kDLBfloat, 16, DType::BF16},
      {kDLBool, 8, DType::I1},    {kDLFloat8_e5m2, 8, DType::F8E5}, {kDLFloat8_e4m3fn, 8, DType::F8E4},
  };
  int64_t shape[] = {4};
  char buf[64];
  for (const Case& c : cases) {
    DLTensor t = make_tensor(buf, shape, 1, DLDataType{c.code, c.bits, 1});
    TensorView v;
    std::string error;
    ASSERT_TRUE(dlpack_to_view(t, &v, &error)) << int(c.code) << "/" << int(c.bits) << ": " << error;
    EXPECT_EQ(v.dtype, c.want) << int(c.code) << "/" << int(c.bits);
  }
}

TEST(DlpackView, FillsRowMajorStridesAndOffsetsData) {
  float storage[64];
  int64_t shape[] = {2, 3, 4};
  DLTensor t = make_tensor(storage, shape, 3, DLDataType{kDLFloat, 32, 1});
  t.byte_offset = 8;
  TensorView v;
  std::string error;
  ASSERT_TRUE(dlpack_to_view(t, &v, &error)) << error;
  EXPECT_EQ(v.data, reinterpret_cast<char*>(storage) + 8);
  EXPECT_EQ(v.device_type, kDLCUDA);
  EXPECT_EQ(v.device_id, 1);
  EXPECT_EQ(v.shape, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(v.strides, (std::vector<int64_t>{12, 4, 1}));
}

TEST(DlpackView, KeepsExplicitStridesAndScalars) {
  int64_t shape[] = {3, 5};
  int64_t strides[] = {1, 3};  // column-major
  double storage[15];
  DLTensor t = make_tensor(storage, shape, 2, DLDataType{kDLFloat, 64, 1});
  t.strides = strides;
  TensorView v;
  std::string error;
  ASSERT_TRUE(dlpack_to_view(t, &v, &error)) << error;
  EXPECT_EQ(v.strides, (std::vector<int64_t>{1, 3}));

  DLTensor scalar = make_tensor(storage, nullptr, 0, DLDataType{kDLInt, 32, 1});
  ASSERT_TRUE(dlpack_to_view(scalar, &v, &error)) << error;
  EXPECT_TRUE(v.shape.empty());
  EXPECT_TRUE(v.strides.empty());

  // An empty tensor may have a null data pointer; the offset must not be applied to it.
  int64_t empty_shape[] = {0};
  DLTensor empty = make_tensor(nullptr, empty_shape, 1, DLDataType{kDLFloat, 32, 1});
  ASSERT_TRUE(dlpack_to_view(empty, &v, &error)) << error;
  EXPECT_EQ(v.data, nullptr);
}

void expect_error(const DLTensor& t, const std::string& fragment) {
  TensorView v;
  std::string error;
  EXPECT_FALSE(dlpack_to_view(t, &v, &error));
  EXPECT_NE(error.find(fragment), std::string::npos) << "error was: " << error;
}

TEST(DlpackView, RejectsUnsupportedDtypes) {
  int64_t shape[] = {4};
  char buf[64];
  expect_error(make_tensor(buf, shape, 1, DLDataType{kDLComplex, 64, 1}), "complex64");
  expect_error(make_tensor(buf, shape, 1, DLDataType{kDLComplex, 64, 1}), "no complex types");
  expect_error(make_tensor(buf, shape, 1, DLDataType{kDLFloat8_e4m3fnuz, 8, 1}), "float8_e4m3fn (tl.float8e4nv)");
  expect_error(make_tensor(buf, shape, 1, DLDataType{kDLFloat8_e5m2fnuz, 8, 1}), "float8_e5m2 (tl.float8e5)");
  expect_error(make_tensor(buf, shape, 1, DLDataType{kDLFloat4_e2m1fn, 4, 1}), "sub-byte");
  expect_error(make_tensor(buf, shape, 1, DLDataType{kDLFloat, 32, 4}), "lanes=4");
  expect_error(make_tensor(buf, shape, 1, DLDataType{kDLInt, 24, 1}), "int24");
  expect_error(make_tensor(buf, shape, 1, DLDataType{kDLFloat, 8, 1}), "8-bit width");
  expect_error(make_tensor(buf, shape, 1, DLDataType{kDLBool, 1, 1}), "bool1");
  expect_error(make_tensor(buf, shape, 1, DLDataType{kDLOpaqueHandle, 64, 1}), "opaque");
  expect_error(make_tensor(buf, shape, 1, DLDataType{200, 32, 1}), "unknown DLPack type code 200");
}

TEST(DlpackView, RejectsMalformedTensors) {
  char buf[64];
  int64_t negative[] = {-1};
  expect_error(make_tensor(buf, negative, 1, DLDataType{kDLFloat, 32, 1}), "negative dimension");
  expect_error(make_tensor(buf, nullptr, 2, DLDataType{kDLFloat, 32, 1}), "shape is NULL");
  expect_error(make_tensor(buf, nullptr, -1, DLDataType{kDLFloat, 32, 1}), "ndim=-1");
}

TEST(DlpackView, VersionedTensorChecksMajorAndReadOnly) {
  int64_t shape[] = {4};
  float storage[4];
  DLManagedTensorVersioned m{};
  m.version = DLPackVersion{1, 1};
  m.flags = DLPACK_FLAG_BITMASK_READ_ONLY;
  m.dl_tensor = make_tensor(storage, shape, 1, DLDataType{kDLFloat, 32, 1});
  TensorView v;
  bool read_only = false;
  std::string error;
  ASSERT_TRUE(dlpack_to_view(m, &v, &read_only, &error)) << error;
  EXPECT_TRUE(read_only);
  EXPECT_EQ(v.data, storage);
  m.version.major = 2;
  EXPECT_FALSE(dlpack_to_view(m, &v, &read_only, &error));
  EXPECT_NE(error.find("version 2.1"), std::string::npos) << error;
}

TEST(DlpackView, AbiLayoutMatchesSpec) {
  // Sizes fixed by the DLPack C ABI on 64-bit platforms.
  EXPECT_EQ(sizeof(DLDataType), 4u);
  EXPECT_EQ(sizeof(DLDevice), 8u);
  EXPECT_EQ(sizeof(DLTensor), 48u);
  EXPECT_EQ(offsetof(DLManagedTensorVersioned, dl_tensor), 32u);
}

}  // namespace
}  // namespace tilec
