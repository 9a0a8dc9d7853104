"""`triton.language.random`-style imports: Philox random numbers (see the language reference)."""
from . import rand, rand4x, randint, randint4x, randn, randn4x, uint_to_uniform_float, pair_uniform_to_normal  # noqa: F401
