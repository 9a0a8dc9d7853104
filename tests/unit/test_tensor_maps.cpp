// Input: TensorMapParams as generate_cuda records them. Output: checks that the cache index's JSON
// keeps every field (a warm start launches from it) and rejects a record of another layout.
#include <gtest/gtest.h>

#include "jit/tensor_maps.h"

namespace tilec {
namespace {

TEST(TensorMaps, JsonKeepsEveryField) {
  TensorMapParam t;
  t.base = {0, DType::U64, 0};
  t.elem = DType::BF16;
  t.shape = {{3, DType::I32, 0}, {-1, DType::I64, 4096}};
  t.strides = {{5, DType::I64, 0}, {-1, DType::I64, 1}};
  t.box = {128, 64};
  t.swizzle = 0;
  t.nan_fill = true;
  std::vector<TensorMapParam> back;
  ASSERT_TRUE(tensor_maps_from_json(tensor_maps_json({t}), &back));
  ASSERT_EQ(back.size(), 1u);
  const TensorMapParam& b = back[0];
  EXPECT_EQ(b.base.arg, 0);
  EXPECT_EQ(b.base.dtype, DType::U64);
  EXPECT_EQ(b.elem, DType::BF16);
  ASSERT_EQ(b.shape.size(), 2u);
  EXPECT_EQ(b.shape[0].arg, 3);
  EXPECT_EQ(b.shape[0].dtype, DType::I32);
  EXPECT_EQ(b.shape[1].arg, -1);
  EXPECT_EQ(b.shape[1].value, 4096);
  EXPECT_EQ(b.strides[0].arg, 5);
  EXPECT_EQ(b.strides[1].value, 1);
  EXPECT_EQ(b.box, (std::vector<int64_t>{128, 64}));
  EXPECT_EQ(b.swizzle, 0);
  EXPECT_TRUE(b.nan_fill);
}

TEST(TensorMaps, RecordOfAnotherLayoutIsRejected) {
  std::vector<TensorMapParam> back;
  nlohmann::json j = tensor_maps_json({TensorMapParam{{0, DType::U64, 0}, DType::F16, {{1, DType::I64, 0}}, {{-1, DType::I64, 1}}, {64}}});
  j[0]["elem"] = "fp99";
  EXPECT_FALSE(tensor_maps_from_json(j, &back));
  j = tensor_maps_json({TensorMapParam{{0, DType::U64, 0}, DType::F16, {{1, DType::I64, 0}}, {}, {64}}});
  EXPECT_FALSE(tensor_maps_from_json(j, &back));  // a stride per dim is missing
}

}  // namespace
}  // namespace tilec
