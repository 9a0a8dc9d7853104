"""Random valid kernels on the CPU backend against a NumPy model (difftest.py), over a fixed seed
range so that CI is deterministic; run `python3 tests/python/difftest.py --seeds 0:1000` for more."""
import pytest

import difftest

SEEDS = range(40)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_kernel_agrees_with_numpy(seed):
    report = difftest.run_seed(seed)
    assert report is None, report


@pytest.mark.parametrize("seed", range(10))
def test_random_kernel_agrees_in_debug_mode(seed):
    report = difftest.run_seed(seed, debug=True)
    assert report is None, report
