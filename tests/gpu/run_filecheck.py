#!/usr/bin/env python3
"""Runs the pass checks in tests/gpu (*.check, and *.py kernels that carry their own checks): the
`# RUN: ARGS` line is `tilec dump INPUT ARGS`, INPUT being the `# INPUT: path` (from the repository
root) or the file itself; the `# CHECK: text` lines must appear in the output in order (each in a
later line than the one before), and no line may contain a `# CHECK-NOT: text`.
Usage: run_filecheck.py path/to/tilec [FILE...]"""
import glob
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def check(tilec, path):
    lines = open(path).read().splitlines()
    runs = [l.split("# RUN:", 1)[1].strip() for l in lines if l.startswith("# RUN:")]
    checks = [(l.split(":", 1)[0][2:], l.split(":", 1)[1].strip()) for l in lines
              if l.startswith("# CHECK:") or l.startswith("# CHECK-NOT:")]
    if len(runs) != 1 or not checks:
        return f"{path}: needs one # RUN: line and at least one # CHECK"
    inputs = [l.split("# INPUT:", 1)[1].strip() for l in lines if l.startswith("# INPUT:")]
    source = os.path.join(ROOT, inputs[0]) if inputs else path
    p = subprocess.run([tilec, "dump", source] + shlex.split(runs[0]), capture_output=True, text=True)
    if p.returncode != 0:
        return f"{path}: tilec exited {p.returncode}\n{p.stderr}"
    out = p.stdout.splitlines()
    at = 0
    for kind, text in checks:
        if kind == "CHECK-NOT":
            bad = [l for l in out if text in l]
            if bad:
                return f"{path}: CHECK-NOT '{text}' found: {bad[0].strip()}"
            continue
        while at < len(out) and text not in out[at]:
            at += 1
        if at == len(out):
            return f"{path}: CHECK '{text}' not found (in order)\n--- output ---\n" + "\n".join(out[:60])
        at += 1
    return None


def main():
    tilec = sys.argv[1]
    files = sys.argv[2:] or sorted(glob.glob(os.path.join(HERE, "*.check")) + glob.glob(os.path.join(HERE, "*.py")))
    files = [f for f in files if os.path.basename(f) != os.path.basename(__file__)]
    failures = [e for e in (check(tilec, f) for f in files) if e]
    for e in failures:
        print(e)
    print(f"{len(files) - len(failures)}/{len(files)} pass checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
