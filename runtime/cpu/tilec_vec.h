// Input: none (header-only, C++17, included by generated CPU kernels built with -march=native).
// Output: tilec_rt::Vec<T, W> SIMD wrappers (AVX-512, AVX2+FMA, NEON or scalar) and fp8/fp16/bf16 storage types.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#if defined(__AVX512F__) || defined(__AVX2__) || defined(__F16C__)
#include <immintrin.h>
#endif
#if defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace tilec_rt {

// ---- Half-precision storage types (conversions round to nearest even) ----

inline uint32_t f32_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float bits_f32(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

struct fp16 {
  uint16_t bits = 0;
  fp16() = default;
  fp16(float f) : bits(from_float(f)) {}
  operator float() const { return to_float(bits); }
  static uint16_t from_float(float f) {
    uint32_t x = f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0));
    if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds past 65504
    if (ax < 0x38800000u) {  // result is subnormal (or zero): add a magic number to round
      float r = bits_f32(ax) + 0.5f;
      return static_cast<uint16_t>(sign | (f32_bits(r) - f32_bits(0.5f)));
    }
    uint32_t mant_odd = (ax >> 13) & 1u;
    ax += 0xc8000fffu + mant_odd;  // rebias exponent (-112 << 23) and round half to even
    return static_cast<uint16_t>(sign | (ax >> 13));
  }
  static float to_float(uint16_t h) {
#if defined(__F16C__)
    // One instruction instead of the bit manipulation below: half loads feed tl.dot's inner loops.
    return _cvtsh_ss(h);
#else
    uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0x1f) return bits_f32(sign | 0x7f800000u | (mant << 13));
    if (exp == 0) {
      float m = static_cast<float>(mant) * 5.9604644775390625e-8f;  // 2^-24
      return sign ? -m : m;
    }
    return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
#endif
  }
};

struct bf16 {
  uint16_t bits = 0;
  bf16() = default;
  bf16(float f) : bits(from_float(f)) {}
  operator float() const { return bits_f32(static_cast<uint32_t>(bits) << 16); }
  static uint16_t from_float(float f) {
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet NaN
    x += 0x7fffu + ((x >> 16) & 1u);
    return static_cast<uint16_t>(x >> 16);
  }
};

// fp8 storage types: Triton's fp8e5 (e5m2, with infinities) and fp8e4nv (e4m3fn: no infinities,
// 0x7f/0xff are NaN). From float they round to nearest even and saturate to the largest finite
// value (NaN stays NaN), as the cvt.rn.satfinite instructions Triton uses on sm_90 do.
template <int E, int M, bool HasInf>
struct fp8 {
  static constexpr int kBias = (1 << (E - 1)) - 1;
  static constexpr uint32_t kMaxCode = HasInf ? ((((1u << E) - 2) << M) | ((1u << M) - 1)) : ((((1u << E) - 1) << M) | ((1u << M) - 2));
  uint8_t bits = 0;
  fp8() = default;
  fp8(float f) : bits(from_float(f)) {}
  operator float() const { return to_float(bits); }
  static uint8_t from_float(float f) {
    uint32_t x = f32_bits(f);
    uint32_t sign = (x >> 24) & 0x80u, ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return static_cast<uint8_t>(sign | 0x7fu);
    if (ax < static_cast<uint32_t>(128 - kBias) << 23) {  // below the smallest normal: multiples of 2^(1-bias-M)
      float q = std::nearbyint(bits_f32(ax) * std::ldexp(1.0f, kBias - 1 + M));
      return static_cast<uint8_t>(sign | static_cast<uint32_t>(q));
    }
    // Round the float's mantissa to M bits (a carry moves into the exponent), then rebias.
    constexpr int shift = 23 - M;
    uint32_t r = (ax + (1u << (shift - 1)) - 1 + ((ax >> shift) & 1u)) >> shift;
    uint32_t code = r - (static_cast<uint32_t>(127 - kBias) << M);
    return static_cast<uint8_t>(sign | (code > kMaxCode ? kMaxCode : code));
  }
  static float to_float(uint8_t b) {
    uint32_t sign = static_cast<uint32_t>(b & 0x80u) << 24;
    uint32_t e = (b >> M) & ((1u << E) - 1), m = b & ((1u << M) - 1);
    if (HasInf ? e == (1u << E) - 1 : (b & 0x7fu) == 0x7fu)
      return bits_f32(sign | 0x7f800000u | (HasInf && m == 0 ? 0u : 0x400000u));
    if (e == 0) {
      float v = std::ldexp(static_cast<float>(m), 1 - kBias - M);
      return sign ? -v : v;
    }
    return bits_f32(sign | ((e + 127 - kBias) << 23) | (m << (23 - M)));
  }
};
using fp8e5 = fp8<5, 2, true>;
using fp8e4nv = fp8<4, 3, false>;

// The storage types above: arithmetic on them happens in float.
template <class T> inline constexpr bool is_narrow_float_v =
    std::is_same_v<T, fp16> || std::is_same_v<T, bf16> || std::is_same_v<T, fp8e5> || std::is_same_v<T, fp8e4nv>;

// ---- Lane-wise helpers shared by every ISA ----

template <class T> inline T fmax_(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return std::fmax(a, b);
  else return a > b ? a : b;
}
template <class T> inline T fmin_(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return std::fmin(a, b);
  else return a < b ? a : b;
}

// Scalar fallback: any T, any W. Masks are bool lanes.
template <class T, int W>
struct Vec {
  static constexpr int width = W;
  struct Mask {
    bool m[W];
    static Mask from_bytes(const uint8_t* p) { Mask r; for (int i = 0; i < W; ++i) r.m[i] = p[i] != 0; return r; }
    void store_bytes(uint8_t* p) const { for (int i = 0; i < W; ++i) p[i] = m[i]; }
    bool all() const { for (int i = 0; i < W; ++i) if (!m[i]) return false; return true; }
    bool any() const { for (int i = 0; i < W; ++i) if (m[i]) return true; return false; }
  };
  T v[W];
  static Vec load(const T* p) { Vec r; for (int i = 0; i < W; ++i) r.v[i] = p[i]; return r; }
  void store(T* p) const { for (int i = 0; i < W; ++i) p[i] = v[i]; }
  static Vec load_masked(const T* p, Mask m, Vec other) { Vec r; for (int i = 0; i < W; ++i) r.v[i] = m.m[i] ? p[i] : other.v[i]; return r; }
  void store_masked(T* p, Mask m) const { for (int i = 0; i < W; ++i) if (m.m[i]) p[i] = v[i]; }
  static Vec broadcast(T x) { Vec r; for (int i = 0; i < W; ++i) r.v[i] = x; return r; }
  static Vec iota(T start) { Vec r; for (int i = 0; i < W; ++i) r.v[i] = static_cast<T>(start + i); return r; }
#define TILEC_LANEWISE(op) \
  friend Vec operator op(Vec a, Vec b) { Vec r; for (int i = 0; i < W; ++i) r.v[i] = a.v[i] op b.v[i]; return r; }
  TILEC_LANEWISE(+) TILEC_LANEWISE(-) TILEC_LANEWISE(*) TILEC_LANEWISE(/)
#undef TILEC_LANEWISE
#define TILEC_LANECMP(name, op) \
  friend Mask name(Vec a, Vec b) { Mask r; for (int i = 0; i < W; ++i) r.m[i] = a.v[i] op b.v[i]; return r; }
  TILEC_LANECMP(cmp_eq, ==) TILEC_LANECMP(cmp_ne, !=) TILEC_LANECMP(cmp_lt, <) TILEC_LANECMP(cmp_le, <=)
  TILEC_LANECMP(cmp_gt, >) TILEC_LANECMP(cmp_ge, >=)
#undef TILEC_LANECMP
  friend Vec fma(Vec a, Vec b, Vec c) { Vec r; for (int i = 0; i < W; ++i) r.v[i] = static_cast<T>(a.v[i] * b.v[i] + c.v[i]); return r; }
  friend Vec max(Vec a, Vec b) { Vec r; for (int i = 0; i < W; ++i) r.v[i] = fmax_(a.v[i], b.v[i]); return r; }
  friend Vec min(Vec a, Vec b) { Vec r; for (int i = 0; i < W; ++i) r.v[i] = fmin_(a.v[i], b.v[i]); return r; }
  friend Vec select(Mask m, Vec a, Vec b) { Vec r; for (int i = 0; i < W; ++i) r.v[i] = m.m[i] ? a.v[i] : b.v[i]; return r; }
  friend Mask is_nan(Vec a) { Mask r; for (int i = 0; i < W; ++i) r.m[i] = a.v[i] != a.v[i]; return r; }
  T hsum() const { T s = v[0]; for (int i = 1; i < W; ++i) s += v[i]; return s; }
  T hmax() const { T s = v[0]; for (int i = 1; i < W; ++i) s = fmax_(s, v[i]); return s; }
  T hmin() const { T s = v[0]; for (int i = 1; i < W; ++i) s = fmin_(s, v[i]); return s; }
  // Round to nearest integer value and 2^n for integer-valued n in [-126, 127] (float exp kernel).
  Vec round() const { Vec r; for (int i = 0; i < W; ++i) r.v[i] = std::nearbyint(v[i]); return r; }
  Vec pow2i() const { Vec r; for (int i = 0; i < W; ++i) r.v[i] = bits_f32(static_cast<uint32_t>(static_cast<int32_t>(v[i]) + 127) << 23); return r; }
  // Float-only kernels' helpers: correctly rounded square root; and for positive normal x, the
  // mantissa in [1, 2) with the unbiased exponent (as a float) in e.
  Vec sqrt() const { Vec r; for (int i = 0; i < W; ++i) r.v[i] = std::sqrt(v[i]); return r; }
  Vec mantissa(Vec& e) const {
    Vec m;
    for (int i = 0; i < W; ++i) {
      uint32_t u = f32_bits(v[i]);
      e.v[i] = static_cast<float>(static_cast<int32_t>((u >> 23) & 0xffu) - 127);
      m.v[i] = bits_f32((u & 0x7fffffu) | 0x3f800000u);
    }
    return m;
  }
};

#if defined(__AVX512F__)
inline constexpr int kVecBytes = 64;
inline constexpr int kVecRegisters = 32;  // sizes tl.dot's micro-kernel (tilec_rt.h)
inline constexpr bool kFusedFma = true;   // fma() rounds once (sin/cos's reduction relies on it)

template <> struct Vec<float, 16> {
  static constexpr int width = 16;
  struct Mask {
    __mmask16 m;
    static Mask from_bytes(const uint8_t* p) { return {_mm512_test_epi32_mask(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), _mm512_set1_epi32(0xff))}; }
    void store_bytes(uint8_t* p) const { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(_mm512_maskz_mov_epi32(m, _mm512_set1_epi32(1)))); }
    bool all() const { return m == 0xffff; }
    bool any() const { return m != 0; }
  };
  __m512 v;
  static Vec load(const float* p) { return {_mm512_loadu_ps(p)}; }
  void store(float* p) const { _mm512_storeu_ps(p, v); }
  static Vec load_masked(const float* p, Mask m, Vec other) { return {_mm512_mask_loadu_ps(other.v, m.m, p)}; }
  void store_masked(float* p, Mask m) const { _mm512_mask_storeu_ps(p, m.m, v); }
  static Vec broadcast(float x) { return {_mm512_set1_ps(x)}; }
  static Vec iota(float s) { return {_mm512_add_ps(_mm512_set1_ps(s), _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))}; }
  friend Vec operator+(Vec a, Vec b) { return {_mm512_add_ps(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm512_sub_ps(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm512_mul_ps(a.v, b.v)}; }
  friend Vec operator/(Vec a, Vec b) { return {_mm512_div_ps(a.v, b.v)}; }
  friend Mask cmp_eq(Vec a, Vec b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ)}; }
  friend Mask cmp_ne(Vec a, Vec b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_NEQ_UQ)}; }
  friend Mask cmp_lt(Vec a, Vec b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ)}; }
  friend Mask cmp_le(Vec a, Vec b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ)}; }
  friend Mask cmp_gt(Vec a, Vec b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ)}; }
  friend Mask cmp_ge(Vec a, Vec b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ)}; }
  friend Mask is_nan(Vec a) { return {_mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q)}; }
  friend Vec fma(Vec a, Vec b, Vec c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  // fmax semantics: a NaN operand yields the other one.
  friend Vec max(Vec a, Vec b) { return {_mm512_mask_mov_ps(_mm512_max_ps(b.v, a.v), is_nan(a).m, b.v)}; }
  friend Vec min(Vec a, Vec b) { return {_mm512_mask_mov_ps(_mm512_min_ps(b.v, a.v), is_nan(a).m, b.v)}; }
  friend Vec select(Mask m, Vec a, Vec b) { return {_mm512_mask_mov_ps(b.v, m.m, a.v)}; }
  float hsum() const { return _mm512_reduce_add_ps(v); }
  float hmax() const { return _mm512_reduce_max_ps(v); }
  float hmin() const { return _mm512_reduce_min_ps(v); }
  Vec round() const { return {_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
  Vec pow2i() const { return {_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(v), _mm512_set1_epi32(127)), 23))}; }
  Vec sqrt() const { return {_mm512_sqrt_ps(v)}; }
  Vec mantissa(Vec& e) const {
    e.v = _mm512_getexp_ps(v);
    return {_mm512_getmant_ps(v, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero)};
  }
};

template <> struct Vec<double, 8> {
  static constexpr int width = 8;
  struct Mask {
    __mmask8 m;
    static Mask from_bytes(const uint8_t* p) { return {_mm512_test_epi64_mask(_mm512_cvtepu8_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))), _mm512_set1_epi64(0xff))}; }
    void store_bytes(uint8_t* p) const { _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm512_cvtepi64_epi8(_mm512_maskz_mov_epi64(m, _mm512_set1_epi64(1)))); }
    bool all() const { return m == 0xff; }
    bool any() const { return m != 0; }
  };
  __m512d v;
  static Vec load(const double* p) { return {_mm512_loadu_pd(p)}; }
  void store(double* p) const { _mm512_storeu_pd(p, v); }
  static Vec load_masked(const double* p, Mask m, Vec other) { return {_mm512_mask_loadu_pd(other.v, m.m, p)}; }
  void store_masked(double* p, Mask m) const { _mm512_mask_storeu_pd(p, m.m, v); }
  static Vec broadcast(double x) { return {_mm512_set1_pd(x)}; }
  static Vec iota(double s) { return {_mm512_add_pd(_mm512_set1_pd(s), _mm512_setr_pd(0, 1, 2, 3, 4, 5, 6, 7))}; }
  friend Vec operator+(Vec a, Vec b) { return {_mm512_add_pd(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm512_sub_pd(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm512_mul_pd(a.v, b.v)}; }
  friend Vec operator/(Vec a, Vec b) { return {_mm512_div_pd(a.v, b.v)}; }
  friend Mask cmp_eq(Vec a, Vec b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_EQ_OQ)}; }
  friend Mask cmp_ne(Vec a, Vec b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_NEQ_UQ)}; }
  friend Mask cmp_lt(Vec a, Vec b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_LT_OQ)}; }
  friend Mask cmp_le(Vec a, Vec b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_LE_OQ)}; }
  friend Mask cmp_gt(Vec a, Vec b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_GT_OQ)}; }
  friend Mask cmp_ge(Vec a, Vec b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_GE_OQ)}; }
  friend Mask is_nan(Vec a) { return {_mm512_cmp_pd_mask(a.v, a.v, _CMP_UNORD_Q)}; }
  friend Vec fma(Vec a, Vec b, Vec c) { return {_mm512_fmadd_pd(a.v, b.v, c.v)}; }
  friend Vec max(Vec a, Vec b) { return {_mm512_mask_mov_pd(_mm512_max_pd(b.v, a.v), is_nan(a).m, b.v)}; }
  friend Vec min(Vec a, Vec b) { return {_mm512_mask_mov_pd(_mm512_min_pd(b.v, a.v), is_nan(a).m, b.v)}; }
  friend Vec select(Mask m, Vec a, Vec b) { return {_mm512_mask_mov_pd(b.v, m.m, a.v)}; }
  double hsum() const { return _mm512_reduce_add_pd(v); }
  double hmax() const { return _mm512_reduce_max_pd(v); }
  double hmin() const { return _mm512_reduce_min_pd(v); }
};

template <> struct Vec<int32_t, 16> {
  static constexpr int width = 16;
  using Mask = Vec<float, 16>::Mask;
  __m512i v;
  static Vec load(const int32_t* p) { return {_mm512_loadu_si512(p)}; }
  void store(int32_t* p) const { _mm512_storeu_si512(p, v); }
  static Vec load_masked(const int32_t* p, Mask m, Vec other) { return {_mm512_mask_loadu_epi32(other.v, m.m, p)}; }
  void store_masked(int32_t* p, Mask m) const { _mm512_mask_storeu_epi32(p, m.m, v); }
  static Vec broadcast(int32_t x) { return {_mm512_set1_epi32(x)}; }
  static Vec iota(int32_t s) { return {_mm512_add_epi32(_mm512_set1_epi32(s), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))}; }
  friend Vec operator+(Vec a, Vec b) { return {_mm512_add_epi32(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm512_sub_epi32(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm512_mullo_epi32(a.v, b.v)}; }
  friend Mask cmp_eq(Vec a, Vec b) { return {_mm512_cmpeq_epi32_mask(a.v, b.v)}; }
  friend Mask cmp_ne(Vec a, Vec b) { return {_mm512_cmpneq_epi32_mask(a.v, b.v)}; }
  friend Mask cmp_lt(Vec a, Vec b) { return {_mm512_cmplt_epi32_mask(a.v, b.v)}; }
  friend Mask cmp_le(Vec a, Vec b) { return {_mm512_cmple_epi32_mask(a.v, b.v)}; }
  friend Mask cmp_gt(Vec a, Vec b) { return {_mm512_cmpgt_epi32_mask(a.v, b.v)}; }
  friend Mask cmp_ge(Vec a, Vec b) { return {_mm512_cmpge_epi32_mask(a.v, b.v)}; }
  friend Vec max(Vec a, Vec b) { return {_mm512_max_epi32(a.v, b.v)}; }
  friend Vec min(Vec a, Vec b) { return {_mm512_min_epi32(a.v, b.v)}; }
  friend Vec select(Mask m, Vec a, Vec b) { return {_mm512_mask_mov_epi32(b.v, m.m, a.v)}; }
  int32_t hsum() const { return _mm512_reduce_add_epi32(v); }
  int32_t hmax() const { return _mm512_reduce_max_epi32(v); }
  int32_t hmin() const { return _mm512_reduce_min_epi32(v); }
};

template <> struct Vec<int64_t, 8> {
  static constexpr int width = 8;
  using Mask = Vec<double, 8>::Mask;
  __m512i v;
  static Vec load(const int64_t* p) { return {_mm512_loadu_si512(p)}; }
  void store(int64_t* p) const { _mm512_storeu_si512(p, v); }
  static Vec load_masked(const int64_t* p, Mask m, Vec other) { return {_mm512_mask_loadu_epi64(other.v, m.m, p)}; }
  void store_masked(int64_t* p, Mask m) const { _mm512_mask_storeu_epi64(p, m.m, v); }
  static Vec broadcast(int64_t x) { return {_mm512_set1_epi64(x)}; }
  static Vec iota(int64_t s) { return {_mm512_add_epi64(_mm512_set1_epi64(s), _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7))}; }
  friend Vec operator+(Vec a, Vec b) { return {_mm512_add_epi64(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm512_sub_epi64(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { alignas(64) int64_t x[8], y[8]; a.store(x); b.store(y); for (int i = 0; i < 8; ++i) x[i] *= y[i]; return load(x); }
  friend Mask cmp_eq(Vec a, Vec b) { return {_mm512_cmpeq_epi64_mask(a.v, b.v)}; }
  friend Mask cmp_ne(Vec a, Vec b) { return {_mm512_cmpneq_epi64_mask(a.v, b.v)}; }
  friend Mask cmp_lt(Vec a, Vec b) { return {_mm512_cmplt_epi64_mask(a.v, b.v)}; }
  friend Mask cmp_le(Vec a, Vec b) { return {_mm512_cmple_epi64_mask(a.v, b.v)}; }
  friend Mask cmp_gt(Vec a, Vec b) { return {_mm512_cmpgt_epi64_mask(a.v, b.v)}; }
  friend Mask cmp_ge(Vec a, Vec b) { return {_mm512_cmpge_epi64_mask(a.v, b.v)}; }
  friend Vec max(Vec a, Vec b) { return {_mm512_max_epi64(a.v, b.v)}; }
  friend Vec min(Vec a, Vec b) { return {_mm512_min_epi64(a.v, b.v)}; }
  friend Vec select(Mask m, Vec a, Vec b) { return {_mm512_mask_mov_epi64(b.v, m.m, a.v)}; }
  int64_t hsum() const { return _mm512_reduce_add_epi64(v); }
  int64_t hmax() const { return _mm512_reduce_max_epi64(v); }
  int64_t hmin() const { return _mm512_reduce_min_epi64(v); }
};

#elif defined(__AVX2__) && defined(__FMA__)
inline constexpr int kVecBytes = 32;
inline constexpr int kVecRegisters = 16;
inline constexpr bool kFusedFma = true;

// AVX2 masks are full-width lanes of all ones; one mask type per lane width. Masked loads and
// stores test for a full mask first: vmaskmov is slow (microcoded stores on AMD), and most vectors
// of a masked tile are whole.
struct Mask32x8 {
  __m256i m;
  static Mask32x8 from_bytes(const uint8_t* p) {
    __m256i w = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    return {_mm256_cmpgt_epi32(w, _mm256_setzero_si256())};
  }
  void store_bytes(uint8_t* p) const {
    __m256i one = _mm256_and_si256(m, _mm256_set1_epi32(1));
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(one), _mm256_extracti128_si256(one, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packus_epi16(w, w));
  }
  bool all() const { return _mm256_movemask_ps(_mm256_castsi256_ps(m)) == 0xff; }
  bool any() const { return _mm256_movemask_ps(_mm256_castsi256_ps(m)) != 0; }
};
struct Mask64x4 {
  __m256i m;
  static Mask64x4 from_bytes(const uint8_t* p) {
    int32_t x;
    std::memcpy(&x, p, 4);
    __m256i w = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(x));
    return {_mm256_cmpgt_epi64(w, _mm256_setzero_si256())};
  }
  void store_bytes(uint8_t* p) const {
    int bits = _mm256_movemask_pd(_mm256_castsi256_pd(m));
    for (int i = 0; i < 4; ++i) p[i] = (bits >> i) & 1;
  }
  bool all() const { return _mm256_movemask_pd(_mm256_castsi256_pd(m)) == 0xf; }
  bool any() const { return _mm256_movemask_pd(_mm256_castsi256_pd(m)) != 0; }
};

template <> struct Vec<float, 8> {
  static constexpr int width = 8;
  using Mask = Mask32x8;
  __m256 v;
  static Vec load(const float* p) { return {_mm256_loadu_ps(p)}; }
  void store(float* p) const { _mm256_storeu_ps(p, v); }
  static Vec load_masked(const float* p, Mask m, Vec other) { return m.all() ? load(p) : Vec{_mm256_blendv_ps(other.v, _mm256_maskload_ps(p, m.m), _mm256_castsi256_ps(m.m))}; }
  void store_masked(float* p, Mask m) const { if (m.all()) store(p); else _mm256_maskstore_ps(p, m.m, v); }
  static Vec broadcast(float x) { return {_mm256_set1_ps(x)}; }
  static Vec iota(float s) { return {_mm256_add_ps(_mm256_set1_ps(s), _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7))}; }
  friend Vec operator+(Vec a, Vec b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm256_mul_ps(a.v, b.v)}; }
  friend Vec operator/(Vec a, Vec b) { return {_mm256_div_ps(a.v, b.v)}; }
  static Mask m(__m256 x) { return {_mm256_castps_si256(x)}; }
  friend Mask cmp_eq(Vec a, Vec b) { return m(_mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ)); }
  friend Mask cmp_ne(Vec a, Vec b) { return m(_mm256_cmp_ps(a.v, b.v, _CMP_NEQ_UQ)); }
  friend Mask cmp_lt(Vec a, Vec b) { return m(_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)); }
  friend Mask cmp_le(Vec a, Vec b) { return m(_mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ)); }
  friend Mask cmp_gt(Vec a, Vec b) { return m(_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)); }
  friend Mask cmp_ge(Vec a, Vec b) { return m(_mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ)); }
  friend Mask is_nan(Vec a) { return m(_mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q)); }
  friend Vec fma(Vec a, Vec b, Vec c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  // fmax semantics: max_ps returns its second operand when either is NaN.
  friend Vec max(Vec a, Vec b) { return {_mm256_blendv_ps(_mm256_max_ps(b.v, a.v), b.v, _mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q))}; }
  friend Vec min(Vec a, Vec b) { return {_mm256_blendv_ps(_mm256_min_ps(b.v, a.v), b.v, _mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q))}; }
  friend Vec select(Mask k, Vec a, Vec b) { return {_mm256_blendv_ps(b.v, a.v, _mm256_castsi256_ps(k.m))}; }
  float hsum() const {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
  float hmax() const { alignas(32) float x[8]; store(x); float r = x[0]; for (int i = 1; i < 8; ++i) r = std::fmax(r, x[i]); return r; }
  float hmin() const { alignas(32) float x[8]; store(x); float r = x[0]; for (int i = 1; i < 8; ++i) r = std::fmin(r, x[i]); return r; }
  Vec round() const { return {_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
  Vec pow2i() const { return {_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(v), _mm256_set1_epi32(127)), 23))}; }
  Vec sqrt() const { return {_mm256_sqrt_ps(v)}; }
  Vec mantissa(Vec& e) const {
    __m256i u = _mm256_castps_si256(v);
    e.v = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(u, 23), _mm256_set1_epi32(127)));
    return {_mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffff)), _mm256_set1_epi32(0x3f800000)))};
  }
};

template <> struct Vec<double, 4> {
  static constexpr int width = 4;
  using Mask = Mask64x4;
  __m256d v;
  static Vec load(const double* p) { return {_mm256_loadu_pd(p)}; }
  void store(double* p) const { _mm256_storeu_pd(p, v); }
  static Vec load_masked(const double* p, Mask m, Vec other) { return m.all() ? load(p) : Vec{_mm256_blendv_pd(other.v, _mm256_maskload_pd(p, m.m), _mm256_castsi256_pd(m.m))}; }
  void store_masked(double* p, Mask m) const { if (m.all()) store(p); else _mm256_maskstore_pd(p, m.m, v); }
  static Vec broadcast(double x) { return {_mm256_set1_pd(x)}; }
  static Vec iota(double s) { return {_mm256_add_pd(_mm256_set1_pd(s), _mm256_setr_pd(0, 1, 2, 3))}; }
  friend Vec operator+(Vec a, Vec b) { return {_mm256_add_pd(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm256_sub_pd(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm256_mul_pd(a.v, b.v)}; }
  friend Vec operator/(Vec a, Vec b) { return {_mm256_div_pd(a.v, b.v)}; }
  static Mask m(__m256d x) { return {_mm256_castpd_si256(x)}; }
  friend Mask cmp_eq(Vec a, Vec b) { return m(_mm256_cmp_pd(a.v, b.v, _CMP_EQ_OQ)); }
  friend Mask cmp_ne(Vec a, Vec b) { return m(_mm256_cmp_pd(a.v, b.v, _CMP_NEQ_UQ)); }
  friend Mask cmp_lt(Vec a, Vec b) { return m(_mm256_cmp_pd(a.v, b.v, _CMP_LT_OQ)); }
  friend Mask cmp_le(Vec a, Vec b) { return m(_mm256_cmp_pd(a.v, b.v, _CMP_LE_OQ)); }
  friend Mask cmp_gt(Vec a, Vec b) { return m(_mm256_cmp_pd(a.v, b.v, _CMP_GT_OQ)); }
  friend Mask cmp_ge(Vec a, Vec b) { return m(_mm256_cmp_pd(a.v, b.v, _CMP_GE_OQ)); }
  friend Mask is_nan(Vec a) { return m(_mm256_cmp_pd(a.v, a.v, _CMP_UNORD_Q)); }
  friend Vec fma(Vec a, Vec b, Vec c) { return {_mm256_fmadd_pd(a.v, b.v, c.v)}; }
  friend Vec max(Vec a, Vec b) { return {_mm256_blendv_pd(_mm256_max_pd(b.v, a.v), b.v, _mm256_cmp_pd(a.v, a.v, _CMP_UNORD_Q))}; }
  friend Vec min(Vec a, Vec b) { return {_mm256_blendv_pd(_mm256_min_pd(b.v, a.v), b.v, _mm256_cmp_pd(a.v, a.v, _CMP_UNORD_Q))}; }
  friend Vec select(Mask k, Vec a, Vec b) { return {_mm256_blendv_pd(b.v, a.v, _mm256_castsi256_pd(k.m))}; }
  double hsum() const { __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1)); return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s))); }
  double hmax() const { alignas(32) double x[4]; store(x); return std::fmax(std::fmax(x[0], x[1]), std::fmax(x[2], x[3])); }
  double hmin() const { alignas(32) double x[4]; store(x); return std::fmin(std::fmin(x[0], x[1]), std::fmin(x[2], x[3])); }
};

template <> struct Vec<int32_t, 8> {
  static constexpr int width = 8;
  using Mask = Mask32x8;
  __m256i v;
  static Vec load(const int32_t* p) { return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))}; }
  void store(int32_t* p) const { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static Vec load_masked(const int32_t* p, Mask m, Vec other) { return m.all() ? load(p) : Vec{_mm256_blendv_epi8(other.v, _mm256_maskload_epi32(p, m.m), m.m)}; }
  void store_masked(int32_t* p, Mask m) const { if (m.all()) store(p); else _mm256_maskstore_epi32(p, m.m, v); }
  static Vec broadcast(int32_t x) { return {_mm256_set1_epi32(x)}; }
  static Vec iota(int32_t s) { return {_mm256_add_epi32(_mm256_set1_epi32(s), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))}; }
  friend Vec operator+(Vec a, Vec b) { return {_mm256_add_epi32(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm256_sub_epi32(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm256_mullo_epi32(a.v, b.v)}; }
  friend Mask cmp_eq(Vec a, Vec b) { return {_mm256_cmpeq_epi32(a.v, b.v)}; }
  friend Mask cmp_ne(Vec a, Vec b) { return {_mm256_xor_si256(_mm256_cmpeq_epi32(a.v, b.v), _mm256_set1_epi32(-1))}; }
  friend Mask cmp_lt(Vec a, Vec b) { return {_mm256_cmpgt_epi32(b.v, a.v)}; }
  friend Mask cmp_le(Vec a, Vec b) { return {_mm256_xor_si256(_mm256_cmpgt_epi32(a.v, b.v), _mm256_set1_epi32(-1))}; }
  friend Mask cmp_gt(Vec a, Vec b) { return {_mm256_cmpgt_epi32(a.v, b.v)}; }
  friend Mask cmp_ge(Vec a, Vec b) { return {_mm256_xor_si256(_mm256_cmpgt_epi32(b.v, a.v), _mm256_set1_epi32(-1))}; }
  friend Vec max(Vec a, Vec b) { return {_mm256_max_epi32(a.v, b.v)}; }
  friend Vec min(Vec a, Vec b) { return {_mm256_min_epi32(a.v, b.v)}; }
  friend Vec select(Mask k, Vec a, Vec b) { return {_mm256_blendv_epi8(b.v, a.v, k.m)}; }
  int32_t hsum() const { alignas(32) int32_t x[8]; store(x); int32_t r = 0; for (int i = 0; i < 8; ++i) r += x[i]; return r; }
  int32_t hmax() const { alignas(32) int32_t x[8]; store(x); int32_t r = x[0]; for (int i = 1; i < 8; ++i) r = r > x[i] ? r : x[i]; return r; }
  int32_t hmin() const { alignas(32) int32_t x[8]; store(x); int32_t r = x[0]; for (int i = 1; i < 8; ++i) r = r < x[i] ? r : x[i]; return r; }
};

template <> struct Vec<int64_t, 4> {
  static constexpr int width = 4;
  using Mask = Mask64x4;
  __m256i v;
  static Vec load(const int64_t* p) { return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))}; }
  void store(int64_t* p) const { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static Vec load_masked(const int64_t* p, Mask m, Vec other) { return m.all() ? load(p) : Vec{_mm256_blendv_epi8(other.v, _mm256_maskload_epi64(reinterpret_cast<const long long*>(p), m.m), m.m)}; }
  void store_masked(int64_t* p, Mask m) const { if (m.all()) store(p); else _mm256_maskstore_epi64(reinterpret_cast<long long*>(p), m.m, v); }
  static Vec broadcast(int64_t x) { return {_mm256_set1_epi64x(x)}; }
  static Vec iota(int64_t s) { return {_mm256_add_epi64(_mm256_set1_epi64x(s), _mm256_setr_epi64x(0, 1, 2, 3))}; }
  friend Vec operator+(Vec a, Vec b) { return {_mm256_add_epi64(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm256_sub_epi64(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { alignas(32) int64_t x[4], y[4]; a.store(x); b.store(y); for (int i = 0; i < 4; ++i) x[i] *= y[i]; return load(x); }
  friend Mask cmp_eq(Vec a, Vec b) { return {_mm256_cmpeq_epi64(a.v, b.v)}; }
  friend Mask cmp_ne(Vec a, Vec b) { return {_mm256_xor_si256(_mm256_cmpeq_epi64(a.v, b.v), _mm256_set1_epi64x(-1))}; }
  friend Mask cmp_lt(Vec a, Vec b) { return {_mm256_cmpgt_epi64(b.v, a.v)}; }
  friend Mask cmp_le(Vec a, Vec b) { return {_mm256_xor_si256(_mm256_cmpgt_epi64(a.v, b.v), _mm256_set1_epi64x(-1))}; }
  friend Mask cmp_gt(Vec a, Vec b) { return {_mm256_cmpgt_epi64(a.v, b.v)}; }
  friend Mask cmp_ge(Vec a, Vec b) { return {_mm256_xor_si256(_mm256_cmpgt_epi64(b.v, a.v), _mm256_set1_epi64x(-1))}; }
  friend Vec max(Vec a, Vec b) { return {_mm256_blendv_epi8(b.v, a.v, _mm256_cmpgt_epi64(a.v, b.v))}; }
  friend Vec min(Vec a, Vec b) { return {_mm256_blendv_epi8(a.v, b.v, _mm256_cmpgt_epi64(a.v, b.v))}; }
  friend Vec select(Mask k, Vec a, Vec b) { return {_mm256_blendv_epi8(b.v, a.v, k.m)}; }
  int64_t hsum() const { alignas(32) int64_t x[4]; store(x); return x[0] + x[1] + x[2] + x[3]; }
  int64_t hmax() const { alignas(32) int64_t x[4]; store(x); int64_t r = x[0]; for (int i = 1; i < 4; ++i) r = r > x[i] ? r : x[i]; return r; }
  int64_t hmin() const { alignas(32) int64_t x[4]; store(x); int64_t r = x[0]; for (int i = 1; i < 4; ++i) r = r < x[i] ? r : x[i]; return r; }
};

#elif defined(__ARM_NEON) && defined(__aarch64__)
// NEON goes through the lane-wise template at 16 bytes; GCC/Clang vectorize its fixed loops.
inline constexpr int kVecBytes = 16;
inline constexpr int kVecRegisters = 32;
inline constexpr bool kFusedFma = false;  // the lane-wise template's fma() is a * b + c
#else
inline constexpr int kVecBytes = 16;
inline constexpr int kVecRegisters = 16;  // SSE's xmm0-15, which the scalar template's loops may use
inline constexpr bool kFusedFma = false;
#endif

// The native width for T: a full register of T (the scalar template for types without one).
template <class T> inline constexpr int kWidth = kVecBytes / static_cast<int>(sizeof(T)) > 0 ? kVecBytes / static_cast<int>(sizeof(T)) : 1;
template <class T> using VecN = Vec<T, kWidth<T>>;

// Masks across lane types of one width (a comparison of int32 indices masking a float load):
// through bytes, which the compiler folds where the two representations agree.
template <class VTo, class M> inline typename VTo::Mask mask_as(M m) {
  if constexpr (std::is_same_v<M, typename VTo::Mask>) {
    return m;
  } else {
    uint8_t b[VTo::width];
    m.store_bytes(b);
    return VTo::Mask::from_bytes(b);
  }
}

// Lane-wise &, |, ^ of two masks of one type (`&` of i1 tiles, as in a 2-D store's row & column
// mask): bit operations on the representation, which is one bit a lane (AVX-512), all-ones or
// all-zeros lanes (AVX2, through GCC's vector operators) or a bool a lane (scalar).
template <class M, class F> inline M mask_combine(M a, M b, F f) {
  if constexpr (std::is_array_v<decltype(a.m)>) {
    M r;
    for (size_t i = 0; i < sizeof(a.m) / sizeof(a.m[0]); ++i) r.m[i] = f(a.m[i], b.m[i]);
    return r;
  } else {
    return {static_cast<decltype(a.m)>(f(a.m, b.m))};
  }
}
template <class M> inline M mask_and(M a, M b) { return mask_combine(a, b, [](auto x, auto y) { return x & y; }); }
template <class M> inline M mask_or(M a, M b) { return mask_combine(a, b, [](auto x, auto y) { return x | y; }); }
template <class M> inline M mask_xor(M a, M b) { return mask_combine(a, b, [](auto x, auto y) { return x ^ y; }); }

// ---- Half runs to float: L contiguous fp16 or bf16 elements widened into dst (tl.dot's operands;
// a conversion a lane, not an element) ----
template <int L> inline void widen_run(float* dst, const fp16* src) {
  int j = 0;
#if defined(__AVX512F__)
  for (; j + 16 <= L; j += 16) _mm512_storeu_ps(dst + j, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + j))));
#elif defined(__F16C__) && defined(__AVX__)
  for (; j + 8 <= L; j += 8) _mm256_storeu_ps(dst + j, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + j))));
#endif
  for (; j < L; ++j) dst[j] = src[j];
}
template <int L> inline void widen_run(float* dst, const bf16* src) {
  int j = 0;
#if defined(__AVX512F__)
  for (; j + 16 <= L; j += 16)
    _mm512_storeu_si512(dst + j, _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + j))), 16));
#elif defined(__AVX2__)
  for (; j + 8 <= L; j += 8)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + j),
                        _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + j))), 16));
#endif
  for (; j < L; ++j) dst[j] = src[j];
}

// Lanes l of the vector at element i of an n-element tile with 0 <= i + l < n: the partial
// vectors at the two ends of a loop whose vectors are aligned to the output's address.
template <class V> struct LaneType;
template <class T, int W> struct LaneType<Vec<T, W>> { using type = T; };
template <class V> inline typename V::Mask lanes_in(int i, int n) {
  using T = typename LaneType<V>::type;  // lane indices are exact in any lane type (tiles < 2^24)
  V lane = V::iota(static_cast<T>(i));
  return mask_and(cmp_ge(lane, V::broadcast(T(0))), cmp_lt(lane, V::broadcast(static_cast<T>(n))));
}

// Elements from p to the first address that is a multiple of W elements (0 to W - 1).
template <int W, class T> inline int lanes_to_aligned(const T* p) {
  return static_cast<int>((W - reinterpret_cast<uintptr_t>(p) / sizeof(T) % W) % W);
}

// Every lane set to `b` (a uniform i1 tile inside a vector expression).
template <class V> inline typename V::Mask mask_splat(bool b) {
  uint8_t bytes[V::width];
  std::memset(bytes, b ? 1 : 0, sizeof bytes);
  return V::Mask::from_bytes(bytes);
}

// ---- Vector float math (fp32 lanes). Measured error against a float64 reference over the whole
// float range, special values included (tests/python/test_cpu_math.py pins the bounds):
//   exp, exp2: <= 1 ulp for normal results (2 ulp where the result is subnormal); overflow to inf,
//              underflow to 0, NaN in NaN out.
//   log, log2: <= 1 ulp (log2 <= 2 ulp); subnormal inputs handled; log(0) = -inf, log(x < 0) = NaN,
//              log(inf) = inf.
//   sqrt: correctly rounded (the hardware instruction); rsqrt: 1 / sqrt(x), <= 1 ulp.
//   sin, cos: <= 2 ulp for |x| <= 8192 (reduction by pi/2 in three FMA steps); lanes of a
//             vector holding a larger magnitude, inf or NaN, and every lane where fma() is not
//             fused (the lane-wise template), go through libm like the scalar path.

// e^r for |r| <= ln(2)/2: Cephes expf's degree-6 polynomial.
template <class V> inline V exp_reduced(V r) {
  V p = V::broadcast(1.9875691500E-4f);
  p = fma(p, r, V::broadcast(1.3981999507E-3f));
  p = fma(p, r, V::broadcast(8.3334519073E-3f));
  p = fma(p, r, V::broadcast(4.1665795894E-2f));
  p = fma(p, r, V::broadcast(1.6666665459E-1f));
  p = fma(p, r, V::broadcast(5.0000001201E-1f));
  return fma(p, r * r, r) + V::broadcast(1.0f);
}

// y * 2^n for integer-valued n in [-152, 129], in two halves so that subnormal results and overflow
// to inf come out right.
template <class V> inline V scale_pow2(V y, V n) {
  V n1 = (n * V::broadcast(0.5f)).round();
  V n2 = n - n1;
  return y * n1.pow2i() * n2.pow2i();
}
#if defined(__AVX512F__)
// vscalefps does both halves in one instruction, rounding once like the second multiply above
// (the first is exact), so the results are the same bits; it is a third of exp's instructions.
template <> inline Vec<float, 16> scale_pow2(Vec<float, 16> y, Vec<float, 16> n) { return {_mm512_scalef_ps(y.v, n.v)}; }
#endif

// Cephes-style expf: n = round(x/ln2), r = x - n*ln2 (two-part ln2).
template <class V>
inline V exp_float(V x) {
  V xc = min(max(x, V::broadcast(-105.0f)), V::broadcast(89.0f));
  V n = (xc * V::broadcast(1.44269504088896341f)).round();
  V r = fma(n, V::broadcast(-0.693359375f), xc);
  r = fma(n, V::broadcast(2.12194440e-4f), r);
  return select(is_nan(x), x, scale_pow2(exp_reduced(r), n));
}

// 2^x = 2^n * e^((x - n) ln2): x - n is exact, so the error is exp_reduced's.
template <class V>
inline V exp2_float(V x) {
  V xc = min(max(x, V::broadcast(-152.0f)), V::broadcast(129.0f));
  V n = xc.round();
  V r = (xc - n) * V::broadcast(0.693147180559945309f);
  return select(is_nan(x), x, scale_pow2(exp_reduced(r), n));
}

// Cephes logf: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) by a degree-8 polynomial in m - 1,
// plus e*ln2 (two-part ln2). Subnormal x is scaled by 2^23 first.
template <class V>
inline V log_float(V x) {
  typename V::Mask sub = cmp_lt(x, V::broadcast(1.17549435e-38f));
  V xs = select(sub, x * V::broadcast(8388608.0f), x);
  V e;
  V m = xs.mantissa(e);
  e = select(sub, e - V::broadcast(23.0f), e);
  typename V::Mask big = cmp_gt(m, V::broadcast(1.41421356237f));
  m = select(big, m * V::broadcast(0.5f), m);
  e = select(big, e + V::broadcast(1.0f), e);
  V f = m - V::broadcast(1.0f);
  V z = f * f;
  V p = V::broadcast(7.0376836292E-2f);
  p = fma(p, f, V::broadcast(-1.1514610310E-1f));
  p = fma(p, f, V::broadcast(1.1676998740E-1f));
  p = fma(p, f, V::broadcast(-1.2420140846E-1f));
  p = fma(p, f, V::broadcast(1.4249322787E-1f));
  p = fma(p, f, V::broadcast(-1.6668057665E-1f));
  p = fma(p, f, V::broadcast(2.0000714765E-1f));
  p = fma(p, f, V::broadcast(-2.4999993993E-1f));
  p = fma(p, f, V::broadcast(3.3333331174E-1f));
  V y = p * f * z;
  y = fma(e, V::broadcast(-2.12194440e-4f), y);
  y = fma(z, V::broadcast(-0.5f), y);
  V r = fma(e, V::broadcast(0.693359375f), f + y);
  const float inf = std::numeric_limits<float>::infinity();
  r = select(cmp_eq(x, V::broadcast(0.0f)), V::broadcast(-inf), r);
  r = select(cmp_lt(x, V::broadcast(0.0f)), V::broadcast(std::numeric_limits<float>::quiet_NaN()), r);
  r = select(cmp_eq(x, V::broadcast(inf)), x, r);
  return select(is_nan(x), x, r);
}

// sin (Cos = false) or cos of x: q = round(x * 2/pi), r = x - q*pi/2 with pi/2 split into three
// floats (each product exact inside its FMA, so the first step is exact and the rest lose < 1 ulp
// of r for |q| < 2^13), then the sine or cosine polynomial of r chosen and signed by q mod 4.
template <bool Cos, class V>
inline V sincos_float(V x) {
  V q = (x * V::broadcast(0.636619772367581343f)).round();
  V r = fma(q, V::broadcast(-1.5707963705062866f), x);
  r = fma(q, V::broadcast(4.371138828673793e-08f), r);
  r = fma(q, V::broadcast(1.7151245100058819e-15f), r);
  V z = r * r;
  V s = fma(fma(fma(V::broadcast(-1.9515295891E-4f), z, V::broadcast(8.3321608736E-3f)), z, V::broadcast(-1.6666654611E-1f)), z * r, r);
  V c = fma(fma(fma(V::broadcast(2.443315711809948E-5f), z, V::broadcast(-1.388731625493765E-3f)), z, V::broadcast(4.166664568298827E-2f)), z * z,
            fma(z, V::broadcast(-0.5f), V::broadcast(1.0f)));
  // k = q mod 4 from floats: q/4 - 0.375 is never a tie, so round() is floor(q/4).
  V k = q - V::broadcast(4.0f) * (q * V::broadcast(0.25f) - V::broadcast(0.375f)).round();
  if constexpr (Cos) k = k + V::broadcast(1.0f);
  // sin(r + k pi/2): k = 0: s, 1: c, 2: -s, 3: -c (k = 4 is 0 again for cos).
  typename V::Mask odd = cmp_eq(k, V::broadcast(1.0f)) , neg = cmp_eq(k, V::broadcast(2.0f));
  V res = select(odd, c, s);
  res = select(cmp_eq(k, V::broadcast(3.0f)), V::broadcast(0.0f) - c, select(neg, V::broadcast(0.0f) - s, res));
  return res;
}

template <bool Cos, class T, int W>
inline Vec<T, W> sincos(Vec<T, W> x) {
  using V = Vec<T, W>;
  if constexpr (std::is_same_v<T, float> && kFusedFma) {
    V ax = max(x, V::broadcast(0.0f) - x);
    if (!(cmp_gt(ax, V::broadcast(8192.0f)).any() || is_nan(x).any())) return sincos_float<Cos>(x);
  }
  alignas(64) T a[W];
  x.store(a);
  for (int i = 0; i < W; ++i) a[i] = Cos ? std::cos(a[i]) : std::sin(a[i]);
  return V::load(a);
}

// Each function is vectorized for float lanes; other lane types go through libm lane by lane.
#define TILEC_VEC_MATH(name, float_kernel, libm)                \
  template <class T, int W> inline Vec<T, W> name(Vec<T, W> x) { \
    if constexpr (std::is_same_v<T, float>) {                    \
      return float_kernel(x);                                    \
    } else {                                                     \
      alignas(64) T a[W];                                        \
      x.store(a);                                                \
      for (int i = 0; i < W; ++i) a[i] = libm(a[i]);             \
      return Vec<T, W>::load(a);                                 \
    }                                                            \
  }
TILEC_VEC_MATH(exp, exp_float, std::exp)
TILEC_VEC_MATH(exp2, exp2_float, std::exp2)
TILEC_VEC_MATH(log, log_float, std::log)
TILEC_VEC_MATH(log2, [](auto v) { return log_float(v) * decltype(v)::broadcast(1.44269504088896341f); }, std::log2)
TILEC_VEC_MATH(sqrt, [](auto v) { return v.sqrt(); }, std::sqrt)
TILEC_VEC_MATH(rsqrt, [](auto v) { return decltype(v)::broadcast(1.0f) / v.sqrt(); }, T(1) / std::sqrt)
#undef TILEC_VEC_MATH
template <class T, int W> inline Vec<T, W> sin(Vec<T, W> x) { return sincos<false>(x); }
template <class T, int W> inline Vec<T, W> cos(Vec<T, W> x) { return sincos<true>(x); }

}  // namespace tilec_rt
