#!/usr/bin/env python3
"""Writes the wgmma wrappers of runtime/cuda/tilec_wgmma.h (between its GENERATED markers): one
specialization per (N, input type, B major-ness), since PTX needs every accumulator register
named in the instruction. fp16/bf16 take B either way round; tf32, int8 and fp8 only K-major (the
PTX has no transpose for them). Run after changing the shapes: python3 tools/gen_wgmma.py"""
import os
import re

SHAPES = (16, 32, 64, 128, 256)
TYPES = (("__half", "f16"), ("__nv_bfloat16", "bf16"))
# (C type, PTX input type, k per instruction, accumulator: PTX type, C type, constraint)
K_MAJOR_TYPES = (("float", "tf32", 8, "f32", "float", "f"), ("signed char", "s8", 32, "s32", "int", "r"))
FP8_TYPES = (("__nv_fp8_e4m3", "e4m3", 32, "f32", "float", "f"), ("__nv_fp8_e5m2", "e5m2", 32, "f32", "float", "f"))


def accumulator_operands(n, con):
    """The N/2 accumulator registers: their count, their %-operands, their "+con" constraints."""
    regs = n // 2
    outs = ", ".join(f"%{i}" for i in range(regs))
    cons = [", ".join(f'"+{con}"(d[{j}])' for j in range(i, min(i + 8, regs))) for i in range(0, regs, 8)]
    return regs, outs, ",\n        ".join(cons)


def wrapper(n, ctype, ptx, trans_b):
    regs, outs, body = accumulator_operands(n, "f")
    return (f"template <> __device__ __forceinline__ void tc_wgmma<{n}, {ctype}, {trans_b}>(float (&d)[{regs}], "
            f"unsigned long long a, unsigned long long b) {{\n"
            f"  asm volatile(\"{{\\n.reg .pred p;\\nsetp.ne.b32 p, %{regs + 2}, 0;\\n\"\n"
            f"      \"wgmma.mma_async.sync.aligned.m64n{n}k16.f32.{ptx}.{ptx} {{{outs}}}, "
            f"%{regs}, %{regs + 1}, p, 1, 1, 0, {trans_b};\\n}}\\n\"\n"
            f"      : {body}\n"
            f"      : \"l\"(a), \"l\"(b), \"r\"(1));\n}}\n")


def wrapper_rs(n, ctype, ptx, trans_b):
    """A from registers: the m64k16 fragment a0..a3 of each warp's 16 rows (accumulator order)."""
    regs, outs, body = accumulator_operands(n, "f")
    a = ", ".join(f"%{regs + i}" for i in range(4))
    return (f"template <> __device__ __forceinline__ void tc_wgmma_rs<{n}, {ctype}, {trans_b}>(float (&d)[{regs}], "
            f"unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned long long b) {{\n"
            f"  asm volatile(\"{{\\n.reg .pred p;\\nsetp.ne.b32 p, %{regs + 5}, 0;\\n\"\n"
            f"      \"wgmma.mma_async.sync.aligned.m64n{n}k16.f32.{ptx}.{ptx} {{{outs}}}, "
            f"{{{a}}}, %{regs + 4}, p, 1, 1, {trans_b};\\n}}\\n\"\n"
            f"      : {body}\n"
            f"      : \"r\"(a0), \"r\"(a1), \"r\"(a2), \"r\"(a3), \"l\"(b), \"r\"(1));\n}}\n")


def wrapper_k_major(n, ctype, ptx, k, acc_ptx, acc_ctype, con):
    """Both operands K-major in shared memory; integer wgmma has no scale immediates."""
    regs, outs, body = accumulator_operands(n, con)
    scale = "" if acc_ptx == "s32" else ", 1, 1"
    return (f"template <> __device__ __forceinline__ void tc_wgmma<{n}, {ctype}, 0>({acc_ctype} (&d)[{regs}], "
            f"unsigned long long a, unsigned long long b) {{\n"
            f"  asm volatile(\"{{\\n.reg .pred p;\\nsetp.ne.b32 p, %{regs + 2}, 0;\\n\"\n"
            f"      \"wgmma.mma_async.sync.aligned.m64n{n}k{k}.{acc_ptx}.{ptx}.{ptx} {{{outs}}}, "
            f"%{regs}, %{regs + 1}, p{scale};\\n}}\\n\"\n"
            f"      : {body}\n"
            f"      : \"l\"(a), \"l\"(b), \"r\"(1));\n}}\n")


def main():
    path = os.path.join(os.path.dirname(__file__), "..", "runtime", "cuda", "tilec_wgmma.h")
    text = open(path).read()
    gen = "#ifdef TILEC_HALF\n"
    gen += "".join(wrapper(n, c, p, t) for n in SHAPES for c, p in TYPES for t in (0, 1))
    gen += ("template <int N, class T, int TRANS_B> __device__ __forceinline__ void tc_wgmma_rs(float (&d)[N / 2], unsigned a0, "
            "unsigned a1, unsigned a2, unsigned a3, unsigned long long b);\n")
    gen += "".join(wrapper_rs(n, c, p, t) for n in SHAPES for c, p in TYPES for t in (0, 1))
    gen += "#endif\n"
    gen += "".join(wrapper_k_major(n, *t) for n in SHAPES for t in K_MAJOR_TYPES)
    gen += "#ifdef __CUDA_FP8_TYPES_EXIST__\n"
    gen += "".join(wrapper_k_major(n, *t) for n in SHAPES for t in FP8_TYPES)
    gen += "#endif\n"
    begin, end = "// BEGIN GENERATED wgmma wrappers\n", "// END GENERATED wgmma wrappers\n"
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: begin + gen + end, text, flags=re.S)
    open(path, "w").write(text)


if __name__ == "__main__":
    main()
