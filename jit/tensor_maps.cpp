// Input: a CUDA kernel's TensorMapParams and a launch's argument pointers. Output: the TMA tensor
// maps encoded for that launch (cuTensorMapEncodeTiled), and the params' JSON in the cache index.
#include "jit/tensor_maps.h"

#include <cstdint>

namespace tilec {
namespace {

nlohmann::json field_json(const TensorMapParam::Field& f) { return {f.arg, dtype_name(f.dtype), f.value}; }

bool field_from_json(const nlohmann::json& j, TensorMapParam::Field* f) {
  std::optional<DType> d = dtype_from_name(j.at(1).get<std::string>());
  if (!d) return false;
  *f = {j.at(0).get<int>(), *d, j.at(2).get<int64_t>()};
  return true;
}

// A tensor map field's value in this launch.
int64_t tensor_map_field(const TensorMapParam::Field& f, void** args) {
  if (f.arg < 0) return f.value;
  const void* p = args[f.arg];
  switch (dtype_bytes(f.dtype)) {
    case 1: return is_signed(f.dtype) ? *static_cast<const int8_t*>(p) : *static_cast<const uint8_t*>(p);
    case 2: return is_signed(f.dtype) ? *static_cast<const int16_t*>(p) : *static_cast<const uint16_t*>(p);
    case 4: return is_signed(f.dtype) ? *static_cast<const int32_t*>(p) : *static_cast<const uint32_t*>(p);
    default: return *static_cast<const int64_t*>(p);
  }
}

}  // namespace

nlohmann::json tensor_maps_json(const std::vector<TensorMapParam>& maps) {
  nlohmann::json out = nlohmann::json::array();
  for (const TensorMapParam& t : maps) {
    nlohmann::json shape = nlohmann::json::array(), strides = nlohmann::json::array();
    for (const auto& f : t.shape) shape.push_back(field_json(f));
    for (const auto& f : t.strides) strides.push_back(field_json(f));
    out.push_back({{"base", field_json(t.base)}, {"elem", dtype_name(t.elem)}, {"shape", shape}, {"strides", strides}, {"box", t.box},
                   {"swizzle", t.swizzle}, {"nan_fill", t.nan_fill}});
  }
  return out;
}

bool tensor_maps_from_json(const nlohmann::json& j, std::vector<TensorMapParam>* maps) {
  for (const auto& r : j) {
    TensorMapParam t;
    std::optional<DType> e = dtype_from_name(r.at("elem").get<std::string>());
    if (!e || !field_from_json(r.at("base"), &t.base)) return false;
    t.elem = *e;
    for (const auto& f : r.at("shape")) {
      if (!field_from_json(f, &t.shape.emplace_back())) return false;
    }
    for (const auto& f : r.at("strides")) {
      if (!field_from_json(f, &t.strides.emplace_back())) return false;
    }
    t.box = r.at("box").get<std::vector<int64_t>>();
    t.swizzle = r.at("swizzle").get<int>();
    t.nan_fill = r.at("nan_fill").get<bool>();
    if (t.shape.size() != t.box.size() || t.strides.size() != t.box.size()) return false;
    maps->push_back(std::move(t));
  }
  return true;
}

// Encodes the kernel's tensor maps from the arguments into maps[] (cuTensorMapEncodeTiled: about
// a microsecond each, no device work); "" or why not, naming the descriptor's fields.
std::string encode_tensor_maps(const CudaDriver& driver, const CompiledKernel& kernel, void** args, EncodedTensorMap* maps) {
  if (!driver.cuTensorMapEncodeTiled)
    return "kernel " + kernel.name + " copies tiles with TMA, which needs cuTensorMapEncodeTiled (a CUDA 12 or newer driver)";
  for (size_t i = 0; i < kernel.tensor_maps.size(); ++i) {
    const TensorMapParam& t = kernel.tensor_maps[i];
    size_t rank = t.box.size();
    int64_t es = dtype_bytes(t.elem);
    unsigned long long dims[5], strides[5];
    unsigned box[5], unit[5];
    for (size_t d = 0; d < rank; ++d) {
      // cuTensorMapEncodeTiled lists dims innermost first and the strides (bytes) of all but it.
      size_t in = rank - 1 - d;
      int64_t extent = tensor_map_field(t.shape[d], args);
      if (extent <= 0 || extent > (int64_t{1} << 32))
        return "kernel " + kernel.name + ": a tensor descriptor of " + dtype_name(t.elem) + " has the shape entry " +
               std::to_string(extent) + " in dim " + std::to_string(d) + "; TMA needs 1 to 2^32 (the kernel copies it with TMA)";
      dims[in] = static_cast<unsigned long long>(extent);
      if (in > 0) strides[in - 1] = static_cast<unsigned long long>(tensor_map_field(t.strides[d], args) * es);
      box[in] = static_cast<unsigned>(t.box[d]);
      unit[in] = 1;
    }
    int type = CU_TENSOR_MAP_DATA_TYPE_UINT8;
    switch (t.elem) {
      case DType::F16: type = CU_TENSOR_MAP_DATA_TYPE_FLOAT16; break;
      case DType::BF16: type = CU_TENSOR_MAP_DATA_TYPE_BFLOAT16; break;
      case DType::F32: type = CU_TENSOR_MAP_DATA_TYPE_FLOAT32; break;
      case DType::F64: type = CU_TENSOR_MAP_DATA_TYPE_FLOAT64; break;
      default:
        type = es == 1 ? CU_TENSOR_MAP_DATA_TYPE_UINT8 : es == 2 ? CU_TENSOR_MAP_DATA_TYPE_UINT16
             : es == 4 ? CU_TENSOR_MAP_DATA_TYPE_UINT32 : CU_TENSOR_MAP_DATA_TYPE_UINT64;
    }
    void* base = reinterpret_cast<void*>(static_cast<uintptr_t>(tensor_map_field(t.base, args)));
    CUresult r = driver.cuTensorMapEncodeTiled(maps[i].bits, type, static_cast<unsigned>(rank), base, dims, strides, box, unit, 0,
                                               t.swizzle ? CU_TENSOR_MAP_SWIZZLE_128B : CU_TENSOR_MAP_SWIZZLE_NONE,
                                               CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
                                               t.nan_fill ? CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA : CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS)
      return "kernel " + kernel.name + ": cuTensorMapEncodeTiled rejected a tensor descriptor of " + dtype_name(t.elem) +
             " (TMA needs a 16-byte aligned base and row strides): " + driver.error_text(r);
  }
  return "";
}

}  // namespace tilec
