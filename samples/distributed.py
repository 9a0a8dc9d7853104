"""torch.distributed with tilec: each rank runs a tilec kernel on its shard of the data on its own
GPU, then the shards' sums are all-reduced over NCCL and checked against a single-process result.

    torchrun --nproc-per-node=N samples/distributed.py
"""
import os

import tilec
import tilec.language as tl

# NVLink multicast stays off (shared machines); set before NCCL starts.
os.environ.setdefault("NCCL_NVLS_ENABLE", "0")
os.environ.setdefault("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1")


@tilec.jit
def shard_kernel(x_ptr, out_ptr, partial_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    y = tl.sigmoid(x) * x  # SiLU
    tl.store(out_ptr + offs, y, mask=mask)
    tl.atomic_add(partial_ptr, tl.sum(tl.where(mask, y, 0.0), axis=0))


def main():
    import torch
    import torch.distributed as dist

    dist.init_process_group("nccl")
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    device = torch.device("cuda", local_rank)
    torch.cuda.set_device(device)

    n_total = 1_000_003
    full = torch.randn(n_total, generator=torch.Generator().manual_seed(0), dtype=torch.float32)
    shard = full.tensor_split(world)[rank].to(device)
    out = torch.full_like(shard, float("nan"))
    partial = torch.zeros(1, device=device)
    shard_kernel[(tilec.cdiv(shard.numel(), 1024),)](shard, out, partial, shard.numel(), BLOCK=1024)

    ref_shard = torch.nn.functional.silu(shard.double())
    err = (torch.linalg.norm(out.double() - ref_shard) / torch.linalg.norm(ref_shard)).item()
    dist.all_reduce(partial)
    expected = torch.nn.functional.silu(full.double()).sum().item()
    rel = abs(partial.item() - expected) / abs(expected)
    ok = err < 1e-6 and rel < 1e-4
    print(f"rank {rank}/{world} on {device}: shard rel err {err:.1e}; all-reduced sum {partial.item():.3f} "
          f"vs {expected:.3f} (rel {rel:.1e}) {'ok' if ok else 'FAILED'}", flush=True)
    dist.destroy_process_group()
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
