"""tilec.language.extra.libdevice: the backend-neutral libdevice names (see tilec/libdevice.cpp)."""
from .. import _libdevice

_libdevice.export(globals())
