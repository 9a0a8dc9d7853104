"""triton.language.target_info: inside kernels, is_cuda(), is_hip() and cuda_capability_geq() are
constexprs of the kernel's own target (the CPU backend: not CUDA); called from host code they
answer for tilec.runtime.driver.active.get_current_target()."""
from ..runtime import driver


def current_target():
    return driver.active.get_current_target()


def is_cuda():
    return current_target().backend == "cuda"


def is_hip():
    return False


def is_hip_cdna3():
    return False


def is_hip_cdna4():
    return False


def cuda_capability_geq(major, minor=0):
    target = current_target()
    return target.backend == "cuda" and target.arch >= major * 10 + minor
