"""GPU launches do no allocation or synchronization on the hot path, so they can be captured in a
CUDA graph and replayed; the replays read the inputs' current contents."""
import pytest

import tilec
import tilec.language as tl

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@tilec.jit
def axpy_kernel(x_ptr, y_ptr, out_ptr, n, a, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, a * tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)


def test_launch_is_captured_and_replayed_by_a_cuda_graph():
    n = 100_003
    x = torch.randn(n, device="cuda")
    y = torch.randn(n, device="cuda")
    out = torch.full((n,), float("nan"), device="cuda")
    grid = (tilec.cdiv(n, 1024),)
    axpy_kernel[grid](x, y, out, n, 2.0, BLOCK=1024)  # compile and load outside the capture
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        axpy_kernel[grid](x, y, out, n, 2.0, BLOCK=1024)
    for _ in range(3):
        x.copy_(torch.randn(n, device="cuda"))
        out.fill_(float("nan"))
        graph.replay()
        torch.cuda.synchronize()
        ref = 2.0 * x.double() + y.double()
        assert (torch.linalg.norm(out.double() - ref) / torch.linalg.norm(ref)).item() < 1e-6
