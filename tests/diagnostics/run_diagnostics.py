#!/usr/bin/env python3
"""Diagnostic tests: each tests/diagnostics/*.py holds a bad kernel and two header comments,
`# args: <tilec dump arguments>` and `# expect: <the exact first diagnostic line>`; tilec must
exit 1 and print that line first on stderr, followed by the source line and a caret. The stage is
`--emit ir` unless the args name one (a backend's diagnostic: `--emit cuda --arch sm_80`)."""
import glob
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    tilec = os.path.abspath(sys.argv[1])
    failures = 0
    for path in sorted(glob.glob(os.path.join(HERE, "*.py"))):
        if path.endswith("run_diagnostics.py"):
            continue
        rel = os.path.relpath(path, ROOT)
        header = {}
        with open(path) as f:
            for line in f:
                if line.startswith("# args:") or line.startswith("# expect:"):
                    key, _, value = line[2:].partition(":")
                    header[key] = value.strip()
        args = shlex.split(header["args"])
        cmd = [tilec, "dump", rel] + args + ([] if "--emit" in args else ["--emit", "ir"])
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        lines = r.stderr.splitlines()
        ok = r.returncode == 1 and lines and lines[0] == header["expect"] and len(lines) >= 3 and lines[2].strip() == "^"
        print(("ok   " if ok else "FAIL ") + rel)
        if not ok:
            print(f"  exit {r.returncode}\n  expected: {header['expect']}\n  stderr:\n{r.stderr}")
            failures += 1
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
