import tilec
import tilec.language as tl


@tilec.jit
def block_ptr_kernel(x_ptr, out_ptr, M, N, stride_xm, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    # A row block walks the columns through a loop-carried block pointer (only its column offset is
    # carried), loads with NaN padding on both dims, and stores the row maxima with a bounds check.
    pid = tl.program_id(0)
    x_block = tl.make_block_ptr(x_ptr, shape=(M, N), strides=(stride_xm, 1), offsets=(pid * BLOCK_M, 0),
                                block_shape=(BLOCK_M, BLOCK_N), order=(1, 0))
    acc = tl.full((BLOCK_M,), float("-inf"), tl.float32)
    for _ in range(0, N, BLOCK_N):
        x = tl.load(x_block, boundary_check=(0, 1), padding_option="nan")
        acc = tl.maximum(acc, tl.max(tl.where(x == x, x, float("-inf")), axis=1))
        x_block = tl.advance(x_block, (0, BLOCK_N))
    out_block = tl.make_block_ptr(out_ptr, (M,), (1,), (pid * BLOCK_M,), (BLOCK_M,), (0,))
    tl.store(out_block, acc, boundary_check=(0,))
