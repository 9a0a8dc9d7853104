// Input: an sm_XY architecture number. Output: its GpuTarget row (instructions, limits).
// Invariant: wgmma only on sm_90 exactly (sm_100 has other tensor-core instructions).
#include "tilec/gpu/target.h"

namespace tilec::gpu {

GpuTarget gpu_target(int arch) {
  GpuTarget t;
  t.arch = arch;
  t.ldmatrix = arch >= 75;
  t.mma_sync = arch >= 80;
  t.cp_async = arch >= 80;
  t.mma_fp8 = arch >= 89;
  t.wgmma = arch == 90;
  t.tma = arch >= 90;
  t.name_suffix = t.wgmma ? "a" : "";
  t.max_smem = arch >= 90 ? 227 * 1024 : (arch == 80 || arch == 87) ? 163 * 1024 : arch >= 86 ? 99 * 1024 : 48 * 1024;
  return t;
}

}  // namespace tilec::gpu
