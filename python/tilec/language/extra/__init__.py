"""tilec.language.extra: `from tilec.language.extra import libdevice` as in Triton."""
from . import cuda, libdevice  # noqa: F401
