"""Issue #9, the remaining Triton API: tl.load/tl.store cache_modifier=, eviction_policy= and
volatile= (PTX qualifiers on the GPU, accepted without effect on the CPU), tl.device_print and
print in kernels, tl.inline_asm_elementwise (GPU only), and early returns in tl.static_range loops.
Every execution test runs on each available backend against NumPy, outputs poisoned first."""
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import tilec
import tilec.language as tl
from conftest import HAS_CUDA, poison, rand

# ---- cache modifiers and eviction policies ----


@tilec.jit
def cache_hints_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    a = tl.load(x_ptr + offs, mask=m, cache_modifier=".ca")
    b = tl.load(x_ptr + offs, mask=m, other=0, cache_modifier=".cg")
    c = tl.load(x_ptr + offs, mask=m, cache_modifier=".cv")
    d = tl.load(x_ptr + offs, mask=m, eviction_policy="evict_first")
    e = tl.load(x_ptr + offs, mask=m, eviction_policy="evict_last")
    f = tl.load(x_ptr + offs, mask=m, volatile=True)
    tl.store(out_ptr + offs, a, mask=m, cache_modifier=".wb")
    tl.store(out_ptr + n + offs, b, mask=m, cache_modifier=".cg")
    tl.store(out_ptr + 2 * n + offs, c, mask=m, cache_modifier=".cs")
    tl.store(out_ptr + 3 * n + offs, d, mask=m, cache_modifier=".wt")
    tl.store(out_ptr + 4 * n + offs, e, mask=m, eviction_policy="evict_first")
    tl.store(out_ptr + 5 * n + offs, f, mask=m, eviction_policy="evict_last")
    # Unmasked, contiguous and aligned: the GPU moves these as 16-byte vectors.
    head = tl.arange(0, BLOCK)
    g = tl.load(x_ptr + head, cache_modifier=".cg")
    tl.store(out_ptr + 6 * n + pid * BLOCK + head, g, cache_modifier=".cs")
    # Scalars: one thread on the GPU.
    s = tl.load(x_ptr + pid, eviction_policy="evict_last")
    tl.store(out_ptr + 6 * n + tl.num_programs(0) * BLOCK + pid, s, cache_modifier=".wt")


@pytest.mark.parametrize("dtype", ["float32", "float16", "int8", "int64"])
def test_cache_modifiers_keep_results(backend, rng, dtype):
    n, block = 1300, 512
    grid = tilec.cdiv(n, block)
    x = rand(rng, n + block, dtype)
    total = 6 * n + grid * block + grid
    out = backend.out(total, dtype)
    cache_hints_kernel[(grid,)](backend.put(x), out, n, BLOCK=block)
    out = backend.get(out)
    for k in range(6):
        np.testing.assert_array_equal(out[k * n:(k + 1) * n], x[:n], err_msg=f"region {k}")
    np.testing.assert_array_equal(out[6 * n:6 * n + grid * block], np.tile(x[:block], grid))
    np.testing.assert_array_equal(out[6 * n + grid * block:], x[:grid])


def cuda_kernel(src, name, signature, constexprs, arch, path):
    """tilec.compile for the CUDA backend (NVRTC, no GPU needed); skips when NVRTC is missing."""
    try:
        return tilec.compile(src, name=name, signature=signature, constexprs=constexprs, backend="cuda", arch=arch,
                             path=path)
    except tilec.CompileError as e:
        if "NVRTC" in str(e) and "not" in str(e):
            pytest.skip(f"NVRTC unavailable: {e}")
        raise


def ptxas_check(ptx, arch):
    """Assembles PTX with ptxas when the CUDA toolkit has it (inline PTX is only checked there)."""
    ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
    if not os.path.exists(ptxas):
        return
    target = re.search(r"^\.target (sm_\w+)", ptx, flags=re.M)
    arch = target.group(1)[3:] if target else arch  # sm_90a for kernels that use wgmma
    r = subprocess.run([ptxas, f"-arch=sm_{arch}", "-", "-o", os.devnull], input=ptx, capture_output=True, text=True)
    older = re.search(r"Unsupported \.version [0-9.]+; current version is '([0-9.]+)'", r.stderr)
    if older:  # a toolkit ptxas older than NVRTC: these kernels use nothing newer than its PTX version
        ptx = re.sub(r"^\.version [0-9.]+$", ".version " + older.group(1), ptx, flags=re.M)
        r = subprocess.run([ptxas, f"-arch=sm_{arch}", "-", "-o", os.devnull], input=ptx, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("arch", [80, 90])
def test_cache_modifiers_in_ptx(arch):
    ck = cuda_kernel(open(__file__).read(), "cache_hints_kernel", "x_ptr:*fp32:16,out_ptr:*fp32:16,n:i32", {"BLOCK": 512}, arch, __file__)
    cuda, ptx = ck.asm["cuda"], ck.asm["ptx"]
    for call in ["tc_ld_ca(", "tc_ld_cg(", "tc_ld_cv(", "tc_ld_evict_first(", "tc_ld_evict_last(", "tc_ld_volatile(",
                 "tc_st_wb(", "tc_st_cg(", "tc_st_cs(", "tc_st_wt(", "tc_st_evict_first(", "tc_st_evict_last("]:
        assert call in cuda, call
    found = set(re.findall(r"\b((?:ld|st)(?:\.volatile)?\.global(?:\.[A-Za-z0-9:_]+)*)", ptx))
    for q in ["ld.global.ca", "ld.global.cg", "ld.global.cv", "ld.global.L1::evict_first", "ld.global.L1::evict_last",
              "ld.volatile.global", "st.global.wb", "st.global.cg", "st.global.cs", "st.global.wt",
              "st.global.L1::evict_first", "st.global.L1::evict_last"]:
        assert any(f == q or f.startswith(q + ".") for f in found), (q, sorted(found))
    assert any(f.startswith("ld.global.cg.v4") for f in found), "the unmasked .cg load should be a 16-byte vector"
    ptxas_check(ptx, arch)


BAD_HINTS = [
    ('tl.load(x + offs, cache_modifier=".wb")', "tl.load cache_modifier='.wb' is not supported; use '.ca', '.cg' or '.cv'"),
    ('tl.load(x + offs, eviction_policy="evict_normal")', "tl.load eviction_policy='evict_normal' is not supported"),
    ('tl.load(x + offs, cache_modifier=1)', "tl.load cache_modifier must be a string"),
    ('tl.load(x + offs, volatile=True, cache_modifier=".cg")', "a volatile tl.load takes no cache_modifier or eviction_policy"),
    ('tl.store(x + offs, 1.0, cache_modifier=".ca")', "tl.store cache_modifier='.ca' is not supported; use '.wb', '.cg', '.cs' or '.wt'"),
    ('tl.store(x + offs, 1.0, cache_modifier=".wt", eviction_policy="evict_last")', "tl.store cannot take both"),
    ('tl.store(x + offs, 1.0, volatile=True)', "store() got an unexpected keyword argument 'volatile'"),
]


@pytest.mark.parametrize("call,message", BAD_HINTS)
def test_bad_cache_hints_are_errors(call, message):
    src = f"import tilec\nimport tilec.language as tl\n\n@tilec.jit\ndef k(x):\n    offs = tl.arange(0, 16)\n    {call}\n"
    with pytest.raises(tilec.CompileError) as e:
        tilec.compile(src, name="k", signature="x:*fp32", path="hints.py")
    text = str(e.value)
    assert message in text
    assert "hints.py:7:" in text and "^" in text


# ---- device_print ----


@tilec.jit
def print_kernel(x_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=-1.0)
    tl.device_print("x", x)
    print("offs", offs, pid)
    tl.device_print("bits", x, hex=True)
    tl.device_print(" program done")


def expected_print_lines(x, grid, block):
    lines = []
    for pid in range(grid):
        head = f"pid ({pid}, 0, 0)"
        for i in range(block):
            v = x[pid * block + i] if pid * block + i < len(x) else np.float32(-1.0)
            bits = int(np.float32(v).view(np.uint32))
            lines.append(f"{head} idx ({i:2d}) x: {float(v):f}")
            lines.append(f"{head} idx ({i:2d}) offs: (operand 0) {pid * block + i}")
            lines.append(f"{head} idx ({i:2d}) bits: 0x{bits:08x}")
        lines.append(f"{head} idx () offs: (operand 1) {pid}")
        lines.append(f"{head} program done")
    return sorted(lines)


def test_device_print(backend, rng, capfd):
    n, block, grid = 40, 32, 2
    x = rand(rng, n, "float32")
    capfd.readouterr()
    print_kernel[(grid,)](backend.put(x), n, BLOCK=block)
    backend.sync()
    out = capfd.readouterr().out
    assert sorted(l for l in out.splitlines() if l.startswith("pid (")) == expected_print_lines(x, grid, block)


# ---- inline_asm_elementwise ----

ASM_SRC = '''
import tilec
import tilec.language as tl

@tilec.jit
def asm_kernel(x_ptr, b_ptr, y_ptr, z_ptr, w_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    y = tl.inline_asm_elementwise("brev.b32 $0, $1;", "=r,r", [x], dtype=tl.uint32, is_pure=True, pack=1)
    tl.store(y_ptr + offs, y)
    b = tl.load(b_ptr + offs)
    z = tl.inline_asm_elementwise("not.b32 $0, $1;", "=r,r", [b], dtype=tl.uint8, is_pure=True, pack=4)
    tl.store(z_ptr + offs, z)
    lo, hi = tl.inline_asm_elementwise("mov.b64 {$0, $1}, $2;", "=r,=r,l", [x.to(tl.uint64) << 32 | 7], dtype=(tl.uint32, tl.uint32),
                                       is_pure=False, pack=1)
    tl.store(w_ptr + offs, lo + hi)
'''

ASM_SIG = "x_ptr:*u32:16,b_ptr:*u8:16,y_ptr:*u32:16,z_ptr:*u8:16,w_ptr:*u32:16"


def asm_reference(x, b):
    y = np.array([int(f"{v:032b}"[::-1], 2) for v in x.tolist()], np.uint32)
    return y, (~b).astype(np.uint8), (x + np.uint32(7)).astype(np.uint32)


@pytest.mark.parametrize("arch", [80, 90])
def test_inline_asm_compiles_for_cuda(arch):
    ck = cuda_kernel(ASM_SRC, "asm_kernel", ASM_SIG, {"BLOCK": 1024}, arch, "asm.py")
    assert "brev.b32" in ck.asm["ptx"] and "not.b32" in ck.asm["ptx"]
    assert 'asm volatile("mov.b64 {%0, %1}, %2;"' in ck.asm["cuda"]
    ptxas_check(ck.asm["ptx"], arch)


def test_inline_asm_on_cpu_is_an_error():
    with pytest.raises(tilec.CompileError) as e:
        tilec.compile(ASM_SRC, name="asm_kernel", signature=ASM_SIG, constexprs={"BLOCK": 1024}, path="asm.py")
    assert "tl.inline_asm_elementwise runs PTX, which only the CUDA backend can run" in str(e.value)
    assert "asm.py:9:" in str(e.value)


@pytest.mark.skipif(not HAS_CUDA, reason="inline PTX runs on the GPU only")
def test_inline_asm_runs_on_gpu(rng):
    import torch
    block = 1024
    x = rng.integers(0, 2 ** 32, block, dtype=np.uint64).astype(np.uint32)
    b = rng.integers(0, 256, block, dtype=np.uint16).astype(np.uint8)
    outs = [torch.from_numpy(poison(block, d)).cuda() for d in ("uint32", "uint8", "uint32")]
    major, minor = torch.cuda.get_device_capability()
    ck = tilec.compile(ASM_SRC, name="asm_kernel", signature=ASM_SIG, constexprs={"BLOCK": block}, backend="cuda",
                       arch=major * 10 + minor, path="asm.py")
    ck[(1,)](torch.from_numpy(x).cuda(), torch.from_numpy(b).cuda(), *outs)
    torch.cuda.synchronize()
    for got, ref in zip(outs, asm_reference(x, b)):
        np.testing.assert_array_equal(got.cpu().numpy(), ref)


BAD_ASM = [
    ('"=r,r,r"', "[x]", "pack=1", "constraints '=r,r,r' give 1 outputs and 2 inputs, but 1 result dtype(s) and 1 argument(s)"),
    ('"=r,q"', "[x]", "pack=1", "constraint 'q' is not supported"),
    ('"=r,r"', "[x]", "pack=3", "pack must be 1, 2 or 4, got 3"),
]


@pytest.mark.parametrize("constraints,args,pack,message", BAD_ASM)
def test_bad_inline_asm_is_an_error(constraints, args, pack, message):
    src = ("import tilec\nimport tilec.language as tl\n\n@tilec.jit\ndef k(p):\n    x = tl.load(p + tl.arange(0, 16))\n"
           f"    tl.store(p + tl.arange(0, 16), tl.inline_asm_elementwise('mov.b32 $0, $1;', {constraints}, {args}, "
           f"dtype=tl.uint32, is_pure=True, {pack}))\n")
    with pytest.raises(tilec.CompileError) as e:
        tilec.compile(src, name="k", signature="p:*u32", path="asm_bad.py")
    assert message in str(e.value) and "asm_bad.py:7:" in str(e.value)


# ---- early return inside tl.static_range ----


@tilec.jit
def static_return_kernel(out_ptr, limit, STEPS: tl.constexpr):
    for i in tl.static_range(STEPS):
        if limit < i:
            return
        tl.store(out_ptr + i, i * 10)
    tl.store(out_ptr + STEPS, 99)


@pytest.mark.parametrize("limit", [-1, 0, 2, 7])
def test_early_return_in_static_range(backend, limit):
    steps = 4
    out = backend.out(steps + 1, "int32")
    static_return_kernel[(1,)](out, limit, STEPS=steps)
    out = backend.get(out)
    ref = poison(steps + 1, "int32")
    for i in range(steps):
        if limit < i:
            break
        ref[i] = i * 10
    else:
        ref[steps] = 99
    np.testing.assert_array_equal(out, ref)
