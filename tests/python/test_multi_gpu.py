"""Several GPUs in one process: each launch runs on its tensors' device, the caller's CUDA context
is restored afterwards, cubins are shared between devices of one arch and loaded per device, and
launches from several threads at once work. Runs on any number of GPUs (skips without one)."""
import ctypes
import os
import threading

import numpy as np
import pytest

import tilec
import tilec.language as tl

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@tilec.jit
def scale_add_kernel(x_ptr, y_ptr, out_ptr, n, alpha, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, alpha * x + y, mask=mask)


def _launch_and_check(device, n, seed):
    gen = torch.Generator(device="cpu").manual_seed(seed)
    x = torch.randn(n, generator=gen).to(device)
    y = torch.randn(n, generator=gen).to(device)
    out = torch.full((n,), float("nan"), device=device)
    scale_add_kernel[(tilec.cdiv(n, 256),)](x, y, out, n, 1.5, BLOCK=256)
    ref = 1.5 * x.double() + y.double()
    err = (torch.linalg.norm(out.double() - ref) / torch.linalg.norm(ref)).item()
    assert err < 1e-6, f"{device}: relative error {err}"


def _current_context():
    libcuda = ctypes.CDLL("libcuda.so.1")
    ctx = ctypes.c_void_p()
    assert libcuda.cuCtxGetCurrent(ctypes.byref(ctx)) == 0
    return ctx.value


def test_context_is_restored_in_a_thread_without_one():
    # A fresh thread has no current context: the launch must make the device's primary context
    # current for itself and leave the thread as it found it. Tensors and the stream are made in
    # this thread so that only tilec touches the worker's context.
    n = 10_000
    x = torch.randn(n, device="cuda:0")
    y = torch.randn(n, device="cuda:0")
    out = torch.full((n,), float("nan"), device="cuda:0")
    stream = torch.cuda.current_stream(0).cuda_stream
    result = {}

    def worker():
        try:
            result["before"] = _current_context()
            scale_add_kernel[(tilec.cdiv(n, 256),)](x, y, out, n, 1.5, BLOCK=256, stream=stream)
            result["after"] = _current_context()
        except BaseException as e:  # reported in the main thread
            result["error"] = e

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert "error" not in result, result.get("error")
    assert result["before"] is None
    assert result["after"] is None
    torch.cuda.synchronize(0)
    ref = 1.5 * x.double() + y.double()
    assert (torch.linalg.norm(out.double() - ref) / torch.linalg.norm(ref)).item() < 1e-6


def test_caller_device_and_context_unchanged():
    torch.cuda.set_device(0)
    before = _current_context()
    _launch_and_check(f"cuda:{torch.cuda.device_count() - 1}", 4099, 2)
    assert torch.cuda.current_device() == 0
    assert _current_context() == before


def test_mixing_cpu_and_cuda_tensors_names_both_devices():
    x = torch.randn(16, device="cuda:0")
    y = torch.randn(16)
    out = torch.empty(16, device="cuda:0")
    with pytest.raises(ValueError, match=r"'x_ptr' is on cuda:0 but 'y_ptr' is on cpu"):
        scale_add_kernel[(1,)](x, y, out, 16, 1.0, BLOCK=16)


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
def test_tensors_on_two_gpus_are_rejected():
    x = torch.randn(16, device="cuda:0")
    y = torch.randn(16, device="cuda:1")
    out = torch.empty(16, device="cuda:0")
    with pytest.raises(ValueError, match=r"cuda:0 but 'y_ptr' is on cuda:1"):
        scale_add_kernel[(1,)](x, y, out, 16, 1.0, BLOCK=16)


def test_every_device_shares_one_compiled_kernel(tmp_path, monkeypatch):
    n = 5000
    for d in range(torch.cuda.device_count()):
        _launch_and_check(f"cuda:{d}", n, 3 + d)
    archs = {torch.cuda.get_device_capability(d) for d in range(torch.cuda.device_count())}
    x = torch.randn(n, device="cuda:0")
    keys = set()
    for d in range(torch.cuda.device_count()):
        xd = x.to(f"cuda:{d}")
        keys.add(scale_add_kernel.warmup(xd, xd, xd, n, 1.5, BLOCK=256, grid=(1,)).metadata["cache_key"])
    assert len(keys) == len(archs)  # one cubin per architecture, loaded on each device


def test_concurrent_launches_from_threads_on_every_device():
    errors = []

    def worker(device, seed):
        try:
            with torch.cuda.device(device):
                for i in range(20):
                    _launch_and_check(device, 3000 + 17 * i, seed * 100 + i)
        except BaseException as e:
            errors.append(e)

    devices = [f"cuda:{d}" for d in range(torch.cuda.device_count())]
    threads = [threading.Thread(target=worker, args=(dev, k)) for k, dev in enumerate(devices * 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
