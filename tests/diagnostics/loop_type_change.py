# args: --kernel k --signature x:*fp32,n:i32
# expect: tests/diagnostics/loop_type_change.py:9:5: error: loop-carried variable 'acc' has type tile<16xfp32> before the loop but tile<16xfp16> at the end of the body; keep its type the same (use .to() or tl.broadcast_to)
import tilec
import tilec.language as tl

@tilec.jit
def k(x, n):
    acc = tl.zeros([16], dtype=tl.float32)
    for i in range(n):
        acc = tl.zeros([16], dtype=tl.float16)
    tl.store(x + tl.arange(0, 16), acc)
