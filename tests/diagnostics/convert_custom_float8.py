# args: --kernel k --signature x:*fp16
# expect: tests/diagnostics/convert_custom_float8.py:9:9: error: tl.extra.cuda.convert_custom_float8_sm80 converts Triton's fp8e4b15, which tilec does not support; use tl.float8e4nv or tl.float8e5 with .to()
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    v = tl.load(x + tl.arange(0, 128))
    w = tl.extra.cuda.convert_custom_float8_sm80(v, tl.float16)
    tl.store(x + tl.arange(0, 128), w)
