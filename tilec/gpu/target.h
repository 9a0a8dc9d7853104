// Input: an sm_XY architecture number. Output: the GpuTarget row that every GPU pass and the CUDA
// printer read; this table is the only place that tests the architecture.
#pragma once

namespace tilec::gpu {

struct GpuTarget {
  int arch = 90;
  bool mma_sync = false;   // mma.sync m16n8k16 (f16/bf16), m16n8k8 (tf32) and m16n8k32 (s8), sm_80+
  bool mma_fp8 = false;    // mma.sync m16n8k32 on e4m3/e5m2, sm_89+
  bool ldmatrix = false;   // ldmatrix.m8n8 (.trans), sm_75+
  bool cp_async = false;   // cp.async 16-byte global -> shared copies with commit/wait groups, sm_80+
  bool wgmma = false;      // warpgroup wgmma.mma_async from swizzled shared memory, sm_90a only
  bool tma = false;        // cp.async.bulk.tensor copies from a tensor map, completed on an mbarrier, sm_90+
  int vec_bytes = 16;      // widest single global access per thread
  int acc_regs = 128;      // most fp32 accumulator registers per thread kept in registers
  int mma_group = 4;       // n-tiles of 8 columns one warp accumulates at once (staged dots)
  int max_smem = 48 * 1024;  // dynamic shared memory a program may ask for
  const char* name_suffix = "";  // "a" when the code uses arch-specific instructions (sm_90a)
};

GpuTarget gpu_target(int arch);

}  // namespace tilec::gpu
