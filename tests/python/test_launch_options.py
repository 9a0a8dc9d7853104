"""Every keyword Triton 3.6's launch accepts (kernel[grid](..., **options), kernel.run(..., grid=,
warmup=)) is honoured or rejected with an error naming it: the options of Triton's CUDAOptions, its
run() keywords, and stream= (tilec's). Runs on the CPU backend; the checks happen before a backend
is involved."""
import numpy as np
import pytest

import tilec
import tilec.language as tl


@tilec.jit
def add_one(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=m) + 1, mask=m)


def launch(**options):
    x = np.arange(64, dtype=np.float32)
    out = np.full(64, np.nan, np.float32)
    add_one[(4,)](x, out, 64, BLOCK=16, **options)
    return x, out


# Triton 3.6's CUDAOptions fields (besides the honoured ones below) and debug: (default, another value).
TRITON_OPTIONS = {
    "warp_size": (32, 64),
    "ptx_version": (None, 84),
    "ptx_options": (None, "-v"),
    "ir_override": (None, "kernel.ttgir"),
    "enable_fp_fusion": (True, False),
    "enable_reflect_ftz": (True, False),
    "launch_cooperative_grid": (False, True),
    "launch_pdl": (False, True),
    "supported_fp8_dtypes": (None, ("fp8e5",)),
    "deprecated_fp8_dot_operand_dtypes": (None, ("fp8e4b15",)),
    "default_dot_input_precision": ("tf32", "ieee"),
    "allowed_dot_input_precisions": (None, ("ieee",)),
    "max_num_imprecise_acc_default": (None, 32),
    "extern_libs": (None, {"libdevice": "/tmp/libdevice.bc"}),
    "debug": (False, True),
    "backend_name": (None, "hip"),
    "sanitize_overflow": (True, False),
    "arch": (None, "sm80"),
    "instrumentation_mode": ("", "consan"),
}


@pytest.mark.parametrize("name", sorted(TRITON_OPTIONS))
def test_triton_option_default_accepted_other_rejected(name):
    default, other = TRITON_OPTIONS[name]
    x, out = launch(**{name: default})
    np.testing.assert_array_equal(out, x + 1)
    with pytest.raises(ValueError, match=rf"launch option {name}=.* is not supported by tilec"):
        launch(**{name: other})


def test_honoured_options():
    for options in ({"num_warps": 8}, {"num_stages": 2}, {"num_ctas": 1}, {"maxnreg": None}, {"stream": None},
                    {"num_warps": 2, "num_stages": 4, "num_ctas": 1}):
        x, out = launch(**options)
        np.testing.assert_array_equal(out, x + 1)


@pytest.mark.parametrize("options, message", [
    ({"num_ctas": 2}, r"num_ctas > 1 \(thread-block clusters\) is not supported"),
    ({"maxnreg": 128}, r"maxnreg= \(a register limit\) is not supported"),
    ({"num_warps": 3}, r"num_warps must be a power of two"),
    ({"num_stages": 0}, r"num_stages must be between 1 and 8"),
])
def test_rejected_values(options, message):
    with pytest.raises(ValueError, match=message):
        launch(**options)


def test_unknown_keyword_named():
    with pytest.raises(TypeError, match="unexpected keyword argument 'num_wraps'"):
        launch(num_wraps=4)


def test_run_grid_and_warmup():
    x = np.arange(64, dtype=np.float32)
    out = np.full(64, np.nan, np.float32)
    compiled = add_one.run(x, out, 64, BLOCK=16, grid=(4,), warmup=True)  # Triton's autotuner calls this
    assert compiled is not None and np.isnan(out).all(), "run(warmup=True) must compile without launching"
    assert add_one.run(x, out, 64, BLOCK=16, grid=(4,), warmup=False) is None
    np.testing.assert_array_equal(out, x + 1)
    out[:] = np.nan
    add_one.run(x, out, 64, BLOCK=16, grid=lambda meta: (tilec.cdiv(64, meta["BLOCK"]),))
    np.testing.assert_array_equal(out, x + 1)
    assert add_one.warmup(x, out, 64, BLOCK=16, grid=(1,)) is not None


def test_warmup_is_only_a_run_keyword():
    with pytest.raises(TypeError, match="unexpected keyword argument 'warmup'"):
        launch(warmup=True)


@pytest.mark.parametrize("grid", [(0,), (0, 4), (4, 0, 1)])
def test_empty_grid_launches_nothing(grid):
    x = np.arange(64, dtype=np.float32)
    out = np.full(64, np.nan, np.float32)
    add_one[grid](x, out, 64, BLOCK=16)
    assert np.isnan(out).all()


@tilec.jit
def store_debug(out_ptr, debug):
    tl.store(out_ptr, debug)


def test_parameter_named_like_an_option_wins():
    out = np.zeros(1, np.int32)
    store_debug[(1,)](out, debug=7)
    assert out[0] == 7
