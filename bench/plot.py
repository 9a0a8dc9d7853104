#!/usr/bin/env python3
"""Bar charts of benchmark results: one panel per kernel, one bar per implementation (its best
configuration), and the bandwidth ceiling as a dashed line on GB/s panels when one was measured.

    python3 bench/plot.py bench/cpu_results.json --out bench/cpu_results.png    # a cpu_bench.py --json file
    python3 bench/cpu_bench.py --plot cpu.png      python3 bench/gpu_bench.py --plot h200.png

Needs matplotlib (`pip install matplotlib`); require_matplotlib() says so before a benchmark runs."""
import argparse
import json
import math
import re
import sys

COLORS = {"tilec": "#1f77b4", "triton": "#ff7f0e", "torch": "#2ca02c", "numpy": "#7f7f7f"}


def require_matplotlib():
    """Exits with a clear message when matplotlib is missing (call before a long run)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        sys.exit("--plot needs matplotlib: pip install matplotlib")


def best_per_impl(rows):
    """{bench: {impl: (best value, unit, config)}} in first-seen order, from rows with 'bench',
    'impl', 'config', 'unit' and (when measured) 'value'."""
    out = {}
    for r in rows:
        if "value" not in r:
            continue
        impls = out.setdefault(r["bench"], {})
        if r["impl"] not in impls or r["value"] > impls[r["impl"]][0]:
            impls[r["impl"]] = (r["value"], r["unit"], r["config"])
    return out


def plot(rows, path, title, ceiling_bench_prefix=None):
    """Writes the chart to path. A bench whose name starts with ceiling_bench_prefix (the GPU's
    d2d copy) is drawn as the dashed ceiling on every GB/s panel instead of a panel of its own."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    best = best_per_impl(rows)
    ceiling = None
    if ceiling_bench_prefix:
        for bench in [b for b in best if b.startswith(ceiling_bench_prefix)]:
            ceiling = max(v for v, _, _ in best.pop(bench).values())
    if not best:
        raise ValueError("no measured results to plot")
    n = len(best)
    cols = 2 if n == 4 else min(n, 3)
    fig, axes = plt.subplots(math.ceil(n / cols), cols, figsize=(4.2 * cols, 3.4 * math.ceil(n / cols)), squeeze=False)
    for ax, (bench, impls) in zip(axes.flat, best.items()):
        names = list(impls)
        values = [impls[i][0] for i in names]
        unit = impls[names[0]][1]
        bars = ax.bar(names, values, color=[COLORS.get(i, "#9467bd") for i in names])
        ax.bar_label(bars, fmt="%.0f" if max(values) >= 100 else "%.1f", fontsize=8)
        if ceiling is not None and unit == "GB/s":
            ax.axhline(ceiling, color="k", linestyle="--", linewidth=1)
            ax.text(len(names) - 0.5, ceiling, f"copy {ceiling:.0f}", ha="right", va="bottom", fontsize=7)
        ax.set_title(bench, fontsize=9)
        ax.set_ylabel(unit)
        ax.margins(y=0.15)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def rows_from_cpu_json(data):
    """cpu_bench.py --json's results as plot() rows."""
    return [dict(r, bench=res["name"]) for res in data["results"] for r in res["rows"]]


def rows_from_gpu_report(text):
    """The per-configuration lines of a gpu_bench.py report (`- BENCH / IMPL [CONFIG]: VALUE UNIT, ...`)
    as plot() rows, so that a committed report in bench/runs can be drawn again."""
    rows = []
    for m in re.finditer(r"^- (.+?) / (\w+) \[(.*)\]: ([0-9.]+) (GB/s|TFLOP/s)", text, re.M):
        rows.append({"bench": m.group(1), "impl": m.group(2), "config": m.group(3), "value": float(m.group(4)),
                     "unit": m.group(5)})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", help="cpu_bench.py --json output, or a gpu_bench.py report (.md)")
    ap.add_argument("--out", required=True, help="the PNG to write")
    ap.add_argument("--title", default=None, help="chart title (a GPU report has none of its own)")
    args = ap.parse_args()
    require_matplotlib()
    with open(args.results) as f:
        text = f.read()
    if args.results.endswith(".md"):
        plot(rows_from_gpu_report(text), args.out, args.title or args.results, ceiling_bench_prefix="d2d copy")
    else:
        data = json.loads(text)
        info = data.get("info", {})
        plot(rows_from_cpu_json(data), args.out,
             f"tilec {info.get('tilec', '?')} CPU: {info.get('cpu', '?')}, {info.get('tilec_threads', '?')} threads, {info.get('date', '?')}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
