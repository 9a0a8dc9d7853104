#!/usr/bin/env python3
"""CPU benchmarks of tilec against NumPy (OpenBLAS) and PyTorch eager CPU kernels (when torch imports).

    PYTHONPATH=build/python python3 bench/cpu_bench.py [--threads 2,all] [--markdown out.md] [--json out.json]

On a many-core host (issue #14: the GPU machine's 16-core Xeon, with CUDA_VISIBLE_DEVICES= so that
torch stays on the CPU), run it as is: the default `--threads 2,all` measures every kernel at 2
threads and at all cores (`--threads all` for only the latter, `--threads 1,4,16` for a list).
Each thread count runs in its own process with TILEC_NUM_THREADS, OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set and torch.set_num_threads() called, so that tilec,
NumPy's BLAS and torch all use the same number of cores. The report (stdout, and --markdown FILE)
is a markdown table per thread count, headed by the host's CPU model, core count and SIMD level.

Kernels (from samples/): vector add (2^20 fp32), row softmax (1024x1024 fp32), layernorm forward
(1024x1024 fp32), matmul (256^3, 512^3, 1024^3 fp32 inputs, fp32 accumulation). Throughput is GB/s of the minimum necessary traffic
(bytes read + bytes written once) or GFLOP/s (2*M*N*K); each number is the median of repeated
runs after a warm-up, with min and max beside it. Every tilec result is checked against a float64
reference first (normwise relative error max|y - ref| / max|ref|); a wrong result exits non-zero
after printing the table.

Also measured: cold first call (new process, empty TILEC_CACHE_DIR: time from `import tilec` to
the first result of one kernel), warm first call (new process, populated cache), and the host
overhead of launching a 1-program kernel.

Targets are printed beside the numbers; a benchmark reports, it does not assert timings.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SAMPLES = os.path.join(REPO, "samples")
sys.path.insert(0, SAMPLES)

import tilec  # noqa: E402
from layernorm import _layer_norm_fwd_fused  # noqa: E402
from matmul import matmul_kernel  # noqa: E402
from softmax import softmax_kernel  # noqa: E402
from vector_add import add_kernel  # noqa: E402

try:
    import torch  # noqa: E402
    torch.set_grad_enabled(False)
except Exception:  # noqa: BLE001 - any import failure means "no torch"
    torch = None

FAILURES = []  # (name, message) of wrong or failed results


# ----------------------------------------------------------------------------------------------
# timing helpers

def time_fn(fn, min_time=1.0, min_reps=10, max_reps=5000, warmup=3):
    """Runs fn warmup times, then repeatedly for min_time seconds (at least min_reps, at most
    max_reps calls: 5000 calls of a 25 µs kernel give a median that repeats within a few percent);
    returns the per-call times in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < max_reps and (len(times) < min_reps or time.perf_counter() - start < min_time):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def summarize(times):
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "reps": len(times)}


def rel_err(out, ref):
    """Normwise relative error max|out - ref| / max|ref| in float64."""
    out = np.asarray(out, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if out.shape != ref.shape:
        return float("inf")
    if not np.all(np.isfinite(out)):
        return float("inf")
    return float(np.max(np.abs(out - ref)) / max(np.max(np.abs(ref)), 1e-300))


def to_torch(a):
    return torch.from_numpy(a) if torch is not None else None


# ----------------------------------------------------------------------------------------------
# the kernels, each with its launch, NumPy and PyTorch versions

def bench_vector_add(rng, args):
    n = 1 << 20
    x = rng.standard_normal(n, dtype=np.float32)
    y = rng.standard_normal(n, dtype=np.float32)
    out = np.empty_like(x)
    ref = x.astype(np.float64) + y.astype(np.float64)
    nbytes = 3 * n * 4
    rows = []

    configs = [1024, 4096, 16384] if not args.quick else [4096]
    best = None
    for block in configs:
        def run(block=block):
            add_kernel[(tilec.cdiv(n, block),)](x, y, out, n, BLOCK_SIZE=block)
        r = measure("tilec", run, lambda: out, ref, 1e-6, nbytes, "GB/s", f"BLOCK_SIZE={block}", args)
        if r.get("value") and (best is None or r["value"] > best["value"]):
            best = r
        rows.append(r)
    np_out = np.empty_like(x)
    rows.append(measure("numpy", lambda: np.add(x, y, out=np_out), lambda: np_out, ref, 1e-6, nbytes, "GB/s",
                        "np.add(out=)", args))
    if torch is not None:
        tx, ty, tout = to_torch(x), to_torch(y), torch.empty(n, dtype=torch.float32)
        rows.append(measure("torch", lambda: torch.add(tx, ty, out=tout), lambda: tout.numpy(), ref, 1e-6, nbytes,
                            "GB/s", "torch.add(out=)", args))
    return finish("vector add 2^20 fp32", rows, best, "torch", 1.0, "GB/s")


def bench_softmax(rng, args):
    m, n = 1024, 1024
    x = rng.standard_normal((m, n), dtype=np.float32)
    out = np.empty_like(x)
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(axis=1, keepdims=True))
    ref = e / e.sum(axis=1, keepdims=True)
    nbytes = 2 * m * n * 4
    block = tilec.next_power_of_2(n)
    rows = []

    def run():
        softmax_kernel[(m,)](out, x, x.strides[0] // 4, out.strides[0] // 4, m, n, BLOCK_SIZE=block)
    best = measure("tilec", run, lambda: out, ref, 1e-5, nbytes, "GB/s", f"BLOCK_SIZE={block}, 1 row/program", args)
    rows.append(best)

    def np_softmax():
        z = x - x.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z
    holder = {}
    rows.append(measure("numpy", lambda: holder.__setitem__("y", np_softmax()), lambda: holder["y"], ref, 1e-5, nbytes,
                        "GB/s", "exp(x - max) / sum", args))
    if torch is not None:
        tx = to_torch(x)
        rows.append(measure("torch", lambda: holder.__setitem__("t", torch.softmax(tx, dim=1)),
                            lambda: holder["t"].numpy(), ref, 1e-5, nbytes, "GB/s", "torch.softmax", args))
    return finish(f"softmax {m}x{n} fp32", rows, best, "torch", 1.0, "GB/s")


def bench_layernorm(rng, args):
    m, n = 1024, 1024
    eps = 1e-5
    x = rng.standard_normal((m, n), dtype=np.float32) * 2.0 + 0.5
    w = rng.random(n, dtype=np.float32) + 0.5
    b = rng.standard_normal(n, dtype=np.float32)
    y = np.empty_like(x)
    mean = np.empty(m, dtype=np.float32)
    rstd = np.empty(m, dtype=np.float32)
    x64 = x.astype(np.float64)
    mu = x64.mean(axis=1, keepdims=True)
    var = ((x64 - mu) ** 2).mean(axis=1, keepdims=True)
    ref = (x64 - mu) / np.sqrt(var + eps) * w.astype(np.float64) + b.astype(np.float64)
    # minimum traffic: read x, w, b; write y, mean, rstd
    nbytes = (2 * m * n + 2 * n + 2 * m) * 4
    block = min(65536 // 4, tilec.next_power_of_2(n))
    rows = []

    def run():
        _layer_norm_fwd_fused[(m,)](x, y, w, b, mean, rstd, x.strides[0] // 4, n, eps, BLOCK_SIZE=block)

    def check_out():
        e_mean = rel_err(mean, mu[:, 0])
        e_rstd = rel_err(rstd, 1.0 / np.sqrt(var[:, 0] + eps))
        if max(e_mean, e_rstd) > 1e-5:
            raise AssertionError(f"mean/rstd wrong: rel err {e_mean:.2e} / {e_rstd:.2e}")
        return y
    best = measure("tilec", run, check_out, ref, 1e-5, nbytes, "GB/s", f"BLOCK_SIZE={block}, 1 row/program", args)
    rows.append(best)

    holder = {}

    def np_layernorm():
        mu_ = x.mean(axis=1, keepdims=True)
        z = x - mu_
        var_ = np.mean(z * z, axis=1, keepdims=True)
        z *= 1.0 / np.sqrt(var_ + eps)
        z *= w
        z += b
        holder["y"] = z
    rows.append(measure("numpy", np_layernorm, lambda: holder["y"], ref, 1e-5, nbytes, "GB/s", "mean/var/normalize",
                        args))
    if torch is not None:
        tx, tw, tb = to_torch(x), to_torch(w), to_torch(b)
        rows.append(measure("torch", lambda: holder.__setitem__("t", torch.nn.functional.layer_norm(tx, (n,), tw, tb, eps)),
                            lambda: holder["t"].numpy(), ref, 1e-5, nbytes, "GB/s", "F.layer_norm", args))
    return finish(f"layernorm {m}x{n} fp32", rows, best, "torch", 1.0, "GB/s")


def matmul_configs(a, b, c, strides, result, ref, tol, configs, args):
    """tilec's matmul_kernel on a (M x K) @ b (K x N) -> c (element strides given) at each config
    (BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M); returns the measured rows and the best of them."""
    (M, K), N = a.shape, b.shape[1]
    rows, best = [], None
    for bm_, bn_, bk_, g in configs:
        def run(bm_=bm_, bn_=bn_, bk_=bk_, g=g):
            matmul_kernel[(tilec.cdiv(M, bm_) * tilec.cdiv(N, bn_),)](a, b, c, M, N, K, *strides, BLOCK_SIZE_M=bm_,
                                                                        BLOCK_SIZE_N=bn_, BLOCK_SIZE_K=bk_, GROUP_SIZE_M=g)
        r = measure("tilec", run, result, ref, tol, 2.0 * M * N * K, "GFLOP/s", f"BLOCK {bm_}/{bn_}/{bk_} GROUP {g}", args)
        if r.get("value") and (best is None or r["value"] > best["value"]):
            best = r
        rows.append(r)
    return rows, best


def bench_matmul(rng, args, size):
    M = N = K = size
    a = rng.standard_normal((M, K), dtype=np.float32)
    bm = rng.standard_normal((K, N), dtype=np.float32)
    c = np.empty((M, N), dtype=np.float32)
    ref = a.astype(np.float64) @ bm.astype(np.float64)
    flops = 2.0 * M * N * K
    # 32/32/32 was never the best at 1, 2 or 16 threads; 128/256/32 halves the A tiles packed per
    # flop and is the best at 512^3 and 1024^3 on one core (2-core EPYC VM, 2026-11-30); 64/128
    # gives 16 threads twice the programs of 128/128 at 1024^3.
    configs = [(64, 64, 32, 8), (64, 64, 64, 8), (64, 128, 32, 8), (128, 128, 32, 8), (128, 128, 64, 8), (128, 256, 32, 8)]
    if args.quick:
        configs = configs[:1]
    # Fewer programs than threads leaves cores idle: small problems get small tiles.
    configs = [c for c in configs if (M // c[0]) * (N // c[1]) >= 4] or configs[:1]
    strides = [s // 4 for s in a.strides + bm.strides + c.strides]
    rows, best = matmul_configs(a, bm, c, strides, lambda: c, ref, 1e-5, configs, args)
    np_c = np.empty_like(c)
    rows.append(measure("numpy", lambda: np.matmul(a, bm, out=np_c), lambda: np_c, ref, 1e-5, flops, "GFLOP/s",
                        "np.matmul (BLAS)", args))
    if torch is not None:
        ta, tb, tc = to_torch(a), to_torch(bm), torch.empty(M, N, dtype=torch.float32)
        rows.append(measure("torch", lambda: torch.matmul(ta, tb, out=tc), lambda: tc.numpy(), ref, 1e-5, flops,
                            "GFLOP/s", "torch.matmul", args))
    # Issue #14 sets the bar at OpenBLAS (NumPy) on one host and oneDNN/MKL (torch) on the other:
    # measured against whichever of the two is faster here.
    return finish(f"matmul {M}^3 fp32", rows, best, "faster", 0.8, "GFLOP/s")


def bench_matmul_bf16(rng, args):
    """bf16 operands, fp32 accumulation, bf16 result: tilec (AVX512-BF16 where the host has it)
    against torch (oneDNN: AVX512-BF16 or AMX); NumPy has no bf16. No target: issue #14 asks for
    the fp32 ratio; this row shows where the bf16 path stands."""
    M = N = K = 1024
    ta = torch.from_numpy(rng.standard_normal((M, K), dtype=np.float32)).to(torch.bfloat16)
    tb = torch.from_numpy(rng.standard_normal((K, N), dtype=np.float32)).to(torch.bfloat16)
    tc = torch.empty(M, N, dtype=torch.bfloat16)
    ref = ta.double().numpy() @ tb.double().numpy()
    flops = 2.0 * M * N * K
    configs = [(128, 128, 32, 8), (128, 256, 32, 8), (128, 128, 64, 8)] if not args.quick else [(128, 128, 32, 8)]
    rows, best = matmul_configs(ta, tb, tc, ta.stride() + tb.stride() + tc.stride(), lambda: tc.float().numpy(), ref, 1e-2,
                                configs, args)
    tout = torch.empty(M, N, dtype=torch.bfloat16)
    rows.append(measure("torch", lambda: torch.matmul(ta, tb, out=tout), lambda: tout.float().numpy(), ref, 1e-2, flops,
                        "GFLOP/s", "torch.matmul", args))
    return finish(f"matmul {M}^3 bf16", rows, best, "torch", None, "GFLOP/s")


def measure(impl, run, result, ref, tol, work, unit, config, args):
    """Checks one implementation against ref, then times it. work is bytes (GB/s) or flops (GFLOP/s)."""
    row = {"impl": impl, "config": config, "unit": unit}
    try:
        run()
        err = rel_err(result(), ref)
        row["rel_err"] = err
        if not err <= tol:
            msg = f"wrong result: rel err {err:.3e} > {tol:.0e}"
            row["error"] = msg
            print(f"  FAIL {impl} [{config}]: {msg}", file=sys.stderr)
            FAILURES.append((f"{impl} [{config}]", msg))
            return row
        # Idle first: the previous peer's pool (OpenBLAS, torch's OpenMP) spins for a while after
        # its last call, and on a small host those spinning threads would slow this one down.
        time.sleep(args.settle)
        times = time_fn(run, min_time=args.min_time)
        row.update(summarize(times))
        row["value"] = work / row["median_s"] / 1e9
        row["value_min"] = work / row["max_s"] / 1e9
        row["value_max"] = work / row["min_s"] / 1e9
    except Exception as e:  # noqa: BLE001 - report and go on
        msg = f"{type(e).__name__}: {e}"
        row["error"] = msg
        print(f"  FAIL {impl} [{config}]: {msg}", file=sys.stderr)
        FAILURES.append((f"{impl} [{config}]", msg))
    if "value" in row:
        print(f"  {impl:6s} {config:32s} {row['value']:9.2f} {unit} (median of {row['reps']}, "
              f"{row['median_s'] * 1e3:.3f} ms; range {row['value_min']:.2f}-{row['value_max']:.2f}) "
              f"rel err {row['rel_err']:.1e}", file=sys.stderr)
    return row


def finish(name, rows, best, baseline, target_ratio, unit):
    """The result of one benchmark; ratio is tilec's best over `baseline` (the target's peer, or
    "faster": the faster peer), and ratios holds tilec's best over each peer."""
    res = {"name": name, "rows": rows, "unit": unit, "ratios": {}}
    for peer in ("numpy", "torch"):
        r = next((r for r in rows if r["impl"] == peer and "value" in r), None)
        if best is not None and r is not None:
            res["ratios"][peer] = best["value"] / r["value"]
    if baseline in res["ratios"]:
        res["ratio"] = res["ratios"][baseline]
    elif baseline == "faster" and res["ratios"]:
        res["ratio"] = min(res["ratios"].values())
    if target_ratio is not None:
        peer = "the faster of numpy and torch" if baseline == "faster" else baseline
        res["target"] = f">= {target_ratio:g}x {peer}"
        if "ratio" in res:
            res["meets_target"] = res["ratio"] >= target_ratio
    res["best"] = best
    return res


# ----------------------------------------------------------------------------------------------
# first-call latency and launch overhead

CHILD = r"""
import os, sys, time
import numpy as np
sys.path.insert(0, {samples!r})
t0 = time.perf_counter()
import tilec
from vector_add import add_kernel
n = 4096
x = np.arange(n, dtype=np.float32) + 1.0
y = np.arange(n, dtype=np.float32) * 0.5 + 2.0
out = np.empty_like(x)
add_kernel[(tilec.cdiv(n, 1024),)](x, y, out, n, BLOCK_SIZE=1024)
t1 = time.perf_counter()
assert np.array_equal(out, x + y), "wrong result"
print("SECONDS", t1 - t0)
"""


def child_first_call(cache_dir):
    env = dict(os.environ)
    env["TILEC_CACHE_DIR"] = cache_dir
    env.pop("TILEC_ALWAYS_COMPILE", None)
    p = subprocess.run([sys.executable, "-c", CHILD.format(samples=SAMPLES)], env=env, capture_output=True, text=True,
                       timeout=300)
    for line in p.stdout.splitlines():
        if line.startswith("SECONDS "):
            return float(line.split()[1])
    raise RuntimeError(f"child exited {p.returncode}: {p.stderr.strip()[-2000:]}")


def bench_first_calls(args):
    """Cold: new process, empty cache. Warm: new process, cache filled by the cold run."""
    res = []
    cold, warm = [], []
    try:
        for _ in range(args.first_call_reps):
            with tempfile.TemporaryDirectory(prefix="tilec-bench-cache-") as d:
                cold.append(child_first_call(d))
                for _ in range(args.first_call_reps):
                    warm.append(child_first_call(d))
    except Exception as e:  # noqa: BLE001
        msg = f"{type(e).__name__}: {e}"
        print(f"  FAIL first call: {msg}", file=sys.stderr)
        FAILURES.append(("first call", msg))
    for name, ts, target in (("cold first call (empty cache)", cold, 1.5), ("warm first call (disk cache)", warm, 0.020)):
        r = {"name": name, "kernel": "vector add, n=4096", "target_s": target}
        if ts:
            r.update(summarize(ts))
            r["meets_target"] = r["median_s"] <= target
            print(f"  {name}: median {r['median_s'] * 1e3:.1f} ms over {len(ts)} processes "
                  f"(range {r['min_s'] * 1e3:.1f}-{r['max_s'] * 1e3:.1f} ms)", file=sys.stderr)
        else:
            r["error"] = "no measurement"
        res.append(r)
    return res


def bench_launch_overhead(args):
    """Host time per launch of a 1-program kernel (16 elements), median over batches of launches."""
    n = 16
    x = np.random.default_rng(1).standard_normal(n, dtype=np.float32)
    y = np.random.default_rng(2).standard_normal(n, dtype=np.float32)
    out = np.empty_like(x)
    r = {"name": "launch overhead (1 program, 16 elements)", "target_s": 10e-6}
    try:
        k = add_kernel[(1,)]
        k(x, y, out, n, BLOCK_SIZE=16)
        err = rel_err(out, x.astype(np.float64) + y)
        if err > 1e-6:
            raise AssertionError(f"wrong result: rel err {err:.2e}")
        batch, batches = 200, args.launch_batches
        for _ in range(batch):  # warm-up
            add_kernel[(1,)](x, y, out, n, BLOCK_SIZE=16)
        per = []
        for _ in range(batches):
            t0 = time.perf_counter()
            for _ in range(batch):
                add_kernel[(1,)](x, y, out, n, BLOCK_SIZE=16)
            per.append((time.perf_counter() - t0) / batch)
        r.update(summarize(per))
        r["launches"] = batch * batches
        r["meets_target"] = r["median_s"] <= r["target_s"]
        # the same with the launcher object kept (kernel[grid] hoisted out of the loop)
        per2 = []
        for _ in range(batches):
            t0 = time.perf_counter()
            for _ in range(batch):
                k(x, y, out, n, BLOCK_SIZE=16)
            per2.append((time.perf_counter() - t0) / batch)
        r["hoisted_median_s"] = statistics.median(per2)
        # NumPy's own per-call cost on the same tiny arrays, for scale
        per3 = []
        for _ in range(batches):
            t0 = time.perf_counter()
            for _ in range(batch):
                np.add(x, y, out=out)
            per3.append((time.perf_counter() - t0) / batch)
        r["numpy_add_median_s"] = statistics.median(per3)
        print(f"  launch overhead: median {r['median_s'] * 1e6:.2f} us (kernel[grid] hoisted: "
              f"{r['hoisted_median_s'] * 1e6:.2f} us; np.add: {r['numpy_add_median_s'] * 1e6:.2f} us)", file=sys.stderr)
    except Exception as e:  # noqa: BLE001
        msg = f"{type(e).__name__}: {e}"
        r["error"] = msg
        print(f"  FAIL launch overhead: {msg}", file=sys.stderr)
        FAILURES.append(("launch overhead", msg))
    return r


# ----------------------------------------------------------------------------------------------
# report

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def fmt_val(r):
    if r is None or "value" not in r:
        return "FAIL" if r is not None else "-"
    return f"{r['value']:.2f} ({r['value_min']:.2f}-{r['value_max']:.2f})"


def simd_level():
    """The SIMD level tilec's generated code uses on this host (tilec doctor's "SIMD level"), and
    the extensions beside it that tl.dot uses (avx512bf16)."""
    from tilec import cli
    isa = tilec._C.host_compiler_info()["isa"]
    level = cli.simd_level(isa)
    extras = [f for f in ("avx512bf16", "avx512fp16") if level == "avx512f" and f in isa.split(";")[0].split("+")]
    return "+".join([level] + extras)


def fmt_us(r):
    return f"{r['median_s'] * 1e6:.0f}" if r is not None and "median_s" in r else "-"


def table(results, overheads, info):
    lines = []
    lines.append(f"CPU: {info['cpu']}, {info['cores']} cores, SIMD {info['simd']}; threads: {info['tilec_threads']} "
                 f"(tilec, BLAS, torch); numpy {info['numpy']}; torch {info['torch'] or 'not installed'}; "
                 f"python {info['python']}; {info['date']}")
    lines.append("")
    lines.append("Throughput: median (min-max) over repeated runs after warm-up; tilec = best config; "
                 "ratios are tilec's throughput over the peer's (> 1: tilec faster).")
    lines.append("")
    has_torch = any(r["impl"] == "torch" for res in results for r in res["rows"])
    cols = ["benchmark", "unit", "tilec", "tilec µs", "tilec config", "numpy", "numpy µs"]
    if has_torch:
        cols += ["torch", "torch µs"]
    cols += ["tilec/numpy"] + (["tilec/torch"] if has_torch else []) + ["target", "max rel err (tilec)"]
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "---|" * len(cols))
    for res in results:
        best = res.get("best")
        tilec_rows = [r for r in res["rows"] if r["impl"] == "tilec"]
        shown = best if best is not None else (tilec_rows[0] if tilec_rows else None)
        np_row = next((r for r in res["rows"] if r["impl"] == "numpy"), None)
        t_row = next((r for r in res["rows"] if r["impl"] == "torch"), None)
        ratio = lambda peer: f"{res['ratios'][peer]:.2f}x" if peer in res.get("ratios", {}) else "-"  # noqa: E731
        target = res.get("target", "-")
        if "meets_target" in res:
            target += " (met)" if res["meets_target"] else " (NOT met)"
        errs = [r["rel_err"] for r in tilec_rows if "rel_err" in r]
        err = f"{max(errs):.1e}" if errs else "-"
        if any("error" in r for r in tilec_rows):
            err += " FAIL"
        cells = [res["name"], res["unit"], fmt_val(shown), fmt_us(shown), shown["config"] if shown else "-",
                 fmt_val(np_row), fmt_us(np_row)]
        if has_torch:
            cells += [fmt_val(t_row), fmt_us(t_row)]
        cells += [ratio("numpy")] + ([ratio("torch")] if has_torch else []) + [target, err]
        lines.append("| " + " | ".join(cells) + " |")
    if overheads:
        lines.append("")
        lines.append("| latency | tilec | target |")
        lines.append("|---|---|---|")
    for r in overheads:
        unit, scale = ("us", 1e6) if r["target_s"] < 1e-3 else ("ms", 1e3)
        if "median_s" in r:
            v = f"{r['median_s'] * scale:.2f} {unit} (min {r['min_s'] * scale:.2f}, max {r['max_s'] * scale:.2f})"
            if "hoisted_median_s" in r:
                v += f"; kernel[grid] hoisted {r['hoisted_median_s'] * scale:.2f} {unit}; np.add {r['numpy_add_median_s'] * scale:.2f} {unit}"
        else:
            v = "FAIL: " + r.get("error", "?")
        t = f"<= {r['target_s'] * scale:g} {unit}"
        if "meets_target" in r:
            t += " (met)" if r["meets_target"] else " (NOT met)"
        lines.append(f"| {r['name']} | {v} | {t} |")
    lines.append("")
    lines.append("All tilec configurations tried:")
    lines.append("")
    for res in results:
        for r in res["rows"]:
            if r["impl"] != "tilec":
                continue
            v = f"{r['value']:.2f} {r['unit']}" if "value" in r else "FAIL: " + r.get("error", "?")
            lines.append(f"- {res['name']} [{r['config']}]: {v}")
    return "\n".join(lines)


# --only's names, each to its benchmarks (one result each; bf16 needs torch's tensors: none without torch).
BENCHES = {
    "add": lambda args: [bench_vector_add],
    "softmax": lambda args: [bench_softmax],
    "layernorm": lambda args: [bench_layernorm],
    "matmul": lambda args: [lambda rng, args, size=int(m): bench_matmul(rng, args, size) for m in args.matmul_sizes.split(",")],
    "matmul_bf16": lambda args: [bench_matmul_bf16] if torch is not None else [],
}


def thread_counts(spec):
    """--threads "2,all" -> [2, os.cpu_count()], duplicates dropped, order kept."""
    out = []
    for part in spec.split(","):
        n = (os.cpu_count() or 1) if part.strip() == "all" else int(part)
        if n < 1:
            raise SystemExit(f"--threads: {part!r} is not a positive count")
        if n not in out:
            out.append(n)
    return out


THREAD_VARS = ("TILEC_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def run_child(threads, args, latency):
    """This script again in a process whose tilec, BLAS and torch pools have `threads` threads
    (each reads its variable once, at start); returns its JSON."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--json", out, "--min-time", str(args.min_time),
           "--first-call-reps", str(args.first_call_reps), "--launch-batches", str(args.launch_batches),
           "--matmul-sizes", args.matmul_sizes, "--settle", str(args.settle), "--only", args.only]
    if args.quick:
        cmd.append("--quick")
    if not latency:
        cmd.append("--no-latency")
    try:
        subprocess.run(cmd, env=env, check=False)
        with open(out) as f:
            return json.load(f)
    finally:
        os.unlink(out)


def measure_here(args):
    """Every benchmark at this process's thread count (set by the parent through THREAD_VARS)."""
    threads = int(os.environ.get("TILEC_NUM_THREADS") or os.cpu_count() or 1)
    if torch is not None:
        torch.set_num_threads(threads)
    info = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "simd": simd_level(),
        "tilec_threads": threads,
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "python": platform.python_version(),
        "tilec": tilec.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    print(f"tilec {info['tilec']} CPU benchmarks; {threads} threads, SIMD {info['simd']}", file=sys.stderr)
    rng = np.random.default_rng(0)
    results = []
    only = args.only.split(",")
    for fn in [fn for name, benches in BENCHES.items() if name in only for fn in benches(args)]:
        try:
            results.append(fn(rng, args))
        except Exception as e:  # noqa: BLE001
            msg = f"{type(e).__name__}: {e}"
            print(f"  FAIL: {msg}", file=sys.stderr)
            FAILURES.append(("benchmark", msg))
    overheads = []
    if not args.no_latency:
        print("first calls:", file=sys.stderr)
        overheads = [bench_launch_overhead(args)] + bench_first_calls(args)
    return {"info": info, "results": results, "latency": overheads,
            "failures": [{"name": n, "error": m} for n, m in FAILURES]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="2,all",
                    help='thread counts to measure, comma-separated; "all" = every core (default: 2,all)')
    ap.add_argument("--markdown", metavar="FILE.md", help="also write the report (markdown tables) to this file")
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--plot", metavar="FILE.png", help="also draw the last thread count's results (bench/plot.py; needs matplotlib)")
    ap.add_argument("--quick", action="store_true", help="one config per kernel, fewer repetitions")
    ap.add_argument("--matmul-sizes", default="256,512,1024", help="square matmul sizes (default: 256,512,1024)")
    ap.add_argument("--only", default=",".join(BENCHES),
                    help=f"benchmarks to run, comma-separated, of {','.join(BENCHES)} (default: all)")
    ap.add_argument("--min-time", type=float, default=1.0, help="seconds of timed runs per measurement")
    ap.add_argument("--first-call-reps", type=int, default=3, help="cold processes (each followed by as many warm ones)")
    ap.add_argument("--launch-batches", type=int, default=200, help="batches of 200 launches for the overhead")
    ap.add_argument("--no-latency", action="store_true", help="skip the first-call and launch-overhead measurements")
    ap.add_argument("--settle", type=float, default=0.5,
                    help="seconds of idling before each measurement, for other pools' spinning threads to sleep")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    unknown = [name for name in args.only.split(",") if name not in BENCHES]
    if unknown:
        ap.error(f"--only: unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    if args.quick:
        args.min_time = min(args.min_time, 0.3)
        args.first_call_reps = min(args.first_call_reps, 2)
        args.launch_batches = min(args.launch_batches, 50)
    if args.child:
        data = measure_here(args)
        with open(args.json, "w") as f:
            json.dump(data, f, indent=2)
        return
    if args.plot:
        import plot
        plot.require_matplotlib()

    runs = []
    for i, threads in enumerate(thread_counts(args.threads)):
        # Latency does not depend on the thread count: measured once, in the first run.
        runs.append(run_child(threads, args, latency=i == 0 and not args.no_latency))
    text = "\n\n".join(f"### {r['info']['tilec_threads']} threads\n\n" + table(r["results"], r["latency"], r["info"])
                       for r in runs)
    print(text)
    failures = [f for r in runs for f in r["failures"]]
    if failures:
        print("\nFAILURES:")
        for f in failures:
            print(f"- {f['name']}: {f['error']}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    if args.json:
        # "results" (the last run's) keeps the layout bench/plot.py reads.
        with open(args.json, "w") as f:
            json.dump({"runs": runs, "info": runs[-1]["info"], "results": runs[-1]["results"]}, f, indent=2)
    if args.plot:
        last = runs[-1]
        plot.plot(plot.rows_from_cpu_json(last), args.plot,
                  f"tilec {last['info']['tilec']} CPU: {last['info']['cpu']}, {last['info']['tilec_threads']} threads, "
                  f"{last['info']['date']}")
        print(f"wrote {args.plot}", file=sys.stderr)
    if failures:
        print(f"\n{len(failures)} measurement(s) FAILED (see above)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
