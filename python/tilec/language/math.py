"""tl.math: the elementwise math functions (the libdevice table) under Triton's module name."""
from . import _libdevice

_libdevice.export(globals())
from . import umulhi, fma, cdiv, maximum, minimum, sigmoid  # noqa: E402,F401
