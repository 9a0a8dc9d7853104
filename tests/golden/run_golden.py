#!/usr/bin/env python3
"""Golden tests: every case in cases.txt is dumped with `tilec dump` and compared with
tests/golden/<name>.<stage>. Run with --update (or UPDATE_GOLDEN=1) to rewrite the expected files."""
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    tilec = os.path.abspath(sys.argv[1])
    update = "--update" in sys.argv or os.environ.get("UPDATE_GOLDEN") == "1"
    failures = 0
    with open(os.path.join(HERE, "cases.txt")) as f:
        cases = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    for case in cases:
        name, stages, args = case.split("|", 2)
        for stage in stages.split(","):
            stage = stage.strip()
            cmd = [tilec, "dump"] + shlex.split(args) + ["--emit", stage]
            r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            expected_path = os.path.join(HERE, f"{name.strip()}.{stage}")
            if r.returncode != 0:
                print(f"FAIL {name} {stage}: exit {r.returncode}\n{r.stderr}")
                failures += 1
                continue
            if update:
                with open(expected_path, "w") as out:
                    out.write(r.stdout)
                print(f"updated {expected_path}")
                continue
            if not os.path.exists(expected_path):
                print(f"FAIL {name} {stage}: {expected_path} missing (run with --update)")
                failures += 1
                continue
            with open(expected_path) as exp:
                expected = exp.read()
            if expected != r.stdout:
                import difflib
                diff = difflib.unified_diff(expected.splitlines(), r.stdout.splitlines(), "expected", "actual", lineterm="")
                print(f"FAIL {name} {stage}:\n" + "\n".join(list(diff)[:60]))
                failures += 1
            else:
                print(f"ok   {name} {stage}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
