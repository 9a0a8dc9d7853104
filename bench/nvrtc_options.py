#!/usr/bin/env python3
"""Input: the tilec package (PYTHONPATH=build/python) and the NVRTC it loads. Output: NVRTC's CPU time
to compile the samples' generated CUDA C to a cubin, for each option set below; needs no GPU.

    PYTHONPATH=build/python python3 bench/nvrtc_options.py [--arch 90] [--reps 3]

Each row: median (min) over --reps compiles in this process after one warm-up compile (the first
compile of a process also loads NVRTC's builtins), timed as this thread's CPU time, so that other
work on a shared machine moves the numbers less than wall time would. tilec's own options are
jit/nvrtc.cpp's; the rows add or remove one option at a time."""
import argparse
import ctypes
import os
import statistics
import time

import tilec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
F32 = "*fp32:16"
SAMPLES = [  # (file, kernel, signature, constexprs), as in tests/golden/cases.txt
    ("vector_add", "add_kernel", f"x_ptr:{F32},y_ptr:{F32},output_ptr:{F32},n_elements:i32", ["BLOCK_SIZE=1024"]),
    ("softmax", "softmax_kernel", f"output_ptr:{F32},input_ptr:{F32},input_row_stride:i32,output_row_stride:i32,"
     "n_rows:i32,n_cols:i32", ["BLOCK_SIZE=1024"]),
    ("layernorm", "_layer_norm_fwd_fused", f"X:{F32},Y:{F32},W:{F32},B:{F32},Mean:{F32},Rstd:{F32},stride:i32,N:i32,eps:fp32",
     ["BLOCK_SIZE=1024"]),
    ("matmul", "matmul_kernel", "a_ptr:*fp16:16,b_ptr:*fp16:16,c_ptr:*fp16:16,M:i32,N:i32,K:i32,stride_am:i32,"
     "stride_ak:i32,stride_bk:i32,stride_bn:i32,stride_cm:i32,stride_cn:i32",
     ["BLOCK_SIZE_M=64", "BLOCK_SIZE_N=64", "BLOCK_SIZE_K=32", "GROUP_SIZE_M=8"]),
]


class Nvrtc:
    def __init__(self, path, header):
        self.lib = ctypes.CDLL(path)
        self.header = ctypes.c_char_p(header.encode())
        self.header_name = ctypes.c_char_p(b"tilec_cuda.h")

    def cpu_ms(self, source, options):
        """This thread's CPU milliseconds in nvrtcCompileProgram; raises with the log on failure."""
        prog = ctypes.c_void_p()
        if self.lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), b"kernel.cu", 1,
                                       ctypes.byref(self.header), ctypes.byref(self.header_name)) != 0:
            raise RuntimeError("nvrtcCreateProgram failed")
        argv = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
        t0 = time.thread_time()
        result = self.lib.nvrtcCompileProgram(prog, len(options), argv)
        ms = (time.thread_time() - t0) * 1e3
        size = ctypes.c_size_t()
        self.lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        self.lib.nvrtcGetProgramLog(prog, log)
        self.lib.nvrtcDestroyProgram(ctypes.byref(prog))
        if result != 0:
            raise RuntimeError(f"NVRTC error {result} with {' '.join(options)}:\n{log.value.decode()}")
        return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", type=int, default=90)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    info = tilec._C.nvrtc_info()
    if "error" in info:
        raise SystemExit(info["error"])
    # The header as tilec embeds it: tilec_wgmma.h inlined at its #include (CMakeLists.txt).
    with open(os.path.join(ROOT, "runtime", "cuda", "tilec_cuda.h")) as f, \
         open(os.path.join(ROOT, "runtime", "cuda", "tilec_wgmma.h")) as w:
        nvrtc = Nvrtc(info["path"], f.read().replace('#include "tilec_wgmma.h"\n', w.read()))
    base = [f"-arch=sm_{args.arch}a", "--std=c++17", "-default-device"]
    if info["include_dir"]:
        base.append("-I" + info["include_dir"])
    variants = [("tilec (-lineinfo -minimal)", base + ["-lineinfo", "-minimal"]),
                ("without -minimal", base + ["-lineinfo"]),
                ("without -lineinfo", base + ["-minimal"]),
                ("+ --extra-device-vectorization", base + ["-lineinfo", "-minimal", "--extra-device-vectorization"])]
    nvrtc.cpu_ms('extern "C" __global__ void k() {}', base)
    print(f"NVRTC {info['version']} ({info['path']}), sm_{args.arch}a, CPU ms per compile: median (min) of {args.reps}")
    print("| kernel | " + " | ".join(name for name, _ in variants) + " |")
    print("|---|" + "---|" * len(variants))
    for file, kernel, signature, constexprs in SAMPLES:
        path = os.path.join(ROOT, "samples", file + ".py")
        with open(path) as f:
            source = tilec._C.emit(f.read(), path, kernel, signature, constexprs, "cuda", args.arch)
        cells = []
        for _, options in variants:
            times = [nvrtc.cpu_ms(source, options) for _ in range(args.reps)]
            cells.append(f"{statistics.median(times):.1f} ({min(times):.1f})")
        print(f"| {file} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
