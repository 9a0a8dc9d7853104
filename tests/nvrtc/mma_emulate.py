#!/usr/bin/env python3
"""CPU emulation of the register-accumulator tensor-core dot that the CUDA backend emits for
`acc = tl.dot(a, b, acc)` in a loop. Generates CUDA C for samples/matmul.py with several block
shapes and warp counts, takes the index expressions out of the generated source (staging stores,
warp origin, ldmatrix addresses, fragment <-> shared-memory mapping, flat read-back) and executes
them with ldmatrix and mma.m16n8k16 modelled per the PTX ISA fragment definitions. Checks that the
fragments of all warps cover the tile exactly once and that the emulated product equals A @ B.
Needs no GPU."""
import os
import re
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIG = ("a_ptr:*fp16:16,b_ptr:*fp16:16,c_ptr:*fp16:16,M:i32:16,N:i32:16,K:i32:16,"
       "stride_am:i32:16,stride_bk:i32:16,stride_cm:i32:16")


def c2py(expr):
    return expr.replace(" / ", " // ")


def find(pattern, src, what):
    m = re.search(pattern, src)
    if not m:
        raise AssertionError(f"generated source has no {what}")
    return m


def ldmatrix(mem, addrs, count, trans):
    """PTX ldmatrix.m8n8.xN(.trans).b16: lanes 8j..8j+7 give the row addresses of matrix j; lane l
    receives in register j the pair M_j[l/4][2(l%4) + {0,1}] (transposed: M_j[2(l%4) + {0,1}][l/4])."""
    regs = [[None] * count for _ in range(32)]
    for j in range(count):
        mat = np.array([mem[addrs[8 * j + r]:addrs[8 * j + r] + 8] for r in range(8)])
        for l in range(32):
            if trans:
                regs[l][j] = (mat[2 * (l % 4)][l // 4], mat[2 * (l % 4) + 1][l // 4])
            else:
                regs[l][j] = (mat[l // 4][2 * (l % 4)], mat[l // 4][2 * (l % 4) + 1])
    return regs


def dests(args):
    """`af[mi][0], af[mi][1], ...` -> [(tile expression, register)] in argument order."""
    return [(m.group(1), int(m.group(2))) for m in re.finditer(r"[ab]f\[([^\]]*)\]\[(\d)\]", args)]


def scatter(frags, dst, regs, env):
    for j, (tile, r) in enumerate(dst):
        t = eval(c2py(tile), env)
        for l in range(32):
            assert frags[t][l][r] is None, "fragment register loaded twice"
            frags[t][l][r] = regs[l][j]


def mma(acc, a, b):
    """mma.m16n8k16.row.col f32: per lane, a[4] / b[2] registers of two halves, acc[4] floats."""
    A = np.full((16, 16), np.nan)
    B = np.full((16, 8), np.nan)
    for l in range(32):
        g, t4 = l // 4, l % 4
        for i in range(8):  # a0..a7
            A[g + 8 * ((i // 2) % 2), 2 * t4 + i % 2 + 8 * (i // 4)] = a[l][i // 2][i % 2]
        for i in range(4):  # b0..b3
            B[2 * t4 + i % 2 + 8 * (i // 2), g] = b[l][i // 2][i % 2]
    assert not np.isnan(A).any() and not np.isnan(B).any()
    C = A @ B
    for l in range(32):
        g, t4 = l // 4, l % 4
        for i in range(4):
            acc[l][i] += C[g + 8 * (i // 2), 2 * t4 + i % 2]


def run_case(tilec, bm, bn, bk, warps):
    cmd = [tilec, "dump", os.path.join(ROOT, "samples", "matmul.py"), "--kernel", "matmul_kernel", "--signature", SIG,
           "--constexpr", "stride_ak=1", "--constexpr", "stride_bn=1", "--constexpr", "stride_cn=1",
           "--constexpr", f"BLOCK_SIZE_M={bm}", "--constexpr", f"BLOCK_SIZE_N={bn}", "--constexpr", f"BLOCK_SIZE_K={bk}",
           "--constexpr", "GROUP_SIZE_M=8", "--num-warps", str(warps), "--emit", "cuda"]
    src = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    m, n, k = bm, bn, bk
    sa_idx = find(r"sa\[(\(e / \d+\) \* \d+ \+ e % \d+)\]", src, "A staging store").group(1)
    sb_idx = find(r"sb\[(\(e / \d+\) \* \d+ \+ e % \d+)\]", src, "B staging store").group(1)
    off_b = int(find(r"sb = reinterpret_cast<__half\*>\(smem \+ (\d+)\)", src, "B offset").group(1)) // 2
    mtw, ntw = map(int, find(r"unsigned af\[(\d+)\]\[4\], bf\[(\d+)\]\[2\];", src, "fragment arrays").groups())
    wrc = find(r"const int wr = (.*), wc = (.*);", src, "warp origin")
    kstep = find(r"for \(int k0 = 0; k0 < (\d+); k0 \+= 16\)", src, "k loop")
    assert int(kstep.group(1)) == k
    a4 = find(r"tc_ldsm_x4\((.*), &sa\[(.*)\]\);", src, "A ldmatrix")
    a_addr, a_dst = a4.group(2), dests(a4.group(1))
    b4 = re.search(r"tc_ldsm_x4_trans\((.*), &sb\[(.*)\]\);", src)
    b2 = re.search(r"tc_ldsm_x2_trans\((.*), &sb\[(.*)\]\);", src)
    fr = find(r"const int fr = (.*);", src, "fragment row origin").group(1)
    fc = find(r"const int fc = (.*);", src, "fragment col origin").group(1)
    rc = find(r"const int row = (fr .*), col = (fc .*);", src, "fragment tile origin")
    sc_at = re.findall(r"(sc\[[^\]]*\]) = v\d+_accumulator_frag\[t\]\[(\d)\];", src)
    assert len(sc_at) == 4, sc_at
    flat = find(r"_accumulator\d*\[i\] = sc\[(\(e / \d+\) \* \d+ \+ e % \d+)\];|\[i\] = sc\[(\(e / \d+\) \* \d+ \+ e % \d+)\];", src, "flat read-back")
    flat_idx = flat.group(1) or flat.group(2)

    rng = np.random.default_rng(bm * 7 + bn * 3 + bk + warps)
    A = rng.integers(-4, 5, (m, k)).astype(np.float64)
    B = rng.integers(-4, 5, (k, n)).astype(np.float64)
    smem = np.full(off_b + k * (n + 64), np.nan)
    for e in range(m * k):
        smem[eval(c2py(sa_idx), {"e": e})] = A[e // k, e % k]
    for e in range(k * n):
        smem[off_b + eval(c2py(sb_idx), {"e": e})] = B[e // n, e % n]
    sc = {}
    for warp in range(warps):
        env = {"warp": warp}
        wr, wc = eval(c2py(wrc.group(1)), env), eval(c2py(wrc.group(2)), env)
        acc = [[[0.0] * 4 for _ in range(32)] for _ in range(mtw * ntw)]
        for k0 in range(0, k, 16):
            af = [[[None] * 4 for _ in range(32)] for _ in range(mtw)]
            for mi in range(mtw):
                addrs = [eval(c2py(a_addr), {"wr": wr, "mi": mi, "lane": l, "k0": k0}) for l in range(32)]
                scatter(af, a_dst, ldmatrix(smem, addrs, 4, False), {"mi": mi})
            bf = [[[None] * 2 for _ in range(32)] for _ in range(ntw)]
            if b4:
                for ni in range(0, ntw - 1, 2):
                    addrs = [off_b + eval(c2py(b4.group(2)), {"wc": wc, "ni": ni, "lane": l, "k0": k0}) for l in range(32)]
                    scatter(bf, dests(b4.group(1)), ldmatrix(smem, addrs, 4, True), {"ni": ni})
            if b2:
                addrs = [off_b + eval(c2py(b2.group(2)), {"wc": wc, "lane": l, "k0": k0}) for l in range(16)] + [0] * 16
                scatter(bf, dests(b2.group(1)), ldmatrix(smem, addrs, 2, True), {})
            assert all(x is not None for f in af + bf for lane in f for x in lane), "fragment register not loaded"
            for mi in range(mtw):
                for ni in range(ntw):
                    mma(acc[mi * ntw + ni], af[mi], bf[ni])
        for lane in range(32):
            env = {"warp": warp, "lane": lane}
            env["fr"], env["fc"] = eval(c2py(fr), env), eval(c2py(fc), env)
            for t in range(mtw * ntw):
                env["t"] = t
                env["row"], env["col"] = eval(c2py(rc.group(1)), env), eval(c2py(rc.group(2)), env)
                for at, r in sc_at:
                    idx = eval(c2py(at[3:-1]), env)
                    assert idx not in sc, f"fragment register written twice at {idx}"
                    sc[idx] = acc[t][lane][int(r)]
    C = np.array([sc[eval(c2py(flat_idx), {"e": e})] for e in range(m * n)]).reshape(m, n)
    assert len(sc) == m * n, f"{len(sc)} fragment registers for {m * n} elements"
    assert np.array_equal(C, A @ B), "emulated product differs from A @ B"


def main():
    tilec = os.path.abspath(sys.argv[1])
    cases = [(128, 128, 64, 8), (64, 64, 32, 4), (128, 64, 32, 4), (32, 128, 64, 4), (32, 16, 16, 4), (16, 64, 16, 2),
             (64, 128, 32, 8), (128, 256, 32, 8), (16, 16, 16, 1), (256, 128, 32, 8)]
    for c in cases:
        run_case(tilec, *c)
        print(f"ok   BLOCK {c[0]}x{c[1]}x{c[2]} num_warps={c[3]}")


if __name__ == "__main__":
    main()
