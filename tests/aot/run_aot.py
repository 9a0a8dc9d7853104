#!/usr/bin/env python3
"""Input: the tilec binary. Output: pass/fail of `tilec aot`'s errors (exit 2 for bad usage, 1 for a
compile error, each with its message), of its CUDA output compiling as C99 and C++ against cuda.h, and
of two CPU kernels exported separately, linked into one C program and run (no symbol clashes).
The samples (samples/cpp/aot_softmax) are tools/test_cpp_package.sh's job."""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KERNEL = "samples/cpp/aot_softmax/softmax.py"
SIG = "out:*fp32,x:*fp32,in_stride:i32,out_stride:i32,n_rows:i32,n_cols:i32"
SIG16 = "out:*fp32:16,x:*fp32:16,in_stride:i32:16,out_stride:i32:16,n_rows:i32,n_cols:i32"
CUDA_INCLUDE = "/usr/local/cuda/include"

# (extra arguments, expected exit status, text the error must contain)
CASES = [
    (["--signature", SIG, "--constexpr", "BLOCK_SIZE=1024", "--backend", "cpu"], 2, "missing -o DIR"),
    (["--constexpr", "BLOCK_SIZE=1024", "-o", "{out}"], 2, "missing --signature"),
    (["--signature", SIG, "--signature", SIG.replace("out:*fp32", "out:*fp16"), "--constexpr", "BLOCK_SIZE=1024",
      "-o", "{out}"], 2, "must differ only in ':16' promises"),
    (["--signature", SIG, "--signature", SIG, "--constexpr", "BLOCK_SIZE=1024", "-o", "{out}"], 2, "is given twice"),
    (["--signature", SIG, "--constexpr", "BLOCK_SIZE=1024", "--arch", "sm_9", "-o", "{out}"], 2, "--arch item 'sm_9'"),
    (["--signature", SIG, "--constexpr", "BLOCK_SIZE=1024", "--backend", "metal", "-o", "{out}"], 2, "cuda or cpu"),
    (["--signature", SIG, "--constexpr", "BLOCK_SIZE=1024", "--prefix", "9x", "-o", "{out}"], 2, "not a C identifier"),
    (["--signature", SIG.replace("n_cols:i32", "n_cols:fp16"), "--constexpr", "BLOCK_SIZE=1024", "-o", "{out}"], 2,
     "scalar fp16 argument has no C type"),
    (["--signature", SIG, "--constexpr", "BLOCK_SIZE=1000", "--backend", "cpu", "-o", "{out}"], 1,
     KERNEL + ":10:12: error: arange(0, 1000)"),
]


def run(tilec, args):
    return subprocess.run([tilec, "aot", KERNEL, "--kernel", "softmax_kernel"] + args, cwd=ROOT, capture_output=True,
                          text=True)


# Two kernels from two `tilec aot` runs in one C program (a C caller of the CPU headers).
MAIN_C = r"""
#include <stdio.h>
#include "add_kernel.h"
#include "softmax_kernel.h"
int main(void) {
  float x[64], y[64], out[64], sm[64];
  for (int i = 0; i < 64; ++i) { x[i] = (float)i; y[i] = 1.0f; }
  if (add_kernel_launch(4, 1, 1, x, y, out, 64) != TILEC_AOT_SUCCESS) return 1;
  if (softmax_kernel_launch(1, 1, 1, sm, x, 64, 64, 1, 64) != TILEC_AOT_SUCCESS) return 1;
  float total = 0;
  for (int i = 0; i < 64; ++i) {
    if (out[i] != x[i] + 1.0f) { printf("add: out[%d] = %g\n", i, out[i]); return 1; }
    total += sm[i];
  }
  if (total < 0.999f || total > 1.001f || !(sm[63] > sm[62])) { printf("softmax: sum %g\n", total); return 1; }
  return 0;
}
"""


def two_cpu_kernels(tilec, out):
    """Returns an error text, or '' when both kernels link into one program and compute right."""
    steps = [[tilec, "aot", "samples/vector_add.py", "--kernel", "add_kernel", "--backend", "cpu", "--signature",
              "x_ptr:*fp32,y_ptr:*fp32,output_ptr:*fp32,n_elements:i32", "--constexpr", "BLOCK_SIZE=16", "-o", out],
             [tilec, "aot", KERNEL, "--kernel", "softmax_kernel", "--backend", "cpu", "--signature", SIG,
              "--constexpr", "BLOCK_SIZE=64", "-o", out]]
    with open(os.path.join(out, "main.c"), "w") as f:
        f.write(MAIN_C)
    steps.append(["cc", "-c", "-I" + out, os.path.join(out, "main.c"), "-o", os.path.join(out, "main.o")])
    steps.append(["c++", "-std=c++17", "-pthread", "-I" + out, os.path.join(out, "main.o"),
                  os.path.join(out, "add_kernel.cpp"), os.path.join(out, "add_kernel_kernels.o"),
                  os.path.join(out, "softmax_kernel.cpp"), os.path.join(out, "softmax_kernel_kernels.o"),
                  os.path.join(out, "runtime", "thread_pool.cpp"), "-o", os.path.join(out, "two")])
    steps.append([os.path.join(out, "two")])
    for cmd in steps:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            return f"{' '.join(cmd)}: exit {r.returncode}\n{r.stdout}{r.stderr}"
    return ""


def main():
    tilec = os.path.abspath(sys.argv[1])
    failures = 0
    out = tempfile.mkdtemp(prefix="tilec-aot-test-")
    os.makedirs(os.path.join(out, "two"))
    try:
        for args, status, text in CASES:
            r = run(tilec, [a.replace("{out}", out) for a in args])
            if r.returncode != status or text not in r.stderr:
                failures += 1
                print(f"FAIL {' '.join(args)}: exit {r.returncode} (want {status}), stderr:\n{r.stderr}")
        error = two_cpu_kernels(tilec, os.path.join(out, "two"))
        if error:
            failures += 1
            print("FAIL two CPU kernels in one C program: " + error)
        # CUDA output: NVRTC compiles both specializations for two archs; the generated C compiles.
        if os.path.exists(os.path.join(CUDA_INCLUDE, "cuda.h")):
            r = run(tilec, ["--signature", SIG16, "--signature", SIG, "--constexpr", "BLOCK_SIZE=1024",
                            "--arch", "sm_80,sm_90", "-o", out])
            if r.returncode != 0:
                failures += 1
                print(f"FAIL cuda aot: exit {r.returncode}\n{r.stderr}")
            else:
                cubins = [f for f in os.listdir(out) if f.endswith(".cubin")]
                if len(cubins) != 4:
                    failures += 1
                    print(f"FAIL cuda aot: want 4 cubins (2 specializations x 2 archs), got {cubins}")
                for cmd in (["cc", "-std=c99", "-Wall", "-Werror"], ["c++", "-x", "c++", "-Wall", "-Werror"]):
                    c = subprocess.run(cmd + ["-fsyntax-only", "-I" + CUDA_INCLUDE, "-I" + out,
                                              os.path.join(out, "softmax_kernel.c")], capture_output=True, text=True)
                    if c.returncode != 0:
                        failures += 1
                        print(f"FAIL {cmd[0]} on the generated CUDA launcher:\n{c.stderr}")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(f"{len(CASES) + 2 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
