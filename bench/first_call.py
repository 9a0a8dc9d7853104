#!/usr/bin/env python3
"""Cold and warm first calls: a new process runs one kernel once, from `import tilec` to the result.
Input: the tilec package (PYTHONPATH=build/python), torch with CUDA for --backend cuda, optionally
Triton. Output: per process, the time of each step, and tilec's TILEC_LOG=compile lines (each
stage's time; cold: frontend, passes, codegen, nvrtc or host-cc, store; warm: index, cache-lookup,
load; on the GPU the device query and the first launch's context, module-load, function,
shared-opt-in and launch); then the median over processes.

    PYTHONPATH=build/python python3 bench/first_call.py --backend cuda [--kernels add,matmul,attention] [--reps 3]
    PYTHONPATH=build/python python3 bench/first_call.py --backend cpu --kernels add

cold = an empty cache folder; warm = the same folder again (two processes after each cold one).
A child's steps: `import` (import tilec), `define` (import the sample or decorate the kernel),
`call` (the first launch returns: lookup or compile, load, launch), `sync` (the kernel finishes).
Inputs are made (and torch imported, CUDA started) before the clock starts. gpu_bench.py's `first`
group runs the same children and reports their medians as rows."""
import argparse
import inspect
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SAMPLES = os.path.join(REPO, "samples")
STEPS = ("import", "define", "call", "sync")

# Each child prints "STEPS <ms> <ms> <ms> <ms>" (STEPS above, wall time) and "CPU <ms>" (the
# process's CPU time over the same span: on a loaded machine wall time alone misleads) after
# checking its result.
CLOCK = """
import time
_t = [time.perf_counter()]
_cpu = time.process_time()
def step():
    _t.append(time.perf_counter())
"""

REPORT = """
print("STEPS", " ".join(f"{(t1 - t0) * 1e3:.3f}" for t0, t1 in zip(_t, _t[1:])))
print("CPU", f"{(time.process_time() - _cpu) * 1e3:.3f}")
"""

CUDA_ADD = """
import sys
sys.path.insert(0, @SAMPLES@)
import torch
n = 4096
x = torch.arange(n, device="cuda", dtype=torch.float32) + 1.0
y = torch.arange(n, device="cuda", dtype=torch.float32) * 0.5 + 2.0
out = torch.empty_like(x)
torch.cuda.synchronize()
""" + CLOCK + """
import @COMPILER@
step()
@DEFINE_ADD@
step()
add_kernel[(@COMPILER@.cdiv(n, 1024),)](x, y, out, n, BLOCK_SIZE=1024)
step()
torch.cuda.synchronize()
step()
assert torch.equal(out, x + y), "wrong result"
""" + REPORT

CPU_ADD = """
import sys
sys.path.insert(0, @SAMPLES@)
import numpy as np
n = 4096
x = np.arange(n, dtype=np.float32) + 1.0
y = np.arange(n, dtype=np.float32) * 0.5 + 2.0
out = np.empty_like(x)
""" + CLOCK + """
import tilec
step()
from vector_add import add_kernel
step()
add_kernel[(tilec.cdiv(n, 1024),)](x, y, out, n, BLOCK_SIZE=1024)
step()
step()  # a CPU launch returns when the kernel is done
assert np.array_equal(out, x + y), "wrong result"
""" + REPORT

# Triton's vector add, defined in the child itself (tilec imports samples/vector_add.py).
TRITON_ADD = """
import triton.language as tl

@triton.jit
def add_kernel(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(axis=0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    tl.store(output_ptr + offsets, x + y, mask=mask)
"""

CUDA_MATMUL = """
import sys
sys.path.insert(0, @SAMPLES@)
import torch
a = torch.randn(1024, 1024, device="cuda", dtype=torch.float16)
b = torch.randn(1024, 1024, device="cuda", dtype=torch.float16)
c = torch.empty_like(a)
torch.cuda.synchronize()
""" + CLOCK + """
import @COMPILER@
step()
@DEFINE_MATMUL@
step()
kernel[(64,)](a, b, c, 1024, 1024, 1024, 1024, 1, 1024, 1, 1024, 1, BLOCK_SIZE_M=128, BLOCK_SIZE_N=128,
              BLOCK_SIZE_K=64, GROUP_SIZE_M=8, num_warps=4, num_stages=3)
step()
torch.cuda.synchronize()
step()
assert (c.float() - a.float() @ b.float()).abs().max().item() < 1.0, "wrong result"
""" + REPORT


def triton_matmul_source():
    """Triton's tutorial matmul (the same source as samples/matmul.py), for the Triton child."""
    with open(os.path.join(SAMPLES, "matmul.py")) as f:
        text = f.read()
    body = text[text.index("def matmul_kernel("):]
    body = body[:body.index("\n\n\n")] if "\n\n\n" in body else body
    return "import triton.language as tl\n\n@triton.jit\n" + body + "\nkernel = matmul_kernel\n"


CUDA_ATTENTION = """
import torch
q, k, v = (torch.randn(1, 4, 1024, 64, device="cuda", dtype=torch.float16) for _ in range(3))
out = torch.empty_like(q)
torch.cuda.synchronize()
""" + CLOCK + """
import @COMPILER@
import @COMPILER@.language as tl
step()
@ATTENTION_SOURCE@
kernel = @COMPILER@.jit(attn_fwd)
step()
kernel[(8, 4)](q, k, v, out, 0.125, *q.stride()[:3], *k.stride()[:3], *v.stride()[:3], *out.stride()[:3], 4, 1024,
               HEAD_DIM=64, BLOCK_M=128, BLOCK_N=64, CAUSAL=False, num_warps=4, num_stages=2)
step()
torch.cuda.synchronize()
step()
ref = torch.nn.functional.scaled_dot_product_attention(q.float(), k.float(), v.float(), scale=0.125)
assert (out.float() - ref).abs().max().item() < 1e-2, "wrong result"
""" + REPORT

KERNELS = {  # name: (label, {backend: child template})
    "add": ("vector add n=4096", {"cuda": CUDA_ADD, "cpu": CPU_ADD}),
    "matmul": ("matmul 1024^3 fp16 128/128/64", {"cuda": CUDA_MATMUL}),
    "attention": ("flash attention d64 1x4x1024 128/64", {"cuda": CUDA_ATTENTION}),
}


def child_script(kernel, backend, compiler):
    """The script of one first-call child: `kernel` on `backend`, compiled by 'tilec' or 'triton'."""
    if kernel == "attention":
        sys.path.insert(0, HERE)
        import shared_kernels
        attention = inspect.getsource(shared_kernels.attn_fwd)
    else:
        attention = ""
    define_add = "from vector_add import add_kernel" if compiler == "tilec" else TRITON_ADD
    define_matmul = "from matmul import matmul_kernel as kernel" if compiler == "tilec" else triton_matmul_source()
    script = KERNELS[kernel][1][backend]
    for name, text in (("@DEFINE_ADD@", define_add), ("@DEFINE_MATMUL@", define_matmul), ("@ATTENTION_SOURCE@", attention),
                       ("@SAMPLES@", repr(SAMPLES)), ("@COMPILER@", compiler)):
        script = script.replace(name, text)
    return script


def run_child(script_path, env_updates, log):
    """Runs one child; returns its step times (ms). tilec's TILEC_LOG=compile lines go to log()."""
    env = dict(os.environ)
    env.update(env_updates)
    env.pop("TILEC_ALWAYS_COMPILE", None)
    env["TILEC_LOG"] = "compile"  # Triton ignores it
    # The caller's PYTHONPATH first (the H200 scripts build into build-dev/), then the in-tree build.
    env["PYTHONPATH"] = os.pathsep.join([p for p in [env.get("PYTHONPATH"), os.path.join(REPO, "build", "python")] if p])
    p = subprocess.run([sys.executable, script_path], env=env, capture_output=True, text=True, timeout=600)
    for line in p.stderr.splitlines():
        if line.startswith("tilec: compile "):
            log(f"      {line}")
    out = dict(line.split(" ", 1) for line in p.stdout.splitlines() if line.startswith(("STEPS ", "CPU ")))
    if "STEPS" in out:
        steps = [float(v) for v in out["STEPS"].split()]
        log("      steps: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in zip(STEPS, steps)) +
            f", total {sum(steps):.2f} ms (process CPU {float(out.get('CPU', 'nan')):.2f} ms)")
        return steps
    raise RuntimeError(f"child exited {p.returncode}: {(p.stderr or p.stdout).strip()[-1500:]}")


def summary(label, runs):
    """'<median total> ms (min, max, n processes; median steps: ...)' of a list of step lists."""
    totals = [sum(r) for r in runs]
    steps = ", ".join(f"{name} {statistics.median(r[i] for r in runs):.2f}" for i, name in enumerate(STEPS))
    return (f"{label}: {statistics.median(totals):.1f} ms (min {min(totals):.1f}, max {max(totals):.1f}, "
            f"{len(runs)} processes; median steps ms: {steps})")


def measure(kernel, backend, compiler, reps, log=print):
    """(cold step lists, warm step lists) for `kernel`: `reps` cold processes, each followed by two warm."""
    cache_var = "TILEC_CACHE_DIR" if compiler == "tilec" else "TRITON_CACHE_DIR"
    cold, warm = [], []
    with tempfile.TemporaryDirectory(prefix="first-call-") as tmp:
        script = os.path.join(tmp, "child.py")
        with open(script, "w") as f:
            f.write(child_script(kernel, backend, compiler))
        for i in range(reps):
            cache = os.path.join(tmp, f"cache-{i}")
            os.makedirs(cache)
            log(f"    {compiler} {KERNELS[kernel][0]}, cold process {i + 1}")
            cold.append(run_child(script, {cache_var: cache}, log))
            for j in range(2):
                log(f"    {compiler} {KERNELS[kernel][0]}, warm process {2 * i + j + 1}")
                warm.append(run_child(script, {cache_var: cache}, log))
    return cold, warm


def bench_first_calls(b, compilers, fail):
    """gpu_bench.py's `first` group: rows of the cold and warm medians for each compiler in
    `compilers` ('tilec', 'triton') and each kernel; fail(label, impl, message) records a failure."""
    for compiler in compilers:
        for kernel, (what, _) in KERNELS.items():
            cold, warm, err = [], [], None
            try:
                cold, warm = measure(kernel, "cuda", compiler, b.args.first_call_reps, log=lambda s: print(s, flush=True))
            except Exception as e:  # noqa: BLE001
                err = f"{type(e).__name__}: {e}"
            for label, runs in ((f"cold first call, {what} (empty cache, new process)", cold),
                                (f"warm first call, {what} (disk cache, new process)", warm)):
                row = {"bench": label, "impl": compiler, "config": f"{what}, import -> result",
                       "unit": "ms", "lower_is_better": True}
                b.rows.append(row)
                if runs:
                    totals = [sum(r) for r in runs]
                    row.update(value=statistics.median(totals), value_lo=min(totals), value_hi=max(totals), reps=len(runs))
                    print("  " + summary(f"{label} {compiler}", runs), flush=True)
                else:
                    row["error"] = err or "no measurement"
                    fail(label, compiler, row["error"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=("cuda", "cpu"), default="cuda")
    ap.add_argument("--kernels", default="", help="comma-separated, of: " + ", ".join(KERNELS) + " (default: all the backend has)")
    ap.add_argument("--reps", type=int, default=3, help="cold processes per kernel, each followed by two warm ones")
    ap.add_argument("--triton", action="store_true", help="also Triton's first calls (CUDA only)")
    args = ap.parse_args()
    kernels = [k.strip() for k in args.kernels.split(",") if k.strip()] or [k for k, v in KERNELS.items() if args.backend in v[1]]
    for k in kernels:
        if k not in KERNELS or args.backend not in KERNELS[k][1]:
            ap.error(f"no {args.backend} child for kernel '{k}'")
    compilers = ["tilec"] + (["triton"] if args.triton and args.backend == "cuda" else [])
    for compiler in compilers:
        for k in kernels:
            cold, warm = measure(k, args.backend, compiler, args.reps)
            print(summary(f"  cold {compiler} {KERNELS[k][0]} [{args.backend}]", cold), flush=True)
            print(summary(f"  warm {compiler} {KERNELS[k][0]} [{args.backend}]", warm), flush=True)


if __name__ == "__main__":
    main()
