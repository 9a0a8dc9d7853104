#!/usr/bin/env python3
"""Input: the tilec binary. Output: pass/fail of `tilec aot`'s errors (exit 2 for bad usage, 1 for a
compile error, each with its message) and of its CUDA output compiling as C99 and C++ against cuda.h.
Running the output is tools/test_cpp_package.sh's job (samples/cpp/aot_softmax)."""
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


def main():
    tilec = os.path.abspath(sys.argv[1])
    failures = 0
    out = tempfile.mkdtemp(prefix="tilec-aot-test-")
    try:
        for args, status, text in CASES:
            r = run(tilec, [a.replace("{out}", out) for a in args])
            if r.returncode != status or text not in r.stderr:
                failures += 1
                print(f"FAIL {' '.join(args)}: exit {r.returncode} (want {status}), stderr:\n{r.stderr}")
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
    print(f"{len(CASES) + 1 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
