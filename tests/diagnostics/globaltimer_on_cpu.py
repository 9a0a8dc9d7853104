# args: --kernel k --signature x:*i64
# expect: tests/diagnostics/globaltimer_on_cpu.py:9:9: error: tl.extra.cuda.globaltimer() reads a GPU special register and is not available on the CPU backend; guard it with `if tl.target_info.is_cuda():`
import tilec
import tilec.language as tl
from tilec.language.extra import cuda

@tilec.jit
def k(x):
    t = cuda.globaltimer()
    tl.store(x, t)
