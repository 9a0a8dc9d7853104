"""Tiled matrix multiplication with grouped program ordering (Triton tutorial 03)."""
import tilec
import tilec.language as tl


@tilec.jit
def matmul_kernel(
        a_ptr, b_ptr, c_ptr,
        M, N, K,
        stride_am, stride_ak,
        stride_bk, stride_bn,
        stride_cm, stride_cn,
        BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr, BLOCK_SIZE_K: tl.constexpr,
        GROUP_SIZE_M: tl.constexpr,
):
    pid = tl.program_id(axis=0)
    num_pid_m = tl.cdiv(M, BLOCK_SIZE_M)
    num_pid_n = tl.cdiv(N, BLOCK_SIZE_N)
    num_pid_in_group = GROUP_SIZE_M * num_pid_n
    group_id = pid // num_pid_in_group
    first_pid_m = group_id * GROUP_SIZE_M
    group_size_m = min(num_pid_m - first_pid_m, GROUP_SIZE_M)
    pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
    pid_n = (pid % num_pid_in_group) // group_size_m

    offs_am = (pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)) % M
    offs_bn = (pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)) % N
    offs_k = tl.arange(0, BLOCK_SIZE_K)
    a_ptrs = a_ptr + (offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak)
    b_ptrs = b_ptr + (offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn)

    accumulator = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_SIZE_K)):
        a = tl.load(a_ptrs, mask=offs_k[None, :] < K - k * BLOCK_SIZE_K, other=0.0)
        b = tl.load(b_ptrs, mask=offs_k[:, None] < K - k * BLOCK_SIZE_K, other=0.0)
        accumulator = tl.dot(a, b, accumulator)
        a_ptrs += BLOCK_SIZE_K * stride_ak
        b_ptrs += BLOCK_SIZE_K * stride_bk
    c = accumulator.to(c_ptr.dtype.element_ty)

    offs_cm = pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)
    offs_cn = pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)
    c_ptrs = c_ptr + stride_cm * offs_cm[:, None] + stride_cn * offs_cn[None, :]
    c_mask = (offs_cm[:, None] < M) & (offs_cn[None, :] < N)
    tl.store(c_ptrs, c, mask=c_mask)


def main():
    import numpy as np
    from sample_utils import backends, check, median_time, to_backend
    rng = np.random.default_rng(0)
    M, N, K = 300, 200, 160
    a_np = rng.standard_normal((M, K)).astype(np.float16)
    b_np = rng.standard_normal((K, N)).astype(np.float16)
    ref = a_np.astype(np.float64) @ b_np.astype(np.float64)
    for backend in backends():
        a, b = to_backend(a_np, backend), to_backend(b_np, backend)
        c = to_backend(np.full((M, N), np.nan, np.float16), backend)
        bm, bn, bk = (64, 64, 32) if backend == "cuda" else (32, 32, 32)
        grid = lambda meta: (tilec.cdiv(M, meta["BLOCK_SIZE_M"]) * tilec.cdiv(N, meta["BLOCK_SIZE_N"]),)
        run = lambda: matmul_kernel[grid](a, b, c, M, N, K, K, 1, N, 1, N, 1,
                                          BLOCK_SIZE_M=bm, BLOCK_SIZE_N=bn, BLOCK_SIZE_K=bk, GROUP_SIZE_M=8)
        run()
        err = check("matmul", c, ref, 1e-2)
        t = median_time(run, backend)
        if backend == "cpu":
            a32, b32 = a_np.astype(np.float32), b_np.astype(np.float32)
            t_ref, ref_name = median_time(lambda: a32 @ b32, "cpu"), "numpy fp32"
        else:
            t_ref, ref_name = median_time(lambda: a @ b, backend), "torch"
        flops = 2 * M * N * K
        print(f"matmul [{backend}] {M}x{N}x{K} fp16: rel err {err:.1e}; tilec {t * 1e3:.3f} ms ({flops / t / 1e9:.1f} GFLOP/s), "
              f"{ref_name} {t_ref * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
