"""`triton.language.core`-style imports: the same names as tilec.language."""
from . import *  # noqa: F401,F403
from . import constexpr, dtype, pointer_type, tensor, PropagateNan  # noqa: F401
