// Input: none (header-only, C++17, included once by each generated CPU kernel after tilec_vec.h).
// Output: scalar math by dtype, C-semantics integer division, atomics on raw pointers, the assert flag.
#pragma once
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <type_traits>
#if defined(__linux__)
#include <sys/syscall.h>  // amx_permitted's arch_prctl
#include <unistd.h>
#endif

#include "runtime/cpu/tilec_vec.h"

namespace tilec_rt {

// ---- Scalar math: half types compute in float, like Triton's libdevice wrappers ----

template <class T> using MathT = std::conditional_t<is_narrow_float_v<T>, float, T>;

#define TILEC_MATH1(name, expr)                                              \
  template <class T> inline T name(T x) {                                    \
    using M = std::conditional_t<std::is_floating_point_v<MathT<T>>, MathT<T>, double>; \
    M v = static_cast<M>(static_cast<MathT<T>>(x));                         \
    return static_cast<T>(expr);                                             \
  }
TILEC_MATH1(exp_, std::exp(v))
TILEC_MATH1(exp2_, std::exp2(v))
TILEC_MATH1(log_, std::log(v))
TILEC_MATH1(log2_, std::log2(v))
TILEC_MATH1(sqrt_, std::sqrt(v))
TILEC_MATH1(rsqrt_, M(1) / std::sqrt(v))
TILEC_MATH1(sin_, std::sin(v))
TILEC_MATH1(cos_, std::cos(v))
TILEC_MATH1(erf_, std::erf(v))
TILEC_MATH1(floor_, std::floor(v))
TILEC_MATH1(ceil_, std::ceil(v))
#undef TILEC_MATH1

template <class T> inline T abs_(T x) {
  if constexpr (std::is_unsigned_v<T>) return x;
  else if constexpr (std::is_integral_v<T>) return static_cast<T>(x < 0 ? -x : x);
  else return static_cast<T>(std::fabs(static_cast<MathT<T>>(x)));
}

// Floats: fmax/fmin (a NaN operand yields the other one), Triton's propagate_nan=NONE.
template <class T> inline T max_(T a, T b) {
  if constexpr (std::is_integral_v<T>) return a > b ? a : b;
  else return static_cast<T>(std::fmax(static_cast<MathT<T>>(a), static_cast<MathT<T>>(b)));
}
template <class T> inline T min_(T a, T b) {
  if constexpr (std::is_integral_v<T>) return a < b ? a : b;
  else return static_cast<T>(std::fmin(static_cast<MathT<T>>(a), static_cast<MathT<T>>(b)));
}

// Integer division truncates toward zero (C); a zero divisor or INT_MIN / -1 yields 0 rather than
// trapping, because a masked-out lane may still compute it.
template <class T> inline T div_(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    if (b == 0) return 0;
    if constexpr (std::is_signed_v<T>) if (b == -1) return static_cast<T>(0 - static_cast<std::make_unsigned_t<T>>(a));
    return static_cast<T>(a / b);
  } else {
    return static_cast<T>(static_cast<MathT<T>>(a) / static_cast<MathT<T>>(b));
  }
}
template <class T> inline T rem_(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    if (b == 0) return 0;
    if constexpr (std::is_signed_v<T>) if (b == -1) return 0;
    return static_cast<T>(a % b);
  } else {
    return static_cast<T>(std::fmod(static_cast<MathT<T>>(a), static_cast<MathT<T>>(b)));
  }
}
// Shift counts are masked to the width so that no shift is undefined behaviour.
template <class T> inline T shl_(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) << (static_cast<U>(b) & (sizeof(T) * 8 - 1)));
}
template <class T> inline T shr_(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(a >> (static_cast<U>(b) & (sizeof(T) * 8 - 1)));
}

// Numeric conversion: float -> int truncates toward zero, NaN and out-of-range give 0 / saturate
// instead of UB; anything -> bool is != 0.
template <class To, class From> inline To cast_(From x) {
  using FM = MathT<From>;
  if constexpr (std::is_same_v<To, bool>) {
    return static_cast<FM>(x) != FM(0);
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<FM>) {
    FM v = static_cast<FM>(x);
    if (!(v == v)) return 0;
    if (v <= static_cast<FM>(std::numeric_limits<To>::min())) return std::numeric_limits<To>::min();
    if (v >= static_cast<FM>(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(v);
  } else if constexpr (is_narrow_float_v<To>) {
    return To(static_cast<float>(static_cast<FM>(x)));
  } else {
    return static_cast<To>(static_cast<FM>(x));
  }
}

// ---- Atomics on raw pointers (sequentially consistent, like Triton's default acq_rel) ----

template <class T> inline T atomic_add(T* p, T v) {
  if constexpr (std::is_integral_v<T>) {
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
  } else {
    using B = std::conditional_t<sizeof(T) == 8, uint64_t, std::conditional_t<sizeof(T) == 4, uint32_t, uint16_t>>;
    B* bp = reinterpret_cast<B*>(p);
    B old = __atomic_load_n(bp, __ATOMIC_RELAXED);
    for (;;) {
      T o;
      std::memcpy(&o, &old, sizeof(T));
      T n = static_cast<T>(static_cast<MathT<T>>(o) + static_cast<MathT<T>>(v));
      B nb;
      std::memcpy(&nb, &n, sizeof(T));
      if (__atomic_compare_exchange_n(bp, &old, nb, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) return o;
    }
  }
}

// Max/min through a CAS loop for every type; floats use fmax/fmin semantics.
template <class T, bool IsMax> inline T atomic_minmax(T* p, T v) {
  using B = std::conditional_t<sizeof(T) == 8, uint64_t, std::conditional_t<sizeof(T) == 4, uint32_t, uint16_t>>;
  B* bp = reinterpret_cast<B*>(p);
  B old = __atomic_load_n(bp, __ATOMIC_RELAXED);
  for (;;) {
    T o;
    std::memcpy(&o, &old, sizeof(T));
    T n = IsMax ? max_(o, v) : min_(o, v);
    B nb;
    std::memcpy(&nb, &n, sizeof(T));
    if (nb == old) return o;
    if (__atomic_compare_exchange_n(bp, &old, nb, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) return o;
  }
}
template <class T> inline T atomic_max(T* p, T v) { return atomic_minmax<T, true>(p, v); }
// Integers only (ir_gen checks). Every CPU atomic is sequentially consistent, which is at least
// as strong as any sem= and scope= a kernel asks for.
template <class T> inline T atomic_and(T* p, T v) { return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }
template <class T> inline T atomic_or(T* p, T v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
template <class T> inline T atomic_xor(T* p, T v) { return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST); }
template <class T> inline T atomic_min(T* p, T v) { return atomic_minmax<T, false>(p, v); }

template <class T> inline T atomic_xchg(T* p, T v) {
  using B = std::conditional_t<sizeof(T) == 8, uint64_t, std::conditional_t<sizeof(T) == 4, uint32_t, std::conditional_t<sizeof(T) == 2, uint16_t, uint8_t>>>;
  B nb, ob;
  std::memcpy(&nb, &v, sizeof(T));
  ob = __atomic_exchange_n(reinterpret_cast<B*>(p), nb, __ATOMIC_SEQ_CST);
  T o;
  std::memcpy(&o, &ob, sizeof(T));
  return o;
}

// Bitwise compare-and-swap (like the GPU's): returns the old value whether or not it swapped.
template <class T> inline T atomic_cas(T* p, T cmp, T v) {
  using B = std::conditional_t<sizeof(T) == 8, uint64_t, std::conditional_t<sizeof(T) == 4, uint32_t, uint16_t>>;
  B cb, nb;
  std::memcpy(&cb, &cmp, sizeof(T));
  std::memcpy(&nb, &v, sizeof(T));
  __atomic_compare_exchange_n(reinterpret_cast<B*>(p), &cb, nb, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  T o;
  std::memcpy(&o, &cb, sizeof(T));
  return o;
}

// ---- tl.dot: c_out (MxN) = c_in + a (MxK) * b (KxN), row-major; inputs already converted to T ----
// a and b are the K block's packed tiles (the code generator fills them from the loads, once per K
// block); c_in may be c_out.

#if defined(__clang__)
#define TILEC_UNROLL _Pragma("unroll")
#else
#define TILEC_UNROLL _Pragma("GCC unroll 16")
#endif

// Micro-kernel: an MR x (NV*W) block of c stays in MR*NV vector registers for the whole K block;
// each k costs NV vector loads of b's row and MR broadcasts of a's column for MR*NV FMAs.
template <class T, int W, int MR, int NV, int N, int K>
inline void dot_tile(const T* a, const T* b, const T* c_in, T* c_out) {
  using V = Vec<T, W>;
  V acc[MR][NV];
  TILEC_UNROLL for (int ii = 0; ii < MR; ++ii)
    TILEC_UNROLL for (int jj = 0; jj < NV; ++jj) acc[ii][jj] = V::load(c_in + ii * N + jj * W);
  for (int k = 0; k < K; ++k) {
    V bv[NV];
    TILEC_UNROLL for (int jj = 0; jj < NV; ++jj) bv[jj] = V::load(b + k * N + jj * W);
    TILEC_UNROLL for (int ii = 0; ii < MR; ++ii) {
      V av = V::broadcast(a[ii * K + k]);
      TILEC_UNROLL for (int jj = 0; jj < NV; ++jj) acc[ii][jj] = fma(av, bv[jj], acc[ii][jj]);
    }
  }
  TILEC_UNROLL for (int ii = 0; ii < MR; ++ii)
    TILEC_UNROLL for (int jj = 0; jj < NV; ++jj) acc[ii][jj].store(c_out + ii * N + jj * W);
}

// Rows in blocks of MR (a's rows stay in L1 while the block sweeps b), the last M % MR rows with a
// micro-kernel of that height.
template <class T, int W, int MR, int NV, int M, int N, int K>
inline void dot_rows(const T* a, const T* b, const T* c_in, T* c_out) {
  constexpr int MF = M - M % MR;
  for (int i = 0; i < MF; i += MR)
    for (int j = 0; j < N; j += NV * W) dot_tile<T, W, MR, NV, N, K>(a + i * K, b + j, c_in + i * N + j, c_out + i * N + j);
  if constexpr (M % MR != 0)
    for (int j = 0; j < N; j += NV * W)
      dot_tile<T, W, M % MR, NV, N, K>(a + MF * K, b + j, c_in + MF * N + j, c_out + MF * N + j);
}

// Vectors per micro-kernel row: the most of 4, 2, 1 that divide the row and leave room for at
// least 6 rows of accumulators (4 with 32 registers, 2 with 16).
template <int Vectors> constexpr int dot_row_vectors() {
  constexpr int cap = kVecRegisters >= 32 ? 4 : 2;
  return Vectors % 4 == 0 && cap >= 4 ? 4 : Vectors % 2 == 0 ? 2 : 1;
}

// Micro-kernel rows for NV vectors a row: accumulators, b's NV vectors and one broadcast fill the
// register file; more than 8 rows gain nothing once the FMA latency is covered.
template <int NV> constexpr int dot_rows_per_block() { return (kVecRegisters - NV - 1) / NV < 8 ? (kVecRegisters - NV - 1) / NV : 8; }

template <class T, int M, int N, int K>
inline void dot(const T* a, const T* b, const T* c_in, T* c_out) {
  if constexpr ((std::is_same_v<T, float> || std::is_same_v<T, double>) && N % kWidth<T> == 0) {
    constexpr int W = kWidth<T>;
    constexpr int NV = dot_row_vectors<N / W>(), MR = dot_rows_per_block<NV>();
    dot_rows<T, W, MR, NV, M, N, K>(a, b, c_in, c_out);
  } else {
    if (c_in != c_out) std::memcpy(c_out, c_in, sizeof(T) * M * N);
    for (int i = 0; i < M; ++i)
      for (int k = 0; k < K; ++k) {
        T av = a[i * K + k];
        for (int j = 0; j < N; ++j) c_out[i * N + j] += av * b[k * N + j];
      }
  }
}

// bf16 x bf16 accumulated in float. With AVX512-BF16 (the host's -march=native has it or not:
// these #ifs are the one place that decides) vdpbf16ps multiplies pairs of k at once: b is packed
// into [K/2][N] pairs of rows once per call, a's pairs are adjacent already; the micro-kernel is
// dot_tile's, two k a step. With AMX-BF16 too, and Linux granting the process AMX's tile state,
// tdpbf16ps multiplies 16 x 32 by 32 x 16 tiles from the same packed b (AMX's "VNNI" layout).
// Both instructions flush subnormal inputs to zero and round each pair's sum once; the fallback
// widens both operands to float for dot(). TILEC_NO_AMX (TILEC_CPU_ISA=avx512) keeps the AVX-512 path.
#if defined(__AMX_TILE__) && defined(__AMX_BF16__) && defined(__AVX512BF16__) && defined(__linux__) && !defined(TILEC_NO_AMX)
#define TILEC_AMX 1

// Linux (5.16+) gives a process AMX's tile data registers only once it asks (arch_prctl
// ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); without that tileloadd faults. Asked once per kernel.
inline bool amx_permitted() {
  static const bool ok = syscall(SYS_arch_prctl, 0x1023, 18) == 0;
  return ok;
}

// c_out (M x N) = c_in + a * b on AMX, 32 x 32 blocks of c: tiles 0-3 hold the four 16 x 16 fp32
// accumulators, 4-5 the block's two 16 x 32 strips of a, 6-7 its two 16-pair x 16 strips of bp.
template <int M, int N, int K>
inline void dot_bf16_amx(const bf16* a, const uint32_t* bp, const float* c_in, float* c_out) {
  struct alignas(64) {
    uint8_t palette = 1, start_row = 0, reserved[14] = {};
    uint16_t colsb[16] = {64, 64, 64, 64, 64, 64, 64, 64};
    uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
  } config;
  _tile_loadconfig(&config);
  for (int i = 0; i < M; i += 32)
    for (int j = 0; j < N; j += 32) {
      _tile_loadd(0, c_in + i * N + j, N * 4);
      _tile_loadd(1, c_in + i * N + j + 16, N * 4);
      _tile_loadd(2, c_in + (i + 16) * N + j, N * 4);
      _tile_loadd(3, c_in + (i + 16) * N + j + 16, N * 4);
      for (int k = 0; k < K; k += 32) {
        _tile_loadd(4, a + i * K + k, K * 2);
        _tile_loadd(5, a + (i + 16) * K + k, K * 2);
        _tile_loadd(6, bp + k / 2 * N + j, N * 4);
        _tile_loadd(7, bp + k / 2 * N + j + 16, N * 4);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      }
      _tile_stored(0, c_out + i * N + j, N * 4);
      _tile_stored(1, c_out + i * N + j + 16, N * 4);
      _tile_stored(2, c_out + (i + 16) * N + j, N * 4);
      _tile_stored(3, c_out + (i + 16) * N + j + 16, N * 4);
    }
  _tile_release();
}
#endif

#if defined(__AVX512BF16__) && defined(__AVX512F__)
template <int MR, int NV, int N, int KP>
inline void dot_tile_bf16(const uint32_t* a, const uint32_t* b, const float* c_in, float* c_out) {
  __m512 acc[MR][NV];
  TILEC_UNROLL for (int ii = 0; ii < MR; ++ii)
    TILEC_UNROLL for (int jj = 0; jj < NV; ++jj) acc[ii][jj] = _mm512_loadu_ps(c_in + ii * N + jj * 16);
  for (int p = 0; p < KP; ++p) {
    __m512bh bv[NV];
    TILEC_UNROLL for (int jj = 0; jj < NV; ++jj) bv[jj] = (__m512bh)_mm512_loadu_si512(b + p * N + jj * 16);
    TILEC_UNROLL for (int ii = 0; ii < MR; ++ii) {
      __m512bh av = (__m512bh)_mm512_set1_epi32(static_cast<int>(a[ii * KP + p]));
      TILEC_UNROLL for (int jj = 0; jj < NV; ++jj) acc[ii][jj] = _mm512_dpbf16_ps(acc[ii][jj], av, bv[jj]);
    }
  }
  TILEC_UNROLL for (int ii = 0; ii < MR; ++ii)
    TILEC_UNROLL for (int jj = 0; jj < NV; ++jj) _mm512_storeu_ps(c_out + ii * N + jj * 16, acc[ii][jj]);
}
#endif

template <int M, int N, int K>
inline void dot_bf16(const bf16* a, const bf16* b, const float* c_in, float* c_out) {
#if defined(__AVX512BF16__) && defined(__AVX512F__)
  if constexpr (K % 2 == 0 && N % 16 == 0) {
    constexpr int KP = K / 2, NV = dot_row_vectors<N / 16>(), MR = dot_rows_per_block<NV>();
    alignas(64) uint32_t bp[KP * N];
    for (int p = 0; p < KP; ++p)
      for (int j = 0; j < N; j += 16) {
        __m512i lo = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2 * p * N + j)));
        __m512i hi = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + (2 * p + 1) * N + j)));
        _mm512_store_si512(bp + p * N + j, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
      }
#ifdef TILEC_AMX
    if constexpr (M % 32 == 0 && N % 32 == 0 && K % 32 == 0)
      if (amx_permitted()) return dot_bf16_amx<M, N, K>(a, bp, c_in, c_out);
#endif
    // a's row i is KP pairs already: a[i * K + 2p], a[i * K + 2p + 1] are adjacent.
    alignas(64) uint32_t ap[M * KP];
    std::memcpy(ap, a, sizeof ap);
    constexpr int MF = M - M % MR;
    for (int i = 0; i < MF; i += MR)
      for (int j = 0; j < N; j += NV * 16) dot_tile_bf16<MR, NV, N, KP>(ap + i * KP, bp + j, c_in + i * N + j, c_out + i * N + j);
    if constexpr (M % MR != 0)
      for (int j = 0; j < N; j += NV * 16) dot_tile_bf16<M % MR, NV, N, KP>(ap + MF * KP, bp + j, c_in + MF * N + j, c_out + MF * N + j);
    return;
  }
#endif
  alignas(64) float af[M * K], bf[K * N];
  widen_run<M * K>(af, a);
  widen_run<K * N>(bf, b);
  dot<float, M, N, K>(af, bf, c_in, c_out);
}

// ---- Row reductions (tl.sum / tl.max / tl.min over a contiguous last axis of N elements) ----
// load(k) yields the W lanes at k (the consumer-fused element expression). U independent
// accumulators, combined at the end, hide the add/max latency that one chain of N / W dependent
// vector ops would expose (a 1024-float softmax row: 64 chained adds at 3-4 cycles each).

template <int N, int W> constexpr int reduce_chains() { return (N / W) % 4 == 0 ? 4 : (N / W) % 2 == 0 ? 2 : 1; }

template <class V, int N, class Load> inline auto row_sum(Load load) {
  constexpr int W = V::width, U = reduce_chains<N, W>();
  V acc[U];
  TILEC_UNROLL for (int u = 0; u < U; ++u) acc[u] = V::broadcast(0);
  for (int k = 0; k < N; k += U * W)
    TILEC_UNROLL for (int u = 0; u < U; ++u) acc[u] = acc[u] + load(k + u * W);
  TILEC_UNROLL for (int u = 1; u < U; ++u) acc[0] = acc[0] + acc[u];
  return acc[0].hsum();
}

// Max (IsMax) or min from `identity`; for floats a NaN lane anywhere makes the result NaN, like
// NumPy, tracked in a mask beside the accumulators rather than tested per vector.
template <class V, int N, bool IsMax, bool Float, class T, class Load> inline T row_minmax(Load load, T identity) {
  constexpr int W = V::width, U = reduce_chains<N, W>();
  V acc[U];
  TILEC_UNROLL for (int u = 0; u < U; ++u) acc[u] = V::broadcast(identity);
  typename V::Mask nan = mask_splat<V>(false);
  for (int k = 0; k < N; k += U * W)
    TILEC_UNROLL for (int u = 0; u < U; ++u) {
      V x = load(k + u * W);
      if constexpr (Float) nan = mask_or(nan, is_nan(x));
      acc[u] = IsMax ? max(acc[u], x) : min(acc[u], x);
    }
  TILEC_UNROLL for (int u = 1; u < U; ++u) acc[0] = IsMax ? max(acc[0], acc[u]) : min(acc[0], acc[u]);
  if constexpr (Float)
    if (nan.any()) return std::numeric_limits<T>::quiet_NaN();
  return IsMax ? acc[0].hmax() : acc[0].hmin();
}

// ---- tl.device_print(hex=True): an element's bits ----
template <class T> inline unsigned long long print_bits(const T& x) {
  unsigned long long r = 0;
  std::memcpy(&r, &x, sizeof(T) < 8 ? sizeof(T) : 8);
  return r;
}

// ---- Device assertions: reported, counted, never fatal (the launcher reads the count and the
// first failure's text, which becomes the launch's error) ----
// Internal linkage: each kernel library keeps its own record. As inline functions their statics
// were STB_GNU_UNIQUE, one instance for every kernel loaded, owned by the first library: after it
// was unloaded the next kernel's failure text read freed memory.
namespace {

std::atomic<int>& assert_failures() {
  static std::atomic<int> n{0};
  return n;
}

// A spin lock and a fixed buffer, not std::mutex and std::string: <mutex> and <string> were a
// third of every kernel's compile time, and the lock is taken only on a failure or by the launcher.
struct FirstFailure {
  std::atomic_flag busy = ATOMIC_FLAG_INIT;
  char text[1024] = {};
};
FirstFailure& first_failure() {
  static FirstFailure f;
  return f;
}

struct FailureLock {
  explicit FailureLock(FirstFailure& f) : f(f) {
    while (f.busy.test_and_set(std::memory_order_acquire)) {
    }
  }
  ~FailureLock() { f.busy.clear(std::memory_order_release); }
  FirstFailure& f;
};

// Keeps `text` if it is the first failure since the launcher last took one; true when it is.
bool record_failure(const char* text) {
  assert_failures().fetch_add(1, std::memory_order_relaxed);
  FirstFailure& f = first_failure();
  FailureLock lock(f);
  if (f.text[0] != '\0') return false;
  std::snprintf(f.text, sizeof f.text, "%s", text);
  return true;
}

void assert_fail(const char* msg, const char* where, int32_t pid0, int32_t pid1, int32_t pid2, int64_t index) {
  char text[1024];
  std::snprintf(text, sizeof text, "%s: device assertion failed in program (%d, %d, %d) at index %lld: %s", where, pid0,
                pid1, pid2, static_cast<long long>(index), msg);
  record_failure(text);
  std::fprintf(stderr, "%s\n", text);
}

// A debug-mode bounds check failed; only the first one is printed, since a bad tile fails in every lane.
void bounds_fail(const char* msg, int32_t pid0, int32_t pid1, int32_t pid2, int64_t offset, int64_t extent) {
  char text[1024];
  std::snprintf(text, sizeof text, "%s: element offset %lld is outside the buffer of %lld elements (program (%d, %d, %d))",
                msg, static_cast<long long>(offset), static_cast<long long>(extent), pid0, pid1, pid2);
  if (record_failure(text)) std::fprintf(stderr, "%s\n", text);
}

// Copies the first failure since the last call into buf (NUL-terminated) and forgets it.
int take_failure(char* buf, int size) {
  FirstFailure& f = first_failure();
  FailureLock lock(f);
  int n = std::snprintf(buf, static_cast<size_t>(size), "%s", f.text);
  f.text[0] = '\0';
  return n;
}

}  // namespace

// True when every byte of a mask tile is non-zero: selects the unmasked fast path.
template <int N> inline bool all_true(const uint8_t* m) {
  uint8_t acc = 1;
  for (int i = 0; i < N; ++i) acc &= static_cast<uint8_t>(m[i] != 0);
  return acc != 0;
}
template <int N> inline bool any_true(const uint8_t* m) {
  uint8_t acc = 0;
  for (int i = 0; i < N; ++i) acc |= m[i];
  return acc != 0;
}

// ---- libdevice functions without a <cmath> spelling (tilec/libdevice.cpp names them) ----

namespace ld {
template <class T> inline T div(T a, T b) { return a / b; }
template <class T> inline T exp10(T x) { return std::pow(T(10), x); }
// Inverse error function: Giles' single-precision approximation, then two Newton steps on erf.
template <class T> inline T erfinv(T x) {
  if (x <= T(-1)) return x == T(-1) ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::quiet_NaN();
  if (x >= T(1)) return x == T(1) ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::quiet_NaN();
  double xd = static_cast<double>(x);
  double w = -std::log((1.0 - xd) * (1.0 + xd)), p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941})
      p = c + p * w;
  } else {
    w = std::sqrt(w) - 3.0;
    p = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682})
      p = c + p * w;
  }
  double y = p * xd;
  for (int i = 0; i < 2; ++i) y -= (std::erf(y) - xd) / (1.1283791670955126 * std::exp(-y * y));
  return static_cast<T>(y);
}
}  // namespace ld

}  // namespace tilec_rt
