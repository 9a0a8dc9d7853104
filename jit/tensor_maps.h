// Input: a CUDA kernel's TensorMapParams (tilec/codegen/cuda.h) and a launch's argument pointers.
// Output: the launch's TMA tensor maps, and the params as the cache index stores them.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jit/kernel.h"
#include "runtime/cuda_driver.h"

namespace tilec {

// One encoded CUtensorMap, passed by address like any other kernel parameter.
struct alignas(64) EncodedTensorMap {
  unsigned char bits[128];
};

// Encodes kernel.tensor_maps from the arguments into maps[] (no device work, about a microsecond
// each); "" or why not, naming the descriptor's fields.
std::string encode_tensor_maps(const CudaDriver& driver, const CompiledKernel& kernel, void** args, EncodedTensorMap* maps);

nlohmann::json tensor_maps_json(const std::vector<TensorMapParam>& maps);
// False when a record does not describe tensor maps (another index layout): the caller recompiles.
bool tensor_maps_from_json(const nlohmann::json& j, std::vector<TensorMapParam>* maps);

}  // namespace tilec
