#!/usr/bin/env python3
"""Writes the wgmma wrappers of runtime/cuda/tilec_cuda.h (between its GENERATED markers): one
specialization per (N, input type, B major-ness), since PTX needs every accumulator register
named in the instruction. Run after changing the shapes: python3 tools/gen_wgmma.py"""
import os
import re

SHAPES = (16, 32, 64, 128, 256)
TYPES = (("__half", "f16"), ("__nv_bfloat16", "bf16"))


def wrapper(n, ctype, ptx, trans_b):
    regs = n // 2
    outs = ", ".join(f"%{i}" for i in range(regs))
    cons = []
    for i in range(0, regs, 8):
        cons.append(", ".join(f'"+f"(d[{j}])' for j in range(i, min(i + 8, regs))))
    body = ",\n        ".join(cons)
    return (f"template <> __device__ __forceinline__ void tc_wgmma<{n}, {ctype}, {trans_b}>(float (&d)[{regs}], "
            f"unsigned long long a, unsigned long long b) {{\n"
            f"  asm volatile(\"{{\\n.reg .pred p;\\nsetp.ne.b32 p, %{regs + 2}, 0;\\n\"\n"
            f"      \"wgmma.mma_async.sync.aligned.m64n{n}k16.f32.{ptx}.{ptx} {{{outs}}}, "
            f"%{regs}, %{regs + 1}, p, 1, 1, 0, {trans_b};\\n}}\\n\"\n"
            f"      : {body}\n"
            f"      : \"l\"(a), \"l\"(b), \"r\"(1));\n}}\n")


def main():
    path = os.path.join(os.path.dirname(__file__), "..", "runtime", "cuda", "tilec_cuda.h")
    text = open(path).read()
    gen = "".join(wrapper(n, c, p, t) for n in SHAPES for c, p in TYPES for t in (0, 1))
    begin, end = "// BEGIN GENERATED wgmma wrappers\n", "// END GENERATED wgmma wrappers\n"
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: begin + gen + end, text, flags=re.S)
    open(path, "w").write(text)


if __name__ == "__main__":
    main()
