"""Differential testing: random valid kernels, run on the CPU backend (and on the GPU with
--backend cuda) and evaluated by a NumPy model of tilec's semantics; their outputs must agree
(integers bit for bit, floats within a tolerance that allows FMA contraction and reduction order).

    python3 tests/python/difftest.py --seeds 0:500     # a longer run than CI's fixed seeds
    python3 tests/python/difftest.py --seeds 0:2000 --backend cuda --jobs 8   # CPU vs GPU vs NumPy

Each kernel loads three inputs under a tail mask, computes a few statements of random expressions
(arithmetic, bitwise ops, shifts, comparisons and where, min/max, casts, reductions, cumsum,
program ids, a loop-carried accumulator, a branch on the program id) and stores the last one.
A failing seed prints its kernel; pin it as a pytest case."""
import argparse
import concurrent.futures
import multiprocessing
import os
import re
import sys
import textwrap

import numpy as np

import tilec

BLOCK = 64
INT_MIN, INT_MAX = -2 ** 31, 2 ** 31 - 1


# ---- NumPy model of tilec's semantics: C division, wrapping integers, saturating float->int ----

TL = {"int32": "tl.int32", "int64": "tl.int64", "float32": "tl.float32", "float64": "tl.float64"}


def is_int(dtype):
    return dtype.startswith("int")


def wrap(v, dtype):
    return np.asarray(v).astype(dtype)  # integers wrap like the hardware


def wide(v, dtype):
    """An operand in the type the model computes `dtype` results in (int64 for integers)."""
    return np.asarray(v).astype(np.int64 if is_int(dtype) else dtype)


def c_div(a, b):
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    safe = np.where((b == 0) | (b == -1), 1, b)
    q = (a - np.fmod(a, safe)) // safe
    return np.where(b == 0, 0, np.where(b == -1, np.negative(a), q))


def c_rem(a, b):
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    safe = np.where((b == 0) | (b == -1), 1, b)
    return np.where((b == 0) | (b == -1), 0, np.fmod(a, safe))


def shl(a, b, dtype):
    u = np.uint32 if dtype == "int32" else np.uint64
    return (np.asarray(a, dtype).view(u) << np.asarray(b, dtype).astype(u)).view(dtype)


def f2i(x, dtype):
    info = np.iinfo(dtype)
    x = np.asarray(x, np.float64)
    return np.where(np.isnan(x), 0, np.clip(np.trunc(np.nan_to_num(x)), info.min, info.max)).astype(dtype)


def has_runtime(src, constant_names=()):
    """Whether an expression reads a runtime value (`.to()` needs one: a constant has no methods).
    `constant_names`: statement names bound to a literal (`t0 = (3)`), constexprs like the literal."""
    src = re.sub(r"tl\.\w+", "", src)
    for name in constant_names:
        src = re.sub(rf"\b{name}\b", "", src)
    return re.search(r"\b(a|b|c|offs|pid|t\d|i|acc)\b", src) is not None


class Expr:
    """A tile-language expression, its NumPy evaluation over an environment of arrays, its dtype,
    and whether it is weak (a literal, which takes the other operand's type)."""

    def __init__(self, src, ev, dtype, weak=False):
        self.src, self.ev, self.dtype, self.weak = src, ev, dtype, weak


def promote(x, y):
    if x.weak != y.weak:
        return y.dtype if x.weak else x.dtype
    return max(x.dtype, y.dtype, key=lambda t: int(t[-2:]))


class KernelGen:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.dtype = self.pick(["int32", "int32", "int64", "float32", "float32", "float64"])
        self.names = ["a", "b", "c"]
        # A statement name bound to a literal is a constexpr: arithmetic on it folds with Python's
        # semantics (floor division), which the model of run-time arithmetic does not cover, so it
        # counts as a constant, never as the run-time operand of an operation (seed 2505).
        self.constant_names = set()

    def has_runtime(self, src):
        return has_runtime(src, self.constant_names)

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def cat(self, dtype):
        return "int" if is_int(dtype) else "float"

    # -- leaves --
    def name_leaf(self):
        """An input or statement name; one bound to a literal is weak, as the literal is."""
        name = self.pick(self.names)
        return Expr(name, lambda e, n=name: e[n], self.types[name], weak=name in self.constant_names)

    def leaf(self, cat):
        r = self.rng.random()
        own = self.cat(self.dtype) == cat
        if cat == "int":
            if r < 0.5 and own:
                return self.name_leaf()
            if r < 0.65:
                return Expr("offs", lambda e: e["offs"], "int32")
            if r < 0.75:
                return Expr("pid", lambda e: np.int32(e["pid"]), "int32")
            v = int(self.rng.integers(-9, 10))
            return Expr(f"({v})", lambda e, v=v: np.int32(v), "int32", weak=True)
        if r < 0.6 and own:
            return self.name_leaf()
        if r < 0.75:
            return Expr("offs.to(tl.float32)", lambda e: e["offs"].astype(np.float32), "float32")
        v = float(self.rng.integers(-8, 9)) / 4
        return Expr(f"({v!r})", lambda e, v=v: np.float32(v), "float32", weak=True)

    # -- expressions --
    def expr(self, cat, depth):
        if depth <= 0 or self.rng.random() < 0.2:
            return self.leaf(cat)
        return (self.int_op if cat == "int" else self.float_op)(depth - 1)

    def runtime_leaf(self, cat):
        leaf = self.leaf(cat)
        while not self.has_runtime(leaf.src):
            leaf = self.leaf(cat)
        return leaf

    def operands(self, cat, d):
        """Two operands, not both constants: constexpr arithmetic folds with Python's semantics
        (floor division, unbounded ints), which the model of run-time arithmetic does not cover."""
        x, y = self.expr(cat, d), self.expr(cat, d)
        if not self.has_runtime(x.src) and not self.has_runtime(y.src):
            y = self.runtime_leaf(cat)
        return x, y

    def binary(self, x, y, src, fn):
        rd = promote(x, y)
        return Expr(src, lambda e: wrap(fn(wide(x.ev(e), rd), wide(y.ev(e), rd), rd), rd), rd)

    def where(self, x, y, d):
        c = self.cond(d)
        rd = promote(x, y)
        return Expr(f"tl.where({c.src}, {x.src}, {y.src})",
                    lambda e: wrap(np.where(c.ev(e), wide(x.ev(e), rd), wide(y.ev(e), rd)), rd), rd)

    def int_op(self, d):
        x, y = self.operands("int", d)
        k = self.pick(["+", "-", "*", "//", "%", "&", "|", "^", "<<", ">>", "max", "min", "where", "neg", "abs",
                       "sum", "rmax", "cumsum", "cast"])
        if k in ("+", "-", "*", "&", "|", "^"):
            op = {"+": np.add, "-": np.subtract, "*": np.multiply, "&": np.bitwise_and, "|": np.bitwise_or,
                  "^": np.bitwise_xor}[k]
            return self.binary(x, y, f"({x.src} {k} {y.src})", lambda a, b, rd: op(a, b))
        if k in ("//", "%"):
            if not self.has_runtime(y.src):
                y = self.runtime_leaf("int")  # a constant divisor may fold to 0: a compile error
            fn = c_div if k == "//" else c_rem
            return self.binary(x, y, f"({x.src} {k} {y.src})", lambda a, b, rd: fn(a, b))
        if k in ("<<", ">>"):
            count = Expr(f"({y.src} & 31)", lambda e: np.asarray(y.ev(e)) & 31, y.dtype, y.weak)
            if k == "<<":
                fn = lambda a, b, rd: shl(wrap(a, rd), wrap(b, rd), rd)
            else:
                fn = lambda a, b, rd: wrap(a, rd) >> wrap(b, rd)
            return self.binary(x, count, f"({x.src} {k} {count.src})", fn)
        if k in ("max", "min"):
            op = np.maximum if k == "max" else np.minimum
            return self.binary(x, y, f"tl.{k}imum({x.src}, {y.src})", lambda a, b, rd: op(a, b))
        if k == "where":
            return self.where(x, y, d)
        if not self.has_runtime(x.src):
            return x
        if k == "neg":
            return Expr(f"(-{x.src})", lambda e: wrap(np.negative(wide(x.ev(e), x.dtype)), x.dtype), x.dtype)
        if k == "abs":
            return Expr(f"tl.abs({x.src})", lambda e: wrap(np.abs(wide(x.ev(e), x.dtype)), x.dtype), x.dtype)
        if k == "cast":
            f = self.expr("float", d)
            to = self.dtype if is_int(self.dtype) else "int32"
            if not self.has_runtime(f.src):
                return x
            return Expr(f"({f.src}).to({TL[to]})", lambda e: f2i(f.ev(e), to), to)
        return self.reduction(k, d, "int")

    def float_op(self, d):
        x, y = self.operands("float", d)
        k = self.pick(["+", "-", "*", "/", "max", "min", "where", "neg", "abs", "sqrt", "floor", "sum", "rmax", "cast"])
        if k in ("+", "-", "*"):
            op = {"+": np.add, "-": np.subtract, "*": np.multiply}[k]
            return self.binary(x, y, f"({x.src} {k} {y.src})", lambda a, b, rd: op(a, b))
        if k == "/":
            return self.binary(x, y, f"({x.src} / (tl.abs({y.src}) + 1.0))",
                               lambda a, b, rd: a / (np.abs(b) + np.asarray(1, rd)))
        if k in ("max", "min"):
            op = np.maximum if k == "max" else np.minimum
            return self.binary(x, y, f"tl.{k}imum({x.src}, {y.src})", lambda a, b, rd: op(a, b))
        if k == "where":
            return self.where(x, y, d)
        if not self.has_runtime(x.src):
            return x
        t = x.dtype
        if k == "neg":
            return Expr(f"(-{x.src})", lambda e: -wide(x.ev(e), t), t)
        if k == "abs":
            return Expr(f"tl.abs({x.src})", lambda e: np.abs(wide(x.ev(e), t)), t)
        if k == "sqrt":
            return Expr(f"tl.sqrt(tl.abs({x.src}))", lambda e: np.sqrt(np.abs(wide(x.ev(e), t))), t)
        if k == "floor":
            return Expr(f"tl.floor({x.src})", lambda e: np.floor(wide(x.ev(e), t)), t)
        if k == "cast":
            i = self.expr("int", min(d, 1))
            to = self.dtype if not is_int(self.dtype) else "float32"
            if not self.has_runtime(i.src):
                return x
            return Expr(f"({i.src}).to({TL[to]})", lambda e: np.asarray(i.ev(e)).astype(to), to)
        return self.reduction(k, d, "float")

    def reduction(self, k, d, cat):
        t = self.tile(cat, d)
        td = t.dtype
        if k == "sum":
            if is_int(td):
                return Expr(f"tl.sum({t.src}, axis=0)", lambda e: np.add.reduce(t.ev(e), dtype=td), td)
            return Expr(f"tl.sum({t.src}, axis=0)", lambda e: np.sum(t.ev(e), dtype=np.float64).astype(td), td)
        if k == "rmax":
            return Expr(f"tl.max({t.src}, axis=0)", lambda e: np.max(t.ev(e)).astype(td), td)
        return Expr(f"tl.cumsum({t.src}, axis=0)", lambda e: np.cumsum(t.ev(e), dtype=td), td)

    def tile(self, cat, d):
        """An expression that is surely a tile (reductions need one): plus `offs` or a loaded input."""
        x = self.expr(cat, d)
        inputs = ["a", "b", "c"] if cat == self.cat(self.dtype) else []
        choice = self.pick(inputs + ["offs"])
        if choice != "offs":
            base = Expr(choice, lambda e, n=choice: e[n], self.dtype)
        elif cat == "int":
            base = Expr("offs", lambda e: e["offs"], "int32")
        else:
            base = Expr("offs.to(tl.float32)", lambda e: e["offs"].astype(np.float32), "float32")
        return self.binary(x, base, f"({x.src} + {base.src})", lambda a, b, rd: a + b)

    def cond(self, d):
        cat = self.cat(self.dtype)
        x, y = self.operands(cat, d)
        k = self.pick(["<", "<=", ">", ">=", "==", "!="])
        op = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal, "!=": np.not_equal}[k]
        rd = promote(x, y)
        return Expr(f"({x.src} {k} {y.src})", lambda e: op(wide(x.ev(e), rd), wide(y.ev(e), rd)), "int1")

    def kernel(self):
        """The kernel's source and a NumPy function computing one program's output tile."""
        self.types = {"a": self.dtype, "b": self.dtype, "c": self.dtype, "i": "int32"}
        cat = self.cat(self.dtype)
        depth = 3 if cat == "int" else 2
        zeros = f"tl.zeros([BLOCK], {TL[self.dtype]})"
        lines, steps = [], []
        for i in range(int(self.rng.integers(1, 4))):
            x = self.expr(cat, depth)
            lines.append(f"    t{i} = {x.src}")
            steps.append((f"t{i}", x))
            self.names.append(f"t{i}")
            self.types[f"t{i}"] = x.dtype
            if not self.has_runtime(x.src):
                self.constant_names.add(f"t{i}")
        last = steps[-1][0]
        loop = self.rng.random() < 0.4
        branch = self.rng.random() < 0.3
        body = "\n".join(lines)
        loop_src = branch_src = ""
        if loop:
            if cat == "int":
                self.names.append("i")
            step = self.expr(cat, 2)
            if "i" in self.names:
                self.names.remove("i")
            trips = int(self.rng.integers(1, 4))
            loop_src = f"    acc = {last} + {zeros}\n    for i in range({trips}):\n        acc = acc + {step.src} + {zeros}\n"
        if branch:
            y = self.expr(cat, 2)
            branch_src = f"    if pid % 2 == 0:\n        out = {y.src} + {zeros}\n    else:\n        out = {'acc' if loop else last} + {zeros}\n"
        result = "out" if branch else ("acc" if loop else last)
        src = (
            "import tilec.language as tl\n\n\n"
            "def k(a_ptr, b_ptr, c_ptr, out_ptr, n, BLOCK: tl.constexpr):\n"
            "    pid = tl.program_id(0)\n"
            "    offs = pid * BLOCK + tl.arange(0, BLOCK)\n"
            "    mask = offs < n\n"
            "    a = tl.load(a_ptr + offs, mask=mask, other=0)\n"
            "    b = tl.load(b_ptr + offs, mask=mask, other=0)\n"
            "    c = tl.load(c_ptr + offs, mask=mask, other=0)\n"
            f"{body}\n{loop_src}{branch_src}"
            f"    tl.store(out_ptr + offs, {result} + {zeros}, mask=mask)\n")
        dt = self.dtype

        def program(env):
            for name, e in steps:
                env[name] = e.ev(env)
            value = wrap(np.broadcast_to(env[last], (BLOCK,)), dt)
            if loop:
                for i in range(trips):
                    env["i"] = np.int32(i)
                    value = wrap(wide(value, dt) + wide(step.ev(env), dt), dt)
            if branch and env["pid"] % 2 == 0:
                value = wrap(np.broadcast_to(y.ev(env), (BLOCK,)), dt)
            return wrap(np.broadcast_to(value, (BLOCK,)), dt)

        return src, program


def differing(out, ref, dtype, n):
    """Indices where `out` and `ref` disagree: integers bit for bit, floats within a tolerance
    that allows FMA contraction, reduction order and the GPU's 2-ulp tile division."""
    if is_int(dtype):
        return np.nonzero(out != ref)[0]
    scale = 1e-4 * (1.0 + np.nanmax(np.abs(ref[:n]), initial=0.0))
    return np.nonzero(~np.isclose(out, ref, rtol=1e-4, atol=scale, equal_nan=True))[0]


def launch(ck, backend, grid, inputs, out, n):
    """Runs a compiled kernel on NumPy arrays (copied to the GPU and back for "cuda")."""
    if backend == "cpu":
        ck[(grid,)](*inputs, out, n)
        return out
    import torch
    dev = [torch.from_numpy(a).cuda() for a in inputs]
    dev_out = torch.from_numpy(out).cuda()
    ck[(grid,)](*dev, dev_out, n)
    return dev_out.cpu().numpy()


def run_seed(seed, backend="cpu", debug=False):
    """Compiles and runs seed's kernel (in debug mode: its checks must change nothing for these
    in-bounds kernels); returns None when it agrees with NumPy (and, for backend "cuda", with the
    CPU backend's result too), else a report."""
    gen = KernelGen(seed)
    src, program = gen.kernel()
    rng = np.random.default_rng(seed + 1_000_003)
    grid = int(rng.integers(1, 4))
    n = int(rng.integers(1, grid * BLOCK + 1))
    size = grid * BLOCK
    dt = np.dtype(gen.dtype)
    if is_int(gen.dtype):
        inputs = [rng.integers(-1000, 1001, size).astype(dt) for _ in range(3)]
        sentinel = dt.type(0x5B5B)
    else:
        inputs = [rng.uniform(-4, 4, size).astype(dt) for _ in range(3)]
        sentinel = dt.type(np.nan)
    short = {"int32": "i32", "int64": "i64", "float32": "fp32", "float64": "fp64"}[gen.dtype]
    signature = ",".join(f"{p}:*{short}" for p in ("a_ptr", "b_ptr", "c_ptr", "out_ptr")) + ",n:i32"
    outs = {}
    for b in dict.fromkeys(["cpu", backend]):
        ck = tilec.compile(src, name="k", signature=signature, constexprs={"BLOCK": BLOCK}, backend=b,
                           path=f"<difftest seed {seed}>", debug=debug)
        outs[b] = launch(ck, b, grid, inputs, np.full(size, sentinel, dt), n)
    ref = np.full(size, sentinel, dt)
    with np.errstate(all="ignore"):
        for pid in range(grid):
            offs = (pid * BLOCK + np.arange(BLOCK)).astype(np.int32)
            mask = offs < n
            env = {"pid": np.int32(pid), "offs": offs}
            for name, arr in zip("abc", inputs):
                env[name] = np.where(mask, arr[pid * BLOCK:(pid + 1) * BLOCK], dt.type(0)).astype(dt)
            tile = program(env)
            ref[offs[mask]] = tile[mask]
    reports = []
    checks = [(f"tilec ({b})", outs[b], "NumPy", ref) for b in outs]
    if backend != "cpu":
        checks.append((f"tilec ({backend})", outs[backend], "tilec (cpu)", outs["cpu"]))
    for name, out, ref_name, want in checks:
        bad = differing(out, want, gen.dtype, n)
        if bad.size:
            i = bad[0]
            reports.append(f"seed {seed}: {name} vs {ref_name}: {bad.size} of {size} elements differ (n={n}, grid={grid}, "
                           f"{gen.dtype}); first at {i}: {name} {out[i]!r}, {ref_name} {want[i]!r}")
    if not reports:
        return None
    return "\n".join(reports) + "\n" + src


def check_seeds(seeds, backend="cpu"):
    """The failure reports of a range of seeds (an error is a failure too: the kernels are valid)."""
    reports = []
    for seed in seeds:
        try:
            report = run_seed(seed, backend)
        except Exception as e:  # any error on a valid kernel is a finding, reported with its seed
            report = f"seed {seed}: {type(e).__name__}\n{e}\n{KernelGen(seed).kernel()[0]}"
        if report:
            reports.append(report)
    return reports


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0:100", help="range START:END")
    ap.add_argument("--backend", default="cpu", choices=["cpu", "cuda"],
                    help="cuda: each kernel also runs on the GPU, checked against NumPy and the CPU backend")
    ap.add_argument("--jobs", type=int, default=1, help="processes, each checking a contiguous slice of the seeds")
    ap.add_argument("--emit-sources", metavar="DIR",
                    help="write each seed's kernel source to DIR/seed_N.py instead of running it (fuzzing seeds)")
    args = ap.parse_args()
    try:
        start, end = (int(x) for x in args.seeds.split(":"))
    except ValueError:
        ap.error(f"--seeds must be START:END with integers, not {args.seeds!r}")
    if start >= end or start < 0:
        ap.error(f"--seeds {args.seeds}: need 0 <= START < END")
    if args.jobs < 1:
        ap.error("--jobs must be at least 1")
    if args.emit_sources:
        os.makedirs(args.emit_sources, exist_ok=True)
        for seed in range(start, end):
            with open(os.path.join(args.emit_sources, f"seed_{seed}.py"), "w") as f:
                f.write(KernelGen(seed).kernel()[0])
        print(f"wrote {end - start} kernels to {args.emit_sources}")
        return 0
    if args.backend == "cuda":
        try:
            import torch
        except ImportError:
            ap.error("--backend cuda needs torch (the GPU inputs are torch tensors)")
        if not torch.cuda.is_available():
            ap.error("--backend cuda needs torch with a CUDA device")
    bounds = np.linspace(start, end, args.jobs + 1).astype(int)
    slices = [range(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if a < b]
    if len(slices) == 1:
        reports = check_seeds(slices[0], args.backend)
    else:
        # spawn: a forked child would inherit the parent's state of the CUDA driver.
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(len(slices), mp_context=ctx) as pool:
            reports = [r for part in pool.map(check_seeds, slices, [args.backend] * len(slices)) for r in part]
    for report in reports:
        print(textwrap.indent(report, "  "), file=sys.stderr)
    on = "the CPU" if args.backend == "cpu" else "the CPU and the GPU"
    print(f"{end - start - len(reports)} of {end - start} seeds agree (seeds {start}:{end}, {on})")
    return 1 if reports else 0


if __name__ == "__main__":
    sys.exit(main())
