#!/usr/bin/env python3
"""Compiles every sample and golden kernel (tests/golden/cases.txt) to CUDA C and through NVRTC for
sm_80 and sm_90 with `tilec dump --emit ptx`; any code generator or NVRTC error fails the test.
Needs no GPU. Skips (exit 0 with a note) only when NVRTC itself cannot be found."""
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    tilec = os.path.abspath(sys.argv[1])
    failures = 0
    with open(os.path.join(ROOT, "tests", "golden", "cases.txt")) as f:
        cases = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    for case in cases:
        name, _, args = case.split("|", 2)
        for arch in ("sm_80", "sm_90"):
            cmd = [tilec, "dump"] + shlex.split(args) + ["--emit", "ptx", "--arch", arch]
            r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            if r.returncode != 0 and "NVRTC not found" in r.stderr:
                print(f"skipped: {r.stderr.strip().splitlines()[0]}")
                return
            ok = r.returncode == 0 and ".entry" in r.stdout
            print(("ok   " if ok else "FAIL ") + f"{name.strip()} {arch}")
            if not ok:
                print(r.stderr[-4000:])
                failures += 1
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
