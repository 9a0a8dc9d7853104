"""Random valid kernels on the CPU backend (and the GPU, where CUDA is available) against a NumPy
model (difftest.py), over a fixed seed range so that CI is deterministic; more with `difftest.py --seeds`."""
import pytest

import difftest
from conftest import HAS_CUDA

# 200 seeds: a host compile and two NVRTC compiles each (tools/test.sh checks sm_80 and sm_90), a few
# minutes of CI's 90 (9 minutes on a 2-core VM at load 12); the long runs in bench/RESULTS.md cover far more.
SEEDS = range(200)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_kernel_agrees_with_numpy(seed):
    report = difftest.run_seed(seed)
    assert report is None, report


@pytest.mark.parametrize("seed", range(10))
def test_random_kernel_agrees_in_debug_mode(seed):
    report = difftest.run_seed(seed, debug=True)
    assert report is None, report


@pytest.mark.skipif(not HAS_CUDA, reason="needs torch with CUDA")
@pytest.mark.parametrize("seed", SEEDS[:40])
def test_random_kernel_agrees_on_gpu(seed):
    # GPU against NumPy and against the CPU backend; the GPU machine runs more with
    # `difftest.py --backend cuda` (bench/RESULTS.md).
    report = difftest.run_seed(seed, backend="cuda")
    assert report is None, report
