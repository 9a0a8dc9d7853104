"""The libdevice names (tl.math.*, tilec.language.extra.libdevice, ...extra.cuda.libdevice). The
list must match the table in tilec/libdevice.cpp, which the compiler reads."""
from . import _make_operation

NAMES = """
acos acosh asin asinh atan atan2 atanh cbrt copysign cosh div_rn erfinv exp10 expm1 fabs fast_dividef
fast_expf fast_logf finitef fmax fmin fmod hypot isfinited isinf isnan lgamma log10 log1p nearbyint pow
rint round signbit sinh sqrt_rn tan tanh tgamma trunc
sqrt rsqrt exp exp2 log log2 erf floor ceil sin cos abs
""".split()


def export(namespace):
    for name in NAMES:
        namespace[name] = _make_operation(name)
