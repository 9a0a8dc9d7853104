// Input: none. Output: the one libdevice table; rows are sorted by name and give Triton's names.
// Invariant: every CUDA spelling exists in CUDA's math API or runtime/cuda/tilec_cuda.h (tc_*) and every
// C++ spelling in <cmath> or runtime/cpu/tilec_rt.h (namespace tilec_rt::ld), so both printers only copy strings.
#include "tilec/libdevice.h"

namespace tilec {

const std::vector<LibdeviceFn>& libdevice_table() {
  using R = LibdeviceResult;
  static const std::vector<LibdeviceFn> table = {
      {"acos", 1, R::Float, "acosf", "acos", "std::acos"},
      {"acosh", 1, R::Float, "acoshf", "acosh", "std::acosh"},
      {"asin", 1, R::Float, "asinf", "asin", "std::asin"},
      {"asinh", 1, R::Float, "asinhf", "asinh", "std::asinh"},
      {"atan", 1, R::Float, "atanf", "atan", "std::atan"},
      {"atan2", 2, R::Float, "atan2f", "atan2", "std::atan2"},
      {"atanh", 1, R::Float, "atanhf", "atanh", "std::atanh"},
      {"cbrt", 1, R::Float, "cbrtf", "cbrt", "std::cbrt"},
      {"copysign", 2, R::Float, "copysignf", "copysign", "std::copysign"},
      {"cosh", 1, R::Float, "coshf", "cosh", "std::cosh"},
      {"div_rn", 2, R::Float, "__fdiv_rn", "__ddiv_rn", "tilec_rt::ld::div"},
      {"erfinv", 1, R::Float, "erfinvf", "erfinv", "tilec_rt::ld::erfinv"},
      {"exp10", 1, R::Float, "exp10f", "exp10", "tilec_rt::ld::exp10"},
      {"expm1", 1, R::Float, "expm1f", "expm1", "std::expm1"},
      {"fast_dividef", 2, R::Float, "__fdividef", nullptr, "tilec_rt::ld::div"},
      {"fast_expf", 1, R::Float, "__expf", nullptr, "std::exp"},
      {"fast_logf", 1, R::Float, "__logf", nullptr, "std::log"},
      {"finitef", 1, R::I32, "isfinite", nullptr, "std::isfinite"},
      {"fabs", 1, R::Float, "fabsf", "fabs", "std::fabs"},
      {"fmax", 2, R::Float, "fmaxf", "fmax", "std::fmax"},
      {"fmin", 2, R::Float, "fminf", "fmin", "std::fmin"},
      {"fmod", 2, R::Float, "fmodf", "fmod", "std::fmod"},
      {"hypot", 2, R::Float, "hypotf", "hypot", "std::hypot"},
      {"isfinited", 1, R::I32, nullptr, "isfinite", "std::isfinite"},
      {"isinf", 1, R::I32, "isinf", "isinf", "std::isinf"},
      {"isnan", 1, R::I32, "isnan", "isnan", "std::isnan"},
      {"lgamma", 1, R::Float, "lgammaf", "lgamma", "std::lgamma"},
      {"log10", 1, R::Float, "log10f", "log10", "std::log10"},
      {"log1p", 1, R::Float, "log1pf", "log1p", "std::log1p"},
      {"nearbyint", 1, R::Float, "nearbyintf", "nearbyint", "std::nearbyint"},
      {"pow", 2, R::Float, "powf", "pow", "std::pow"},
      {"rint", 1, R::Float, "rintf", "rint", "std::rint"},
      {"round", 1, R::Float, "roundf", "round", "std::round"},
      {"signbit", 1, R::I32, "signbit", "signbit", "std::signbit"},
      {"sinh", 1, R::Float, "sinhf", "sinh", "std::sinh"},
      // Triton's libdevice.sqrt: __nv_sqrtf under Triton's reflect flags (no precise sqrt, ftz) is
      // sqrt.approx.ftz.f32. In source, `libdevice.sqrt` names tl.sqrt first (IEEE, more accurate);
      // tl.randn's Box-Muller uses this row so that its normals are Triton's bit for bit.
      {"sqrt", 1, R::Float, "tc_sqrt_approx_ftz", "sqrt", "std::sqrt"},
      {"sqrt_rn", 1, R::Float, "__fsqrt_rn", "__dsqrt_rn", "std::sqrt"},
      {"tan", 1, R::Float, "tanf", "tan", "std::tan"},
      {"tanh", 1, R::Float, "tanhf", "tanh", "std::tanh"},
      {"tgamma", 1, R::Float, "tgammaf", "tgamma", "std::tgamma"},
      {"trunc", 1, R::Float, "truncf", "trunc", "std::trunc"},
  };
  return table;
}

const LibdeviceFn* find_libdevice(const std::string& name) {
  for (const LibdeviceFn& f : libdevice_table())
    if (name == f.name) return &f;
  return nullptr;
}

}  // namespace tilec
