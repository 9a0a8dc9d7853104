// Input: a DLPack tensor (DLTensor or a versioned managed tensor). Output: TensorView, a
// non-owning view with tilec's DType and explicit element strides; unsupported dtypes are errors.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/dlpack.h"
#include "tilec/types.h"

namespace tilec {

// Does not own `data`; valid while the producer's tensor lives.
struct TensorView {
  void* data = nullptr;  // first element: DLTensor::data already offset by byte_offset
  int device_type = 0;   // a DLDeviceType value (kDLCPU, kDLCUDA, ...)
  int device_id = 0;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  // in elements; filled in (row-major) when DLPack gives none
};

// Converts `t`; on failure returns false with *error saying what is unsupported, e.g.
// "unsupported DLPack dtype complex64: tilec has no complex types".
bool dlpack_to_view(const DLTensor& t, TensorView* view, std::string* error);

// As above after checking the version (major must be 1). `read_only` reports the READ_ONLY flag.
bool dlpack_to_view(const DLManagedTensorVersioned& t, TensorView* view, bool* read_only, std::string* error);

}  // namespace tilec
