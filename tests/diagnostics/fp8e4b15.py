# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/fp8e4b15.py:9:42: error: 'tl.float8e4b15' is not supported: tilec's fp8 types are tl.float8e5 (e5m2) and tl.float8e4nv (e4m3fn); Triton itself converts fp8e4b15 with sm_70/sm_80 inline PTX and deprecates it on sm_90
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    v = tl.load(x + tl.arange(0, 128))
    tl.store(x + tl.arange(0, 128), v.to(tl.float8e4b15).to(tl.float32))
