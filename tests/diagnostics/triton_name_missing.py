# args: --kernel k --signature x:*fp32
# expect: tests/diagnostics/triton_name_missing.py:8:9: error: tl.map_elementwise (part of Triton's triton.language) is not implemented by tilec
import tilec
import tilec.language as tl

@tilec.jit
def k(x):
    y = tl.map_elementwise(tl.load(x))
