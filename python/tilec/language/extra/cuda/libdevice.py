"""tilec.language.extra.cuda.libdevice: the same table; it compiles for the CPU backend too."""
from ... import _libdevice

_libdevice.export(globals())
