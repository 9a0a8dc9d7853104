"""tilec.language.extra.cuda: `from tilec.language.extra.cuda import libdevice` as in Triton."""
from . import libdevice  # noqa: F401
