"""Differential testing: random valid kernels, run on the CPU backend and evaluated by a NumPy
model of tilec's semantics; their outputs must agree (integers bit for bit, floats within a
tolerance that allows FMA contraction and reduction order).

    python3 tests/python/difftest.py --seeds 0:500     # a longer run than CI's fixed seeds

Each kernel loads three inputs under a tail mask, computes a few statements of random expressions
(arithmetic, bitwise ops, shifts, comparisons and where, min/max, casts, reductions, cumsum,
program ids, a loop-carried accumulator, a branch on the program id) and stores the last one.
A failing seed prints its kernel; pin it as a pytest case."""
import argparse
import re
import sys
import textwrap

import numpy as np

import tilec

BLOCK = 64
INT_MIN, INT_MAX = -2 ** 31, 2 ** 31 - 1


# ---- NumPy model of tilec's integer semantics (C division, masked shift counts, wrapping) ----

def i32(x):
    return np.asarray(x).astype(np.int64).astype(np.int32)  # wraps like the hardware


def c_div(a, b):
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    safe = np.where(b == 0, 1, b)
    q = np.abs(a) // np.abs(safe) * np.sign(a) * np.sign(safe)
    return i32(np.where(b == 0, 0, q))


def c_rem(a, b):
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    safe = np.where(b == 0, 1, b)
    q = np.abs(a) // np.abs(safe) * np.sign(a) * np.sign(safe)
    return i32(np.where((b == 0) | (b == -1), 0, a - q * safe))


def shl(a, b):
    return (np.asarray(a, np.int32).view(np.uint32) << (np.asarray(b, np.int32) & 31).astype(np.uint32)).view(np.int32)


def shr(a, b):
    return np.asarray(a, np.int32) >> (np.asarray(b, np.int32) & 31)


def f2i(x):
    x = np.asarray(x, np.float64)
    return np.where(np.isnan(x), 0, np.clip(np.trunc(np.nan_to_num(x)), INT_MIN, INT_MAX)).astype(np.int32)


def has_runtime(src):
    """Whether an expression reads a runtime value (`.to()` needs one: a constant has no methods)."""
    return re.search(r"\b(a|b|c|offs|pid|t\d|i|acc)\b", re.sub(r"tl\.\w+", "", src)) is not None


class Expr:
    """A tile-language expression and its NumPy evaluation over an environment of arrays."""

    def __init__(self, src, ev, dtype):
        self.src, self.ev, self.dtype = src, ev, dtype


class KernelGen:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.dtype = "int32" if self.rng.random() < 0.55 else "float32"
        self.names = ["a", "b", "c"]

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    # -- leaves --
    def leaf(self, dtype):
        r = self.rng.random()
        if dtype == "int32":
            if r < 0.5:
                name = self.pick(self.names) if self.dtype == "int32" else None
                if name:
                    return Expr(name, lambda e, n=name: e[n], "int32")
            if r < 0.65:
                return Expr("offs", lambda e: e["offs"], "int32")
            if r < 0.75:
                return Expr("pid", lambda e: np.int32(e["pid"]), "int32")
            v = int(self.rng.integers(-9, 10))
            return Expr(f"({v})", lambda e, v=v: np.int32(v), "int32")
        if r < 0.6:
            name = self.pick(self.names) if self.dtype == "float32" else None
            if name:
                return Expr(name, lambda e, n=name: e[n], "float32")
        if r < 0.75:
            return Expr("offs.to(tl.float32)", lambda e: e["offs"].astype(np.float32), "float32")
        v = float(self.rng.integers(-8, 9)) / 4
        return Expr(f"({v!r})", lambda e, v=v: np.float32(v), "float32")

    # -- expressions --
    def expr(self, dtype, depth):
        if depth <= 0 or self.rng.random() < 0.2:
            return self.leaf(dtype)
        return (self.int_op if dtype == "int32" else self.float_op)(depth - 1)

    def runtime_leaf(self, dtype):
        leaf = self.leaf(dtype)
        while not has_runtime(leaf.src):
            leaf = self.leaf(dtype)
        return leaf

    def operands(self, dtype, d):
        """Two operands, not both constants: constexpr arithmetic folds with Python's semantics
        (floor division, unbounded ints), which the model of run-time arithmetic does not cover."""
        x, y = self.expr(dtype, d), self.expr(dtype, d)
        if not has_runtime(y.src):
            y = self.runtime_leaf(dtype) if not has_runtime(x.src) else y
        return x, y

    def int_op(self, d):
        x, y = self.operands("int32", d)
        k = self.pick(["+", "-", "*", "//", "%", "&", "|", "^", "<<", ">>", "max", "min", "where", "neg", "abs",
                       "sum", "rmax", "cumsum", "cast"])
        if k in ("+", "-", "*"):
            op = {"+": np.add, "-": np.subtract, "*": np.multiply}[k]
            return Expr(f"({x.src} {k} {y.src})", lambda e: i32(op(np.int64(1) * x.ev(e), y.ev(e))), "int32")
        if k in ("//", "%") and not has_runtime(y.src):
            y = self.runtime_leaf("int32")  # a constant divisor may fold to 0: a compile error
        if k == "//":
            return Expr(f"({x.src} // {y.src})", lambda e: c_div(x.ev(e), y.ev(e)), "int32")
        if k == "%":
            return Expr(f"({x.src} % {y.src})", lambda e: c_rem(x.ev(e), y.ev(e)), "int32")
        if k in ("&", "|", "^"):
            op = {"&": np.bitwise_and, "|": np.bitwise_or, "^": np.bitwise_xor}[k]
            return Expr(f"({x.src} {k} {y.src})", lambda e: op(np.int32(0) + x.ev(e), y.ev(e)).astype(np.int32), "int32")
        if k == "<<":
            return Expr(f"({x.src} << ({y.src} & 31))", lambda e: shl(x.ev(e), np.int32(y.ev(e)) & 31), "int32")
        if k == ">>":
            return Expr(f"({x.src} >> ({y.src} & 31))", lambda e: shr(x.ev(e), np.int32(y.ev(e)) & 31), "int32")
        if k in ("max", "min"):
            op = np.maximum if k == "max" else np.minimum
            return Expr(f"tl.{k}imum({x.src}, {y.src})", lambda e: op(x.ev(e), y.ev(e)).astype(np.int32), "int32")
        if k == "where":
            c = self.cond(d)
            return Expr(f"tl.where({c.src}, {x.src}, {y.src})", lambda e: np.where(c.ev(e), x.ev(e), y.ev(e)).astype(np.int32), "int32")
        if k == "neg":
            return Expr(f"(-{x.src})", lambda e: i32(-np.int64(1) * x.ev(e)), "int32")
        if k == "abs":
            return Expr(f"tl.abs({x.src})", lambda e: i32(np.abs(np.int64(1) * x.ev(e))), "int32")
        t = self.tile("int32", d)
        if k == "sum":
            return Expr(f"tl.sum({t.src}, axis=0)", lambda e: np.add.reduce(t.ev(e), dtype=np.int32), "int32")
        if k == "rmax":
            return Expr(f"tl.max({t.src}, axis=0)", lambda e: np.max(t.ev(e)).astype(np.int32), "int32")
        if k == "cumsum":
            return Expr(f"tl.cumsum({t.src}, axis=0)", lambda e: np.cumsum(t.ev(e), dtype=np.int32), "int32")
        f = self.expr("float32", d)
        if not has_runtime(f.src):
            return x
        return Expr(f"({f.src}).to(tl.int32)", lambda e: f2i(f.ev(e)), "int32")

    def float_op(self, d):
        x, y = self.operands("float32", d)
        k = self.pick(["+", "-", "*", "/", "max", "min", "where", "neg", "abs", "sqrt", "floor", "sum", "rmax", "cast"])
        f32 = np.float32
        if k in ("+", "-", "*"):
            op = {"+": np.add, "-": np.subtract, "*": np.multiply}[k]
            return Expr(f"({x.src} {k} {y.src})", lambda e: op(f32(x.ev(e)), f32(y.ev(e))), "float32")
        if k == "/":
            return Expr(f"({x.src} / (tl.abs({y.src}) + 1.0))", lambda e: f32(x.ev(e)) / (np.abs(f32(y.ev(e))) + f32(1)), "float32")
        if k in ("max", "min"):
            op = np.maximum if k == "max" else np.minimum
            return Expr(f"tl.{k}imum({x.src}, {y.src})", lambda e: op(f32(x.ev(e)), f32(y.ev(e))), "float32")
        if k == "where":
            c = self.cond(d)
            return Expr(f"tl.where({c.src}, {x.src}, {y.src})", lambda e: np.where(c.ev(e), f32(x.ev(e)), f32(y.ev(e))), "float32")
        if k == "neg":
            return Expr(f"(-{x.src})", lambda e: -f32(x.ev(e)), "float32")
        if k == "abs":
            return Expr(f"tl.abs({x.src})", lambda e: np.abs(f32(x.ev(e))), "float32")
        if k == "sqrt":
            return Expr(f"tl.sqrt(tl.abs({x.src}))", lambda e: np.sqrt(np.abs(f32(x.ev(e)))), "float32")
        if k == "floor":
            return Expr(f"tl.floor({x.src})", lambda e: np.floor(f32(x.ev(e))), "float32")
        t = self.tile("float32", d)
        if k == "sum":
            return Expr(f"tl.sum({t.src}, axis=0)", lambda e: np.sum(t.ev(e), dtype=np.float64).astype(np.float32), "float32")
        if k == "rmax":
            return Expr(f"tl.max({t.src}, axis=0)", lambda e: np.max(t.ev(e)), "float32")
        i = self.expr("int32", min(d, 1))
        if not has_runtime(i.src):
            return x
        return Expr(f"({i.src}).to(tl.float32)", lambda e: np.asarray(i.ev(e)).astype(np.float32), "float32")

    def tile(self, dtype, d):
        """An expression that is surely a tile (reductions need one): `offs`-based or a loaded input."""
        x = self.expr(dtype, d)
        inputs = ["a", "b", "c"] if dtype == self.dtype else []
        choice = self.pick(inputs + ["offs"])
        if choice == "offs":
            base = (Expr("offs", lambda e: e["offs"], "int32") if dtype == "int32"
                    else Expr("offs.to(tl.float32)", lambda e: e["offs"].astype(np.float32), "float32"))
        else:
            base = Expr(choice, lambda e, n=choice: e[n], dtype)
        return Expr(f"({x.src} + {base.src})", lambda e: (x.ev(e) + base.ev(e)).astype(np.dtype(dtype)) if dtype == "float32"
                    else i32(np.int64(1) * x.ev(e) + base.ev(e)), dtype)

    def cond(self, d):
        x, y = self.operands(self.dtype, d)
        k = self.pick(["<", "<=", ">", ">=", "==", "!="])
        op = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal, "!=": np.not_equal}[k]
        return Expr(f"({x.src} {k} {y.src})", lambda e: op(x.ev(e), y.ev(e)), "int1")

    def kernel(self):
        """The kernel's source and a NumPy function computing one program's output tile."""
        depth = 3 if self.dtype == "int32" else 2
        lines, steps = [], []
        for i in range(int(self.rng.integers(1, 4))):
            x = self.expr(self.dtype, depth)
            lines.append(f"    t{i} = {x.src}")
            steps.append((f"t{i}", x))
            self.names.append(f"t{i}")
        last = steps[-1][0]
        loop = self.rng.random() < 0.4
        branch = self.rng.random() < 0.3
        body = "\n".join(lines)
        loop_src = branch_src = ""
        if loop:
            self.names.append("i")
            step = self.expr(self.dtype, 2)
            self.names.remove("i")
            trips = int(self.rng.integers(1, 4))
            zeros = f"tl.zeros([BLOCK], tl.{self.dtype})"
            loop_src = f"    acc = {last} + {zeros}\n    for i in range({trips}):\n        acc = acc + {step.src} + {zeros}\n"
        if branch:
            y = self.expr(self.dtype, 2)
            branch_src = f"    if pid % 2 == 0:\n        out = {y.src}\n    else:\n        out = {'acc' if loop else last}\n"
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
            f"    tl.store(out_ptr + offs, {result}, mask=mask)\n")
        dt = np.dtype(self.dtype)

        def program(env):
            for name, e in steps:
                env[name] = np.asarray(e.ev(env), dt)
            value = env[last]
            if loop:
                acc = np.broadcast_to(value, (BLOCK,)).astype(dt)
                for i in range(trips):
                    env["i"] = np.int32(i)
                    inc = np.asarray(step.ev(env), dt)
                    acc = (acc + inc).astype(dt) if dt == np.float32 else i32(np.int64(1) * acc + inc)
                value = acc
            if branch and env["pid"] % 2 == 0:
                value = np.asarray(y.ev(env), dt)
            return np.broadcast_to(value, (BLOCK,)).astype(dt)

        return src, program


def run_seed(seed, backend="cpu"):
    """Compiles and runs seed's kernel; returns None when it agrees with NumPy, else a report."""
    gen = KernelGen(seed)
    src, program = gen.kernel()
    rng = np.random.default_rng(seed + 1_000_003)
    grid = int(rng.integers(1, 4))
    n = int(rng.integers(1, grid * BLOCK + 1))
    size = grid * BLOCK
    dt = np.dtype(gen.dtype)
    if dt == np.int32:
        inputs = [rng.integers(-1000, 1001, size).astype(np.int32) for _ in range(3)]
    else:
        inputs = [rng.uniform(-4, 4, size).astype(np.float32) for _ in range(3)]
    sentinel = np.int32(0x5B5B) if dt == np.int32 else np.float32(np.nan)
    out = np.full(size, sentinel, dt)
    ck = tilec.compile(src, name="k", signature=f"a_ptr:*{'i32' if dt == np.int32 else 'fp32'},b_ptr:*{'i32' if dt == np.int32 else 'fp32'},"
                       f"c_ptr:*{'i32' if dt == np.int32 else 'fp32'},out_ptr:*{'i32' if dt == np.int32 else 'fp32'},n:i32",
                       constexprs={"BLOCK": BLOCK}, backend=backend, path=f"<difftest seed {seed}>")
    ck[(grid,)](*inputs, out, n)
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
    if dt == np.int32:
        bad = np.nonzero(out != ref)[0]
    else:
        scale = 1e-4 * (1.0 + np.nanmax(np.abs(ref[:n]), initial=0.0))
        close = np.isclose(out, ref, rtol=1e-4, atol=scale, equal_nan=True)
        bad = np.nonzero(~close)[0]
    if bad.size == 0:
        return None
    i = bad[0]
    return (f"seed {seed}: {bad.size} of {size} elements differ (n={n}, grid={grid}); first at {i}: "
            f"tilec {out[i]!r}, NumPy {ref[i]!r}\n{src}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0:100", help="range START:END")
    args = ap.parse_args()
    start, end = (int(x) for x in args.seeds.split(":"))
    failures = 0
    for seed in range(start, end):
        try:
            report = run_seed(seed)
        except tilec.CompileError as e:
            report = f"seed {seed}: compile error\n{e}\n{KernelGen(seed).kernel()[0]}"
        if report:
            failures += 1
            print(textwrap.indent(report, "  "), file=sys.stderr)
    print(f"{end - start - failures} of {end - start} seeds agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
