"""tilec.torch.custom_op: a function launching tilec kernels runs as one PyTorch operator, eagerly,
under torch.compile(fullgraph=True) (no graph break: it would raise), with its fake implementation
checked by torch.library.opcheck, and (on a GPU) replayed from a captured CUDA graph. The RMSNorm
of samples/torch_module.py is compared with torch's."""
import os
import sys

import pytest

torch = pytest.importorskip("torch")
if not hasattr(torch.library, "custom_op"):
    pytest.skip("needs torch >= 2.4 (torch.library.custom_op)", allow_module_level=True)

import tilec  # noqa: E402
import tilec.language as tl  # noqa: E402
import tilec.torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "samples"))
import torch_module  # noqa: E402

rms_norm, RMSNorm = torch_module.build()
HAS_CUDA = torch.cuda.is_available()


@tilec.jit
def _scale_kernel(X, Y, n, s, BLOCK: tl.constexpr):
    o = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(Y + o, tl.load(X + o, mask=o < n) * s, mask=o < n)


@tilec.torch.custom_op("tilec_test::scale", mutates_args=(), fake=lambda x, s: torch.empty_like(x))
def scale(x: torch.Tensor, s: float) -> torch.Tensor:
    y = torch.empty_like(x)
    _scale_kernel[(tilec.cdiv(x.numel(), 256),)](x, y, x.numel(), s, BLOCK=256)
    return y


@tilec.torch.custom_op("tilec_test::scale_", mutates_args=("x",))
def scale_(x: torch.Tensor, s: float) -> None:
    _scale_kernel[(tilec.cdiv(x.numel(), 256),)](x, x, x.numel(), s, BLOCK=256)


def reference_rms_norm(x, w, eps):
    return torch.nn.functional.rms_norm(x.double(), (x.shape[-1],), w.double(), eps).float()


def devices():
    return ["cpu"] + (["cuda"] if HAS_CUDA else [])


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA"))])
def test_custom_op_eager_and_fullgraph_compile(device):
    x = torch.randn(1000, device=device)

    def f(x):
        return torch.relu(scale(x + 1, 3.0)) * 2

    expected = torch.relu((x + 1) * 3.0) * 2
    torch.testing.assert_close(f(x), expected)
    torch._dynamo.reset()
    torch.testing.assert_close(torch.compile(f, fullgraph=True, backend="eager")(x), expected)


def test_custom_op_that_mutates_needs_no_fake():
    x = torch.ones(300)
    scale_(x, 2.0)
    assert torch.equal(x, torch.full((300,), 2.0))

    def f(x):
        scale_(x, 5.0)
        return x + 1

    torch._dynamo.reset()
    y = torch.compile(f, fullgraph=True, backend="eager")(x)
    assert torch.equal(y, torch.full((300,), 11.0))


def test_opcheck_fake_and_schema():
    torch.library.opcheck(scale, (torch.randn(77), 0.5), test_utils=("test_schema", "test_faketensor"))
    torch.library.opcheck(rms_norm, (torch.randn(3, 50), torch.rand(50) + 0.5, 1e-6),
                          test_utils=("test_schema", "test_faketensor"))


def test_missing_fake_and_bad_name_are_errors():
    def g(x: torch.Tensor) -> torch.Tensor:
        return x
    with pytest.raises(TypeError, match="pass fake="):
        tilec.torch.custom_op("tilec_test::g", g, mutates_args=())
    with pytest.raises(ValueError, match="namespace::op_name"):
        tilec.torch.custom_op("no_namespace", g, mutates_args=(), fake=lambda x: torch.empty_like(x))


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA"))])
def test_rms_norm_module_eager_and_inductor(device):
    torch.manual_seed(0)
    norm = RMSNorm(384, device=device)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        x = torch.randn(2, 33, 384, device=device)
        ref = reference_rms_norm(x, norm.weight, norm.eps)
        torch.testing.assert_close(norm(x), ref, rtol=1e-5, atol=1e-5)
        torch._dynamo.reset()
        torch.testing.assert_close(torch.compile(norm, fullgraph=True)(x), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
def test_rms_norm_module_cuda_graph():
    torch.manual_seed(0)
    norm = RMSNorm(1000, device="cuda")
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        static_x = torch.randn(64, 1000, device="cuda")
        norm(static_x)  # compiles the kernel before capture
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_y = norm(static_x)
        for _ in range(3):
            x = torch.randn(64, 1000, device="cuda")
            static_x.copy_(x)
            graph.replay()
            torch.cuda.synchronize()
            torch.testing.assert_close(static_y, reference_rms_norm(x, norm.weight, norm.eps), rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
def test_compiled_module_under_cuda_graph_mode():
    # torch.compile's own CUDA-graph mode ("reduce-overhead") with the custom op inside.
    norm = RMSNorm(512, device="cuda")
    compiled = torch.compile(norm, fullgraph=True, mode="reduce-overhead")
    with torch.no_grad():
        for _ in range(3):
            x = torch.randn(16, 512, device="cuda")
            torch.testing.assert_close(compiled(x).clone(), reference_rms_norm(x, norm.weight, norm.eps), rtol=1e-5, atol=1e-5)
