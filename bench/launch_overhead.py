#!/usr/bin/env python3
"""Input: the tilec package (PYTHONPATH=build/python). Output: host time per launch of a
one-program vector-add kernel on the CPU backend, for NumPy arrays and PyTorch CPU tensors.

    PYTHONPATH=build/python python3 bench/launch_overhead.py [--launches 20000] [--reps 7] [--profile]

Each row: N launches timed with the host clock, divided by N; median (min-max) over --reps runs.
`kernel[grid](...)` indexes the kernel on every launch (the usual form); `launch = kernel[grid]`
hoists it; np.add / torch.add(out=) on the same 16 elements give the library's own call cost.
--profile runs only the NumPy loop for py-spy (`py-spy record --native -r 2000 -- python3 ...`).
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "samples"))

import tilec  # noqa: E402
from vector_add import add_kernel  # noqa: E402

try:
    import torch
except ImportError:  # the torch rows are skipped
    torch = None


def per_launch(fn, launches, reps):
    for _ in range(200):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(launches):
            fn()
        times.append((time.perf_counter() - t0) / launches)
    return statistics.median(times), min(times), max(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--launches", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--profile", action="store_true", help="only the NumPy kernel[grid] loop, 2 M launches")
    args = ap.parse_args()
    n = 16
    x = np.arange(n, dtype=np.float32)
    y = np.ones(n, dtype=np.float32)
    out = np.empty_like(x)
    add_kernel[(1,)](x, y, out, n, BLOCK_SIZE=16)
    assert np.array_equal(out, x + y), "wrong result"
    if args.profile:
        for _ in range(2_000_000):
            add_kernel[(1,)](x, y, out, n, BLOCK_SIZE=16)
        return
    rows = []
    launch = add_kernel[(1,)]
    rows.append(("tilec, numpy, kernel[(1,)](...)", lambda: add_kernel[(1,)](x, y, out, n, BLOCK_SIZE=16)))
    rows.append(("tilec, numpy, launch = kernel[(1,)] hoisted", lambda: launch(x, y, out, n, BLOCK_SIZE=16)))
    rows.append(("np.add(out=), 16 elements", lambda: np.add(x, y, out=out)))
    if torch is not None:
        tx, ty, tout = torch.from_numpy(x.copy()), torch.from_numpy(y.copy()), torch.empty(n)
        add_kernel[(1,)](tx, ty, tout, n, BLOCK_SIZE=16)
        assert torch.equal(tout, tx + ty), "wrong result (torch)"
        rows.append(("tilec, torch CPU, kernel[(1,)](...)", lambda: add_kernel[(1,)](tx, ty, tout, n, BLOCK_SIZE=16)))
        rows.append(("tilec, torch CPU, launch hoisted", lambda: launch(tx, ty, tout, n, BLOCK_SIZE=16)))
        rows.append(("torch.add(out=), 16 elements", lambda: torch.add(tx, ty, out=tout)))
    print(f"tilec {tilec.__version__}, {args.launches} launches x {args.reps}, python {sys.version.split()[0]}, "
          f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}")
    print("| launch | us per launch, median (min-max) |")
    print("|---|---|")
    for name, fn in rows:
        med, lo, hi = per_launch(fn, args.launches, args.reps)
        print(f"| {name} | {med * 1e6:.2f} ({lo * 1e6:.2f}-{hi * 1e6:.2f}) |")


if __name__ == "__main__":
    main()
