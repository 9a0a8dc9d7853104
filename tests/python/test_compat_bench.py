"""bench/compat_bench.py without a GPU: recording the compat suite's launches, the import swap of
its modules to Triton's names, and the report (ratios, the 1.1x misses, FAIL rows)."""
import importlib.util
import os
import sys

import numpy as np

_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "compat_bench.py")
_spec = importlib.util.spec_from_file_location("compat_bench", _PATH)
compat_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compat_bench)


def test_capture_records_every_kernel_once():
    launches = compat_bench.capture()
    labels = [ln.label for ln in launches]
    assert len(labels) == len(set(labels)) >= 50
    by_label = {ln.label: ln for ln in launches}
    mm = by_label["test_block_ptr.py::matmul_block_ptr_kernel"]
    assert mm.grid == (2, 2) and isinstance(mm.args[0], np.ndarray) and mm.args[0].dtype == np.float16
    assert callable(by_label["test_autotune_api.py::add_one_kernel"].grid)
    # The suite's modules get their kernels back (a pytest session may share them).
    import tilec
    mod = sys.modules[mm.kernel.fn.__module__]
    assert isinstance(mod.matmul_block_ptr_kernel, tilec.JITFunction)


def test_triton_text_swaps_imports():
    text = ("import tilec as triton\nimport tilec.language as tl\nfrom tilec.language.extra import libdevice\n"
            "from compat_helpers import gelu_tanh\n")
    assert compat_bench._triton_text(text) == (
        "import triton as triton\nimport triton.language as tl\nfrom triton.language.extra import libdevice\n"
        "from compat_helpers_triton import gelu_tanh\n")


def test_summary_lists_misses_and_failures():
    rows = [
        {"bench": "compat a.py::fast", "impl": "tilec", "ms": 0.010},
        {"bench": "compat a.py::fast", "impl": "triton", "ms": 0.010},
        {"bench": "compat a.py::slow", "impl": "tilec", "ms": 0.030},
        {"bench": "compat a.py::slow", "impl": "triton", "ms": 0.020},
        {"bench": "compat a.py::broken", "impl": "tilec", "error": "CompileError: boom"},
        {"bench": "compat a.py::broken", "impl": "triton", "ms": 0.020},
        {"bench": "softmax", "impl": "tilec", "ms": 1.0},
    ]
    text = "\n".join(compat_bench.compat_summary(rows))
    assert "| a.py::fast | 0.0100 | 0.0100 | 1.00x |" in text
    assert "| a.py::slow | 0.0300 | 0.0200 | 1.50x |" in text
    assert "FAIL: CompileError: boom" in text
    assert "Missing the 1.1x target (2 of 3): a.py::slow (1.50x), a.py::broken (tilec FAIL)" in text
    assert "softmax" not in text
