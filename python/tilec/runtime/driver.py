"""`triton.runtime.driver`: `driver.active.get_current_target()` is GPUTarget("cuda", XY, 32) with
a CUDA device 0 present, else GPUTarget("cpu", 0, 32): the CPU backend, where a program's
num_threads() is 32 * num_warps as on the GPU."""
from dataclasses import dataclass

from .. import _C


@dataclass(frozen=True)
class GPUTarget:
    backend: str
    arch: int
    warp_size: int


class _ActiveDriver:
    def get_current_target(self):
        arch = _C.cuda_device_arch(0)
        return GPUTarget("cuda", arch, 32) if arch > 0 else GPUTarget("cpu", 0, 32)

    def get_current_device(self):
        return 0


active = _ActiveDriver()
