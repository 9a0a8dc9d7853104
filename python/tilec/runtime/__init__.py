"""`triton.runtime` names that kernels' host code reads: `driver.active.get_current_target()`, the
target that `tl.target_info` answers for inside kernels launched there (GPUTarget as in Triton)."""
from . import driver  # noqa: F401
from .driver import GPUTarget  # noqa: F401
