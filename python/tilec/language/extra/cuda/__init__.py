"""tilec.language.extra.cuda: `from tilec.language.extra.cuda import libdevice` as in Triton, and its
helpers: num_warps() and num_threads() (constexprs of the launch), globaltimer() and smid() (GPU
special registers; on the CPU backend smid() is 0 and globaltimer() a compile error). convert_custom_float8_sm80/sm70 convert
Triton's fp8e4b15, which tilec does not support: using them is a compile error naming them."""
from . import libdevice  # noqa: F401
from ... import _make_operation

globaltimer = _make_operation("extra.cuda.globaltimer")
smid = _make_operation("extra.cuda.smid")
num_threads = _make_operation("extra.cuda.num_threads")
num_warps = _make_operation("extra.cuda.num_warps")
convert_custom_float8_sm80 = _make_operation("extra.cuda.convert_custom_float8_sm80")
convert_custom_float8_sm70 = _make_operation("extra.cuda.convert_custom_float8_sm70")

__all__ = ["libdevice", "globaltimer", "smid", "num_threads", "num_warps", "convert_custom_float8_sm80",
           "convert_custom_float8_sm70"]
