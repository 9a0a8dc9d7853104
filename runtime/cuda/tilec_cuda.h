// Device helpers every generated CUDA kernel includes (as "tilec_cuda.h", handed to NVRTC from
// memory): packed vectors, atomics by dtype, and the inline PTX of ldmatrix, cp.async, TMA and
// wgmma (tilec_wgmma.h, inlined at its #include). Its text is part of every CUDA cache key.
#pragma once
// The 16-bit float headers are NVRTC's most expensive: a kernel that uses fp16 or bf16 defines
// TILEC_HALF (and includes them) before this file; every helper on those types is guarded by it.
#ifdef TILEC_HALF
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#endif

// Small vector of T moved by one aligned access.
template <class T, int N> struct alignas(sizeof(T) * N) tc_pack { T v[N]; };

// Integer / and % as on the CPU backend: x / 0 and x % 0 are 0, MIN / -1 wraps (the hardware's
// results there differ by width and are not what the CPU gives).
template <class T, class U> __device__ __forceinline__ T tc_idiv(T a, U bu) {
  const T b = static_cast<T>(bu);
  if (b == 0) return 0;
  if (T(-1) < T(0) && b == T(-1)) return static_cast<T>(T(0) - a);
  return a / b;
}
template <class T, class U> __device__ __forceinline__ T tc_irem(T a, U bu) {
  const T b = static_cast<T>(bu);
  if (b == 0 || (T(-1) < T(0) && b == T(-1))) return 0;
  return a % b;
}

__device__ __forceinline__ float tc_div_full(float a, float b) {
  float r;
  asm("div.full.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  return r;
}

// tl.exp2 as Triton lowers it: one MUFU.EX2, subnormal inputs and results flushed to zero. exp2f
// keeps subnormals at the cost of a compare and two multiplies around it, which in flash attention's
// inner loop was a fifth of the instructions.
__device__ __forceinline__ float tc_exp2(float x) {
  float r;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(x));
  return r;
}

// Triton's fp32 libdevice.sqrt (see tilec/libdevice.cpp): within 1 ulp, not IEEE-rounded.
__device__ __forceinline__ float tc_sqrt_approx_ftz(float x) {
  float r;
  asm("sqrt.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(x));
  return r;
}

// Four one-byte elements (int8, fp8) along k, the first in the low byte: one register of an
// m16n8k32 B fragment.
template <class T> __device__ __forceinline__ unsigned tc_pack_b8x4(T a, T b, T c, T d) {
  static_assert(sizeof(T) == 1, "one-byte elements");
  auto u = [](T x) { return static_cast<unsigned>(*reinterpret_cast<const unsigned char*>(&x)); };
  return u(a) | u(b) << 8 | u(c) << 16 | u(d) << 24;
}

__device__ __forceinline__ unsigned tc_tf32(float x) {
  unsigned r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return r;
}

__device__ __forceinline__ int tc_atomic_add(int* p, int v) { return atomicAdd(p, v); }
__device__ __forceinline__ unsigned tc_atomic_add(unsigned* p, unsigned v) { return atomicAdd(p, v); }
__device__ __forceinline__ unsigned long long tc_atomic_add(unsigned long long* p, unsigned long long v) { return atomicAdd(p, v); }
__device__ __forceinline__ long long tc_atomic_add(long long* p, long long v) {
  return static_cast<long long>(atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v)));
}
__device__ __forceinline__ float tc_atomic_add(float* p, float v) { return atomicAdd(p, v); }
__device__ __forceinline__ double tc_atomic_add(double* p, double v) { return atomicAdd(p, v); }
#ifdef TILEC_HALF
__device__ __forceinline__ __half tc_atomic_add(__half* p, __half v) { return atomicAdd(p, v); }
#if __CUDA_ARCH__ >= 800
__device__ __forceinline__ __nv_bfloat16 tc_atomic_add(__nv_bfloat16* p, __nv_bfloat16 v) { return atomicAdd(p, v); }
#endif
#endif

__device__ __forceinline__ int tc_atomic_max(int* p, int v) { return atomicMax(p, v); }
__device__ __forceinline__ unsigned tc_atomic_max(unsigned* p, unsigned v) { return atomicMax(p, v); }
__device__ __forceinline__ long long tc_atomic_max(long long* p, long long v) { return atomicMax(p, v); }
__device__ __forceinline__ unsigned long long tc_atomic_max(unsigned long long* p, unsigned long long v) { return atomicMax(p, v); }
__device__ __forceinline__ int tc_atomic_min(int* p, int v) { return atomicMin(p, v); }
__device__ __forceinline__ unsigned tc_atomic_min(unsigned* p, unsigned v) { return atomicMin(p, v); }
__device__ __forceinline__ long long tc_atomic_min(long long* p, long long v) { return atomicMin(p, v); }
__device__ __forceinline__ unsigned long long tc_atomic_min(unsigned long long* p, unsigned long long v) { return atomicMin(p, v); }
// Float max/min on the integer view: non-negative floats order like signed ints, negative ones
// order reversed like unsigned ints.
__device__ __forceinline__ float tc_atomic_max(float* p, float v) {
  return v >= 0.0f ? __int_as_float(atomicMax(reinterpret_cast<int*>(p), __float_as_int(v)))
                   : __uint_as_float(atomicMin(reinterpret_cast<unsigned*>(p), __float_as_uint(v)));
}
__device__ __forceinline__ float tc_atomic_min(float* p, float v) {
  return v >= 0.0f ? __int_as_float(atomicMin(reinterpret_cast<int*>(p), __float_as_int(v)))
                   : __uint_as_float(atomicMax(reinterpret_cast<unsigned*>(p), __float_as_uint(v)));
}
__device__ __forceinline__ double tc_atomic_max(double* p, double v) {
  return v >= 0.0 ? __longlong_as_double(atomicMax(reinterpret_cast<long long*>(p), __double_as_longlong(v)))
                  : __longlong_as_double(static_cast<long long>(atomicMin(reinterpret_cast<unsigned long long*>(p),
                                                                          static_cast<unsigned long long>(__double_as_longlong(v)))));
}
__device__ __forceinline__ double tc_atomic_min(double* p, double v) {
  return v >= 0.0 ? __longlong_as_double(atomicMin(reinterpret_cast<long long*>(p), __double_as_longlong(v)))
                  : __longlong_as_double(static_cast<long long>(atomicMax(reinterpret_cast<unsigned long long*>(p),
                                                                          static_cast<unsigned long long>(__double_as_longlong(v)))));
}

#define TC_ATOMIC_BITWISE(NAME, CUDA_FN)                                                                 \
  __device__ __forceinline__ int NAME(int* p, int v) { return CUDA_FN(p, v); }                          \
  __device__ __forceinline__ unsigned NAME(unsigned* p, unsigned v) { return CUDA_FN(p, v); }           \
  __device__ __forceinline__ unsigned long long NAME(unsigned long long* p, unsigned long long v) {     \
    return CUDA_FN(p, v);                                                                               \
  }                                                                                                     \
  __device__ __forceinline__ long long NAME(long long* p, long long v) {                                \
    return static_cast<long long>(CUDA_FN(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v))); \
  }
TC_ATOMIC_BITWISE(tc_atomic_and, atomicAnd)
TC_ATOMIC_BITWISE(tc_atomic_or, atomicOr)
TC_ATOMIC_BITWISE(tc_atomic_xor, atomicXor)
#undef TC_ATOMIC_BITWISE

__device__ __forceinline__ int tc_atomic_xchg(int* p, int v) { return atomicExch(p, v); }
__device__ __forceinline__ unsigned tc_atomic_xchg(unsigned* p, unsigned v) { return atomicExch(p, v); }
__device__ __forceinline__ unsigned long long tc_atomic_xchg(unsigned long long* p, unsigned long long v) { return atomicExch(p, v); }
__device__ __forceinline__ long long tc_atomic_xchg(long long* p, long long v) {
  return static_cast<long long>(atomicExch(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v)));
}
__device__ __forceinline__ float tc_atomic_xchg(float* p, float v) { return atomicExch(p, v); }
__device__ __forceinline__ double tc_atomic_xchg(double* p, double v) {
  return __longlong_as_double(static_cast<long long>(atomicExch(reinterpret_cast<unsigned long long*>(p),
                                                                static_cast<unsigned long long>(__double_as_longlong(v)))));
}

__device__ __forceinline__ int tc_atomic_cas(int* p, int c, int v) { return atomicCAS(p, c, v); }
__device__ __forceinline__ unsigned tc_atomic_cas(unsigned* p, unsigned c, unsigned v) { return atomicCAS(p, c, v); }
__device__ __forceinline__ unsigned long long tc_atomic_cas(unsigned long long* p, unsigned long long c, unsigned long long v) {
  return atomicCAS(p, c, v);
}
__device__ __forceinline__ long long tc_atomic_cas(long long* p, long long c, long long v) {
  return static_cast<long long>(atomicCAS(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(c),
                                          static_cast<unsigned long long>(v)));
}
__device__ __forceinline__ float tc_atomic_cas(float* p, float c, float v) {
  return __int_as_float(atomicCAS(reinterpret_cast<int*>(p), __float_as_int(c), __float_as_int(v)));
}
__device__ __forceinline__ double tc_atomic_cas(double* p, double c, double v) {
  return __longlong_as_double(static_cast<long long>(atomicCAS(reinterpret_cast<unsigned long long*>(p),
                                                               static_cast<unsigned long long>(__double_as_longlong(c)),
                                                               static_cast<unsigned long long>(__double_as_longlong(v)))));
}

// ---- ldmatrix (sm_75+) ----------------------------------------------------------------------
__device__ __forceinline__ void tc_ldsm_x4(unsigned& r0, unsigned& r1, unsigned& r2, unsigned& r3, const void* p) {
  const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(a) : "memory");
}
__device__ __forceinline__ void tc_ldsm_x4_trans(unsigned& r0, unsigned& r1, unsigned& r2, unsigned& r3, const void* p) {
  const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(a) : "memory");
}
__device__ __forceinline__ void tc_ldsm_x2(unsigned& r0, unsigned& r1, const void* p) {
  const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];" : "=r"(r0), "=r"(r1) : "r"(a) : "memory");
}
#ifdef TILEC_HALF
// Two 16-bit values as one mma fragment register, the first in the low half.
__device__ __forceinline__ unsigned tc_pack2(__half lo, __half hi) {
  return static_cast<unsigned>(__half_as_ushort(lo)) | (static_cast<unsigned>(__half_as_ushort(hi)) << 16);
}
__device__ __forceinline__ unsigned tc_pack2(__nv_bfloat16 lo, __nv_bfloat16 hi) {
  return static_cast<unsigned>(__bfloat16_as_ushort(lo)) | (static_cast<unsigned>(__bfloat16_as_ushort(hi)) << 16);
}
#endif
__device__ __forceinline__ void tc_ldsm_x2_trans(unsigned& r0, unsigned& r1, const void* p) {
  const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];" : "=r"(r0), "=r"(r1) : "r"(a) : "memory");
}

// ---- Global loads and stores with PTX cache qualifiers: tl.load(cache_modifier=, eviction_policy=,
// volatile=) and tl.store(cache_modifier=, eviction_policy=). T is an element or a tc_pack of 1, 2,
// 4, 8 or 16 bytes; the "memory" clobber keeps them ordered with the kernel's plain accesses. ------
#define TC_DEFINE_LD(NAME, OP)                                                                               \
  template <class T> __device__ __forceinline__ T NAME(const T* p) {                                         \
    static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8 || sizeof(T) == 16,  \
                  "a global access of 1, 2, 4, 8 or 16 bytes");                                              \
    T v;                                                                                                      \
    if constexpr (sizeof(T) == 1) {                                                                           \
      unsigned short r;                                                                                       \
      asm volatile(OP ".b8 %0, [%1];" : "=h"(r) : "l"(p) : "memory");                                        \
      unsigned char c = static_cast<unsigned char>(r);                                                        \
      memcpy(&v, &c, 1);                                                                            \
    } else if constexpr (sizeof(T) == 2) {                                                                    \
      unsigned short r;                                                                                       \
      asm volatile(OP ".b16 %0, [%1];" : "=h"(r) : "l"(p) : "memory");                                       \
      memcpy(&v, &r, 2);                                                                            \
    } else if constexpr (sizeof(T) == 4) {                                                                    \
      unsigned r;                                                                                             \
      asm volatile(OP ".b32 %0, [%1];" : "=r"(r) : "l"(p) : "memory");                                       \
      memcpy(&v, &r, 4);                                                                            \
    } else if constexpr (sizeof(T) == 8) {                                                                    \
      unsigned long long r;                                                                                   \
      asm volatile(OP ".b64 %0, [%1];" : "=l"(r) : "l"(p) : "memory");                                       \
      memcpy(&v, &r, 8);                                                                            \
    } else {                                                                                                  \
      uint4 r;                                                                                                \
      asm volatile(OP ".v4.b32 {%0, %1, %2, %3}, [%4];" : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w) : "l"(p) \
                   : "memory");                                                                               \
      memcpy(&v, &r, 16);                                                                           \
    }                                                                                                         \
    return v;                                                                                                 \
  }
#define TC_DEFINE_ST(NAME, OP)                                                                               \
  template <class T, class V> __device__ __forceinline__ void NAME(T* p, const V& value) {                   \
    static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8 || sizeof(T) == 16,  \
                  "a global access of 1, 2, 4, 8 or 16 bytes");                                              \
    const T v = value;                                                                                        \
    if constexpr (sizeof(T) == 1) {                                                                           \
      unsigned char c;                                                                                        \
      memcpy(&c, &v, 1);                                                                            \
      asm volatile(OP ".b8 [%0], %1;" ::"l"(p), "h"(static_cast<unsigned short>(c)) : "memory");             \
    } else if constexpr (sizeof(T) == 2) {                                                                    \
      unsigned short r;                                                                                       \
      memcpy(&r, &v, 2);                                                                            \
      asm volatile(OP ".b16 [%0], %1;" ::"l"(p), "h"(r) : "memory");                                         \
    } else if constexpr (sizeof(T) == 4) {                                                                    \
      unsigned r;                                                                                             \
      memcpy(&r, &v, 4);                                                                            \
      asm volatile(OP ".b32 [%0], %1;" ::"l"(p), "r"(r) : "memory");                                         \
    } else if constexpr (sizeof(T) == 8) {                                                                    \
      unsigned long long r;                                                                                   \
      memcpy(&r, &v, 8);                                                                            \
      asm volatile(OP ".b64 [%0], %1;" ::"l"(p), "l"(r) : "memory");                                         \
    } else {                                                                                                  \
      uint4 r;                                                                                                \
      memcpy(&r, &v, 16);                                                                           \
      asm volatile(OP ".v4.b32 [%0], {%1, %2, %3, %4};" ::"l"(p), "r"(r.x), "r"(r.y), "r"(r.z), "r"(r.w)     \
                   : "memory");                                                                               \
    }                                                                                                         \
  }
TC_DEFINE_LD(tc_ld_ca, "ld.global.ca")
TC_DEFINE_LD(tc_ld_cg, "ld.global.cg")
TC_DEFINE_LD(tc_ld_cv, "ld.global.cv")
TC_DEFINE_LD(tc_ld_evict_first, "ld.global.L1::evict_first")
TC_DEFINE_LD(tc_ld_evict_last, "ld.global.L1::evict_last")
TC_DEFINE_LD(tc_ld_volatile, "ld.volatile.global")
TC_DEFINE_ST(tc_st_wb, "st.global.wb")
TC_DEFINE_ST(tc_st_cg, "st.global.cg")
TC_DEFINE_ST(tc_st_cs, "st.global.cs")
TC_DEFINE_ST(tc_st_wt, "st.global.wt")
TC_DEFINE_ST(tc_st_evict_first, "st.global.L1::evict_first")
TC_DEFINE_ST(tc_st_evict_last, "st.global.L1::evict_last")
#undef TC_DEFINE_LD
#undef TC_DEFINE_ST

// tl.device_print(hex=True): an element's bits.
template <class T> __device__ __forceinline__ unsigned long long tc_print_bits(const T& x) {
  unsigned long long r = 0;
  memcpy(&r, &x, sizeof(T) < 8 ? sizeof(T) : 8);
  return r;
}

// ---- cp.async (sm_80+): 16-byte global -> shared copies; a false predicate writes zeros -------
#if __CUDA_ARCH__ >= 800
__device__ __forceinline__ void tc_cp_async16(unsigned dst, const void* src, bool pred) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(dst), "l"(src), "r"(pred ? 16 : 0) : "memory");
}
// One 4-byte element: a tf32 operand copied into the transposed (K-major) rows wgmma reads.
__device__ __forceinline__ void tc_cp_async4(unsigned dst, const void* src, bool pred) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" :: "r"(dst), "l"(src), "r"(pred ? 4 : 0) : "memory");
}
__device__ __forceinline__ void tc_cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N> __device__ __forceinline__ void tc_cp_async_wait() { asm volatile("cp.async.wait_group %0;" :: "n"(N) : "memory"); }
#endif

__device__ __forceinline__ unsigned tc_smem_addr(const void* p) { return static_cast<unsigned>(__cvta_generic_to_shared(p)); }

// ---- TMA (sm_90+): tensor-map copies global -> shared, completed on an mbarrier ----------------
#ifdef TILEC_TMA
// A CUtensorMap as the launcher encodes it (cuTensorMapEncodeTiled): 128 opaque bytes.
struct alignas(64) tc_tensormap {
  unsigned long long bits[16];
};
__device__ __forceinline__ void tc_mbar_init(unsigned bar, unsigned count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void tc_mbar_inval(unsigned bar) { asm volatile("mbarrier.inval.shared::cta.b64 [%0];" :: "r"(bar) : "memory"); }
// Makes the initialized barriers visible to the async proxy (TMA's completions).
__device__ __forceinline__ void tc_fence_mbar_init() { asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory"); }
// The issuing thread's arrival, announcing the bytes the phase's copies will deliver.
__device__ __forceinline__ void tc_mbar_expect_tx(unsigned bar, unsigned bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void tc_mbar_wait(unsigned bar, unsigned parity) {
  unsigned done;
  do {
    asm volatile("{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}"
                 : "=r"(done) : "r"(bar), "r"(parity) : "memory");
  } while (!done);
}
// Box copies of `map`, coordinates innermost first (1 to 5 dims). Loads complete on `bar`;
// elements outside the tensor arrive as zeros (or NaN, as the map says). Stores skip them and
// complete in a bulk group (tc_bulk_commit, tc_bulk_wait_read).
__device__ __forceinline__ void tc_tma_load(unsigned dst, const tc_tensormap* map, unsigned bar, int c0) {
  asm volatile("cp.async.bulk.tensor.1d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%3}], [%2];"
               :: "r"(dst), "l"(reinterpret_cast<unsigned long long>(map)), "r"(bar), "r"(c0) : "memory");
}
__device__ __forceinline__ void tc_tma_load(unsigned dst, const tc_tensormap* map, unsigned bar, int c0, int c1) {
  asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4}], [%2];"
               :: "r"(dst), "l"(reinterpret_cast<unsigned long long>(map)), "r"(bar), "r"(c0), "r"(c1) : "memory");
}
__device__ __forceinline__ void tc_tma_load(unsigned dst, const tc_tensormap* map, unsigned bar, int c0, int c1, int c2) {
  asm volatile("cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5}], [%2];"
               :: "r"(dst), "l"(reinterpret_cast<unsigned long long>(map)), "r"(bar), "r"(c0), "r"(c1), "r"(c2) : "memory");
}
__device__ __forceinline__ void tc_tma_load(unsigned dst, const tc_tensormap* map, unsigned bar, int c0, int c1, int c2, int c3) {
  asm volatile("cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5, %6}], [%2];"
               :: "r"(dst), "l"(reinterpret_cast<unsigned long long>(map)), "r"(bar), "r"(c0), "r"(c1), "r"(c2), "r"(c3) : "memory");
}
__device__ __forceinline__ void tc_tma_load(unsigned dst, const tc_tensormap* map, unsigned bar, int c0, int c1, int c2, int c3, int c4) {
  asm volatile("cp.async.bulk.tensor.5d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5, %6, %7}], [%2];"
               :: "r"(dst), "l"(reinterpret_cast<unsigned long long>(map)), "r"(bar), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(c4) : "memory");
}
__device__ __forceinline__ void tc_tma_store(const tc_tensormap* map, unsigned src, int c0) {
  asm volatile("cp.async.bulk.tensor.1d.global.shared::cta.tile.bulk_group [%0, {%2}], [%1];"
               :: "l"(reinterpret_cast<unsigned long long>(map)), "r"(src), "r"(c0) : "memory");
}
__device__ __forceinline__ void tc_tma_store(const tc_tensormap* map, unsigned src, int c0, int c1) {
  asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.tile.bulk_group [%0, {%2, %3}], [%1];"
               :: "l"(reinterpret_cast<unsigned long long>(map)), "r"(src), "r"(c0), "r"(c1) : "memory");
}
__device__ __forceinline__ void tc_tma_store(const tc_tensormap* map, unsigned src, int c0, int c1, int c2) {
  asm volatile("cp.async.bulk.tensor.3d.global.shared::cta.tile.bulk_group [%0, {%2, %3, %4}], [%1];"
               :: "l"(reinterpret_cast<unsigned long long>(map)), "r"(src), "r"(c0), "r"(c1), "r"(c2) : "memory");
}
__device__ __forceinline__ void tc_tma_store(const tc_tensormap* map, unsigned src, int c0, int c1, int c2, int c3) {
  asm volatile("cp.async.bulk.tensor.4d.global.shared::cta.tile.bulk_group [%0, {%2, %3, %4, %5}], [%1];"
               :: "l"(reinterpret_cast<unsigned long long>(map)), "r"(src), "r"(c0), "r"(c1), "r"(c2), "r"(c3) : "memory");
}
__device__ __forceinline__ void tc_tma_store(const tc_tensormap* map, unsigned src, int c0, int c1, int c2, int c3, int c4) {
  asm volatile("cp.async.bulk.tensor.5d.global.shared::cta.tile.bulk_group [%0, {%2, %3, %4, %5, %6}], [%1];"
               :: "l"(reinterpret_cast<unsigned long long>(map)), "r"(src), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(c4) : "memory");
}
__device__ __forceinline__ void tc_bulk_commit() { asm volatile("cp.async.bulk.commit_group;" ::: "memory"); }
// The bulk stores issued have read their shared memory, which may then be reused.
__device__ __forceinline__ void tc_bulk_wait_read() { asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory"); }
// Orders this thread's shared-memory writes before a later TMA (async proxy) read of them.
__device__ __forceinline__ void tc_fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;" ::: "memory"); }
#endif

// ---- failed checks ---------------------------------------------------------------------------
#ifdef TILEC_FAILURE_RECORD
// Debug mode and tl.device_assert: the first failed check of a launch, read and cleared by the
// launcher (jit/kernel.cpp), which words it with tc_failure_text. Layout shared with the host.
struct TcFailure {
  unsigned flag;  // 0: no failure yet
  int check;      // index into tc_failure_text
  int pid[3];
  int pad;
  long long offset, extent, index;
};
extern "C" { __device__ TcFailure tc_failure; }
__device__ __forceinline__ void tc_fail(int check, long long offset, long long extent, long long index) {
  if (atomicCAS(&tc_failure.flag, 0u, 1u) != 0u) return;
  tc_failure.check = check;
  tc_failure.pid[0] = blockIdx.x;
  tc_failure.pid[1] = blockIdx.y;
  tc_failure.pid[2] = blockIdx.z;
  tc_failure.offset = offset;
  tc_failure.extent = extent;
  tc_failure.index = index;
}
#endif

// ---- wgmma (sm_90a): runtime/cuda/tilec_wgmma.h, inlined here when CMake embeds this header --
#include "tilec_wgmma.h"
