"""A fused RMSNorm as a PyTorch nn.Module whose forward launches a tilec kernel through
tilec.torch.custom_op: run eagerly, under torch.compile(fullgraph=True) (no graph break), and, on a
GPU, replayed from a captured CUDA graph; each checked against torch's own RMSNorm.
Without torch installed it says so and exits 0."""
import sys

import tilec
import tilec.language as tl


@tilec.jit
def _rms_norm_fwd(X, W, Y, stride, N, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < N
    x = tl.load(X + row * stride + cols, mask=mask, other=0.).to(tl.float32)
    rstd = 1 / tl.sqrt(tl.sum(x * x, axis=0) / N + eps)
    w = tl.load(W + cols, mask=mask).to(tl.float32)
    tl.store(Y + row * stride + cols, (x * rstd * w).to(Y.dtype.element_ty), mask=mask)


def build():
    """The op and the module (defined once torch is known to be there)."""
    import torch
    import tilec.torch

    @tilec.torch.custom_op("tilec_samples::rms_norm", mutates_args=(),
                           fake=lambda x, weight, eps: torch.empty_like(x))
    def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
        x2 = x.reshape(-1, x.shape[-1]).contiguous()
        y = torch.empty_like(x2)
        n = x2.shape[1]
        _rms_norm_fwd[(x2.shape[0],)](x2, weight, y, n, n, eps, BLOCK=tilec.next_power_of_2(n))
        return y.view(x.shape)

    class RMSNorm(torch.nn.Module):
        def __init__(self, hidden, eps=1e-6, device=None, dtype=None):
            super().__init__()
            self.eps = eps
            self.weight = torch.nn.Parameter(torch.ones(hidden, device=device, dtype=dtype))

        def forward(self, x):
            return rms_norm(x, self.weight, self.eps)

    return rms_norm, RMSNorm


def main():
    try:
        import torch
    except ImportError:
        print("torch_module: skipped, PyTorch is not installed")
        return 0
    _, RMSNorm = build()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    torch.manual_seed(0)
    failed = 0
    for device in devices:
        hidden = 1000
        norm = RMSNorm(hidden, device=device)
        with torch.no_grad():
            norm.weight.uniform_(0.5, 1.5)
        x = torch.randn(4, 37, hidden, device=device)
        with torch.no_grad():
            ref = torch.nn.functional.rms_norm(x.double(), (hidden,), norm.weight.double(), norm.eps).float()
            results = {"eager": norm(x)}
            compiled = torch.compile(norm, fullgraph=True)
            results["torch.compile(fullgraph=True)"] = compiled(x)
            if device == "cuda":
                static_x = x.clone()
                norm(static_x)  # compiled before capture
                torch.cuda.synchronize()
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    static_y = norm(static_x)
                static_x.copy_(x)
                graph.replay()
                torch.cuda.synchronize()
                results["CUDA graph"] = static_y
        for mode, y in results.items():
            err = ((y.double() - ref.double()).norm() / ref.double().norm()).item()
            ok = err < 1e-5
            failed += not ok
            print(f"torch_module [{device}] {mode}: rel err {err:.1e} {'ok' if ok else 'FAILED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
