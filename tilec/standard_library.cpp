// Input: nothing. Output: tl functions written in the tile language from reshape, permute, split,
// join, where and the built-in reductions; sorting and selection only move data, so they are exact.
#include "tilec/standard_library.h"

#include <set>

namespace tilec {
namespace {

// Shapes are tuples of constexprs, so every loop below is a tl.static_range that ir_gen unrolls.
// A reduction or scan along one axis first moves that axis last (tl.permute) and views the tile as
// rows (tl.reshape to (B, L)); pairs of neighbours come out of tl.split on a (..., L // 2, 2)
// view. A combine function receives tiles, not scalars, so it must be elementwise (as Triton's are).
// Tile dims are powers of two, so every halving below is exact.
constexpr const char* kSource = R"TILEC(
import tilec
import tilec.language as tl


@tilec.jit
def _log2(n):
    r = 0
    for i in tl.static_range(1, 31):
        if (1 << i) <= n:
            r = i
    return r


@tilec.jit
def _norm_axis(axis, rank):
    tl.static_assert(-rank <= axis and axis < rank, "axis out of range for the tile's rank")
    return axis + rank if axis < 0 else axis


@tilec.jit
def _axis_last(rank, axis):
    # The permutation that moves `axis` last, keeping the other dims in order.
    dims = (axis,)
    for d in tl.static_range(rank - 1, -1, -1):
        if d != axis:
            dims = (d,) + dims
    return dims


@tilec.jit
def _axis_back(rank, axis):
    # The inverse of _axis_last: result dim d reads dim d, rank - 1 or d - 1 of the moved tile.
    dims = (rank - 1,) if axis == 0 else (0,)
    for d in tl.static_range(1, rank):
        if d < axis:
            dims = dims + (d,)
        elif d == axis:
            dims = dims + (rank - 1,)
        else:
            dims = dims + (d - 1,)
    return dims


@tilec.jit
def _move_axis(x, axis, back):
    # `axis` moved last (back=False), or the last dim moved back to `axis` (back=True).
    rank = len(x.shape)
    if rank == 1:
        return x
    return tl.permute(x, _axis_back(rank, axis) if back else _axis_last(rank, axis))


@tilec.jit
def _drop_axis(shape, axis):
    out = (shape[0],) if axis != 0 else (shape[1],)
    first = 2 if axis <= 1 else 1
    for d in tl.static_range(first, len(shape)):
        if d != axis:
            out = out + (shape[d],)
    return out


@tilec.jit
def _one_at_axis(shape, axis):
    out = (1,) if axis == 0 else (shape[0],)
    for d in tl.static_range(1, len(shape)):
        out = out + ((1,) if d == axis else (shape[d],))
    return out


@tilec.jit
def _ones(rank):
    out = (1,)
    for d in tl.static_range(1, rank):
        out = out + (1,)
    return out


@tilec.jit
def _pick(x, hit, axis):
    # Along `axis`, the one element where `hit` holds, exactly (tilec has no float bitcast): for
    # floats a max over it and -inf (-0.0 and infinities survive) with a picked NaN put back after,
    # for integers a max over it and the type's least value (one reduction, where an xor_sum is a
    # tree of splits).
    if x.dtype == tl.int1:
        return tl.max(tl.where(hit, x.to(tl.int8), 0), axis) != 0
    if x.dtype.is_floating():
        v = tl.max(tl.where(hit, x, float("-inf")), axis)
        nan = tl.max((hit & (x != x)).to(tl.int32), axis)
        return tl.where(nan != 0, float("nan"), v).to(x.dtype)
    if x.dtype.is_int_unsigned():
        return tl.max(tl.where(hit, x, 0), axis)
    return tl.max(tl.where(hit, x, -2 * (1 << (x.dtype.primitive_bitwidth - 2))), axis)


@tilec.jit
def _single(x):
    # The element of a one-element 1-D tile as a scalar, bit for bit (NaN payloads aside).
    return _pick(x, tl.arange(0, 1) == 0, 0)


@tilec.jit
def _as_tuple(x):
    if _is_tuple(x):
        return x
    return (x,)


@tilec.jit
def _combine(combine_fn, a, b):
    n = len(a)
    tl.static_assert(n <= 4, "tl.reduce and tl.associative_scan take at most 4 tiles")
    if n == 1:
        r = combine_fn(a[0], b[0])
    elif n == 2:
        r = combine_fn(a[0], a[1], b[0], b[1])
    elif n == 3:
        r = combine_fn(a[0], a[1], a[2], b[0], b[1], b[2])
    else:
        r = combine_fn(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3])
    r = _as_tuple(r)
    tl.static_assert(len(r) == n, "the combine function must return as many values as there are input tiles")
    out = (tl.broadcast_to(r[0], a[0].shape).to(a[0].dtype),)
    for k in tl.static_range(1, n):
        out = out + (tl.broadcast_to(r[k], a[k].shape).to(a[k].dtype),)
    return out


@tilec.jit
def _pairs(x):
    # (x[..., 0::2], x[..., 1::2]) of a tile whose last dim is even.
    s = x.shape
    rank = len(s)
    shape = (s[rank - 1] // 2, 2)
    for d in tl.static_range(rank - 2, -1, -1):
        shape = (s[d],) + shape
    return tl.split(tl.reshape(x, shape))


@tilec.jit
def _reduce_last(xs, combine_fn):
    # Combines neighbours (0, 1), (2, 3), ... then pairs of pairs: the tree keeps operand order.
    rank = len(xs[0].shape)
    for _ in tl.static_range(_log2(xs[0].shape[rank - 1])):
        lo, hi = _pairs(xs[0])
        lows = (lo,)
        highs = (hi,)
        for k in tl.static_range(1, len(xs)):
            lo, hi = _pairs(xs[k])
            lows = lows + (lo,)
            highs = highs + (hi,)
        xs = _combine(combine_fn, lows, highs)
    return xs


@tilec.jit
def _squeeze_last(x, shape):
    # x has a last dim of 1; `shape` is x's shape without it (empty: a scalar).
    if len(shape) == 0:
        return _single(tl.reshape(x, (1,)))
    return tl.reshape(x, shape)


@tilec.jit
def reduce(input, axis, combine_fn, keep_dims=False):
    xs = _as_tuple(input)
    rank = len(xs[0].shape)
    outs = ()
    if axis is None:
        flat = (tl.reshape(xs[0], (xs[0].numel,)),)
        for k in tl.static_range(1, len(xs)):
            flat = flat + (tl.reshape(xs[k], (xs[k].numel,)),)
        r = _reduce_last(flat, combine_fn)
        for k in tl.static_range(len(r)):
            outs = outs + ((tl.reshape(r[k], _ones(rank)) if keep_dims else _single(r[k])),)
    else:
        ax = _norm_axis(axis, rank)
        moved = (_move_axis(xs[0], ax, False),)
        for k in tl.static_range(1, len(xs)):
            moved = moved + (_move_axis(xs[k], ax, False),)
        r = _reduce_last(moved, combine_fn)
        for k in tl.static_range(len(r)):
            if keep_dims:
                outs = outs + (tl.reshape(r[k], _one_at_axis(xs[k].shape, ax)),)
            elif rank == 1:
                outs = outs + (_single(r[k]),)
            else:
                outs = outs + (tl.reshape(r[k], _drop_axis(xs[k].shape, ax)),)
    if _is_tuple(input):
        return outs
    return outs[0]


@tilec.jit
def associative_scan(input, axis, combine_fn, reverse=False):
    # Sklansky's scan over rows of the tile's `axis`: at step s each block of 2h elements (h = 2^s)
    # holds two scanned halves, and the later half combines the earlier half's element next to it
    # (its carry, picked exactly and broadcast along the block) into each of its elements. The tile
    # keeps its (rows, length) shape throughout: every step is one pick, one broadcast and
    # elementwise work, where splitting and joining halves would move the data several times per
    # step. A reverse scan runs from the end: the later half is the first, the carry the second
    # half's first element, and the carry stays the left operand, as in a scan of the flipped tile.
    xs = _as_tuple(input)
    rank = len(xs[0].shape)
    ax = _norm_axis(axis, rank)
    length = xs[0].shape[ax]
    rows_n = xs[0].numel // length
    moved = ()
    rows = ()
    for k in tl.static_range(len(xs)):
        m = _move_axis(xs[k], ax, False)
        moved = moved + (m,)
        rows = rows + (tl.reshape(m, (rows_n, length)),)
    pos = tl.arange(0, length)
    for s in tl.static_range(_log2(length)):
        h = 1 << s
        blocks = length // (2 * h)
        col = tl.reshape(pos % (2 * h), (1, blocks, 2 * h))
        later = col < h if reverse else col >= h
        carry_at = h if reverse else h - 1
        vals = ()
        carries = ()
        for k in tl.static_range(len(rows)):
            v = tl.reshape(rows[k], (rows_n, blocks, 2 * h))
            c = tl.reshape(_pick(v, col == carry_at, 2), (rows_n, blocks, 1))
            vals = vals + (v,)
            carries = carries + (tl.broadcast_to(c, (rows_n, blocks, 2 * h)),)
        combined = _combine(combine_fn, carries, vals)
        rows = ()
        for k in tl.static_range(len(vals)):
            rows = rows + (tl.reshape(tl.where(later, combined[k], vals[k]), (rows_n, length)),)
    outs = ()
    for k in tl.static_range(len(rows)):
        outs = outs + (_move_axis(tl.reshape(rows[k], moved[k].shape), ax, True),)
    if _is_tuple(input):
        return outs
    return outs[0]


@tilec.jit
def _or_combine(a, b):
    return a | b


@tilec.jit
def reduce_or(input, axis, keep_dims=False):
    tl.static_assert(input.dtype.is_int(), "tl.reduce_or needs integers")
    return reduce(input, axis, _or_combine, keep_dims)


@tilec.jit
def gather(src, index, axis):
    rank = len(src.shape)
    tl.static_assert(len(index.shape) == rank, "tl.gather: src and index must have the same rank")
    ax = _norm_axis(axis, rank)
    for d in tl.static_range(rank):
        if d != ax:
            tl.static_assert(index.shape[d] == src.shape[d], "tl.gather: index and src differ in a dim other than axis")
    s = _move_axis(src, ax, False)
    i = _move_axis(index, ax, False)
    n = src.shape[ax]
    m = index.shape[ax]
    rows = src.numel // n
    vals = tl.reshape(s, (rows, n))
    idx = tl.reshape(i, (rows, m))
    hit = idx[:, :, None] == tl.arange(0, n)[None, None, :]
    picked = _pick(tl.broadcast_to(vals[:, None, :], (rows, m, n)), hit, 2)
    return _move_axis(tl.reshape(picked, i.shape), ax, True)


@tilec.jit
def histogram(input, num_bins, mask=None):
    tl.static_assert(len(input.shape) == 1, "tl.histogram needs a 1-D tile")
    hit = input[:, None] == tl.arange(0, num_bins)[None, :]
    if mask is not None:
        hit = hit & mask[:, None]
    return tl.sum(hit.to(tl.int32), 0)


@tilec.jit
def _compare_swap(y, stride, block, descending):
    # One step of a bitonic network on (B, L) rows: element i meets i + stride (i's stride bit 0);
    # the pair is put in descending order where i's `block` bit is set (ascending if `descending`).
    b = y.shape[0]
    length = y.shape[1]
    groups = length // (2 * stride)
    lo, hi = tl.split(tl.permute(tl.reshape(y, (b, groups, 2, stride)), (0, 1, 3, 2)))
    start = tl.arange(0, groups)[None, :, None] * (2 * stride)
    if descending:
        down = (start & block) == 0
    else:
        down = (start & block) != 0
    swap = tl.where(down, lo < hi, lo > hi)
    new_lo = tl.where(swap, hi, lo)
    new_hi = tl.where(swap, lo, hi)
    return tl.reshape(tl.permute(tl.join(new_lo, new_hi), (0, 1, 3, 2)), (b, length))


@tilec.jit
def _last_dim_rows(x, dim):
    # x as (B, L) rows of its last dim, which must be `dim` (None: the last).
    rank = len(x.shape)
    d = rank - 1 if dim is None else _norm_axis(dim, rank)
    tl.static_assert(d == rank - 1, "only the last dim can be sorted or merged (as in Triton)")
    length = x.shape[rank - 1]
    return tl.reshape(x, (x.numel // length, length))


@tilec.jit
def sort(x, dim=None, descending=False):
    y = _last_dim_rows(x, dim)
    n = _log2(y.shape[1])
    for stage in tl.static_range(1, n + 1):
        for sub in tl.static_range(stage):
            y = _compare_swap(y, 1 << (stage - 1 - sub), 1 << stage, descending)
    return tl.reshape(y, x.shape)


@tilec.jit
def bitonic_merge(x, dim=None, descending=False):
    # x's last dim is a bitonic sequence; the last stage of the sorting network sorts it.
    y = _last_dim_rows(x, dim)
    n = _log2(y.shape[1])
    for sub in tl.static_range(n):
        y = _compare_swap(y, 1 << (n - 1 - sub), y.shape[1], descending)
    return tl.reshape(y, x.shape)


@tilec.jit
def topk(x, k, dim=None):
    rank = len(x.shape)
    length = x.shape[rank - 1]
    tl.static_assert(k <= length, "tl.topk: k is larger than the sorted dim")
    y = sort(x, dim, True)
    y = tl.reshape(y, (x.numel // length, length))
    for _ in tl.static_range(_log2(length // k)):
        y, rest = tl.split(tl.permute(tl.reshape(y, (y.shape[0], 2, y.shape[1] // 2)), (0, 2, 1)))
    shape = (k,)
    for d in tl.static_range(rank - 2, -1, -1):
        shape = (x.shape[d],) + shape
    return tl.reshape(y, shape)


@tilec.jit
def interleave(a, b):
    c = tl.join(a, b)
    s = c.shape
    rank = len(s)
    if rank == 1:
        return c
    shape = (2 * s[rank - 2],)
    for d in tl.static_range(rank - 3, -1, -1):
        shape = (s[d],) + shape
    return tl.reshape(c, shape)


@tilec.jit
def cat(input, other, can_reorder=False):
    # Concatenation along dim 0 (Triton asks for can_reorder=True and may reorder; tilec keeps order).
    c = tl.join(input, other)
    rank = len(c.shape)
    front = (rank - 1,)
    for d in tl.static_range(rank - 1):
        front = front + (d,)
    shape = (2 * c.shape[0],)
    for d in tl.static_range(1, rank - 1):
        shape = shape + (c.shape[d],)
    return tl.reshape(tl.permute(c, front), shape)


@tilec.jit
def ravel(x, can_reorder=False):
    return tl.reshape(x, (x.numel,))


@tilec.jit
def softmax(x, dim=None, keep_dims=False, ieee_rounding=False):
    d = 0 if dim is None else dim
    z = x - tl.max(x, d, keep_dims=True)
    num = tl.exp(z)
    return num / tl.sum(num, d, keep_dims=True)


@tilec.jit
def add(x, y, sanitize_overflow=True):
    # Overflow checks follow debug mode, as Triton's sanitize_overflow does.
    return x + y


@tilec.jit
def sub(x, y, sanitize_overflow=True):
    return x - y


@tilec.jit
def mul(x, y, sanitize_overflow=True):
    return x * y


@tilec.jit
def fdiv(x, y, ieee_rounding=False):
    if ieee_rounding:
        return tl.math.div_rn(x, y)
    return x / y


@tilec.jit
def assume(cond):
    # A promise for the optimizer; tilec's passes do not use it, which keeps every correct program.
    return None


@tilec.jit
def _dim_or_one(shape, i, rank):
    # Dim i of a `rank`-dim result aligned on the right with `shape` (1 where shape has no dim).
    if i < rank - len(shape):
        return 1
    return shape[i - (rank - len(shape))]


@tilec.jit
def broadcast(input, other):
    rank = max(len(input.shape), len(other.shape))
    if rank == 0:
        return input, other
    shape = (max(_dim_or_one(input.shape, 0, rank), _dim_or_one(other.shape, 0, rank)),)
    for i in tl.static_range(1, rank):
        shape = shape + (max(_dim_or_one(input.shape, i, rank), _dim_or_one(other.shape, i, rank)),)
    return tl.broadcast_to(input, shape), tl.broadcast_to(other, shape)


@tilec.jit
def swizzle2d(i, j, size_i, size_j, size_g):
    # Row-major (i, j) of a size_i x size_j grid to column-major order within groups of size_g rows.
    linear = i * size_j + j
    group_size = size_g * size_j
    first_row = (linear // group_size) * size_g
    rows = tl.minimum(size_i - first_row, size_g)
    within = linear % group_size
    return first_row + within % rows, within // rows
)TILEC";

}  // namespace

const SourceFile& standard_library_source() {
  static const SourceFile file("<tilec standard library>", kSource);
  return file;
}

bool is_triton_language_name(const std::string& name) {
  // triton.language.__all__ of Triton 3.6.
  static const std::set<std::string> names = {
      "PropagateNan", "TRITON_MAX_TENSOR_NUMEL", "abs", "add", "advance", "arange", "argmax", "argmin",
      "associative_scan", "assume", "atomic_add", "atomic_and", "atomic_cas", "atomic_max", "atomic_min",
      "atomic_or", "atomic_xchg", "atomic_xor", "bfloat16", "bitonic_merge", "block_type", "broadcast",
      "broadcast_to", "cast", "cat", "cdiv", "ceil", "clamp", "condition", "const", "constexpr",
      "constexpr_type", "cos", "cumprod", "cumsum", "debug_barrier", "device_assert", "device_print", "div_rn",
      "dot", "dot_scaled", "dtype", "erf", "exp", "exp2", "expand_dims", "extra", "fdiv", "flip", "float16",
      "float32", "float64", "float8e4b15", "float8e4b8", "float8e4nv", "float8e5", "float8e5b16", "floor", "fma",
      "full", "gather", "histogram", "inline_asm_elementwise", "int1", "int16", "int32", "int64", "int8",
      "interleave", "join", "load", "load_tensor_descriptor", "log", "log2", "make_block_ptr",
      "make_tensor_descriptor", "map_elementwise", "math", "max", "max_constancy", "max_contiguous", "maximum",
      "min", "minimum", "mul", "multiple_of", "num_programs", "pair_uniform_to_normal", "permute", "philox",
      "philox_impl", "pi32_t", "pointer_type", "program_id", "rand", "rand4x", "randint", "randint4x", "randn",
      "randn4x", "range", "ravel", "reduce", "reduce_or", "reshape", "rsqrt", "sigmoid", "sin", "slice",
      "softmax", "sort", "split", "sqrt", "sqrt_rn", "static_assert", "static_print", "static_range", "store",
      "store_tensor_descriptor", "sub", "sum", "swizzle2d", "target_info", "tensor", "tensor_descriptor", "topk",
      "trans", "tuple", "uint16", "uint32", "uint64", "uint8", "uint_to_uniform_float", "umulhi", "view", "void",
      "where", "xor_sum", "zeros", "zeros_like"};
  return names.count(name) > 0;
}

}  // namespace tilec
