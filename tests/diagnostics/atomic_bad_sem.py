# args: --kernel k --signature x:*i32
# expect: tests/diagnostics/atomic_bad_sem.py:8:5: error: atomic sem="seq_cst" is not one of Triton's: "relaxed", "acquire", "release", "acq_rel"
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    tl.atomic_or(x + tl.arange(0, 16), 1, sem="seq_cst")
