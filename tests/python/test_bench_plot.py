"""bench/plot.py: the --plot charts of bench/cpu_bench.py and bench/gpu_bench.py (skipped without
matplotlib)."""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import plot  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_gpu_rows_with_ceiling_and_failures(tmp_path):
    rows = [
        {"bench": "vector add 2^28 fp32", "impl": "tilec", "config": "B=1024", "unit": "GB/s", "value": 4100.0},
        {"bench": "vector add 2^28 fp32", "impl": "tilec", "config": "B=4096", "unit": "GB/s", "value": 4200.0},
        {"bench": "vector add 2^28 fp32", "impl": "triton", "config": "B=1024", "unit": "GB/s", "value": 4150.0},
        {"bench": "vector add 2^28 fp32", "impl": "torch", "config": "x + y", "unit": "GB/s", "error": "boom"},
        {"bench": "matmul 8192^3 fp16", "impl": "tilec", "config": "", "unit": "TFLOP/s", "value": 600.0},
        {"bench": "d2d copy 2^28 fp32", "impl": "torch", "config": "copy", "unit": "GB/s", "value": 4400.0},
    ]
    best = plot.best_per_impl(rows)
    assert best["vector add 2^28 fp32"]["tilec"][0] == 4200.0 and "torch" not in best["vector add 2^28 fp32"]
    out = tmp_path / "gpu.png"
    plot.plot(rows, str(out), "test", ceiling_bench_prefix="d2d copy")
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_nothing_measured_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no measured results"):
        plot.plot([{"bench": "x", "impl": "tilec", "config": "", "unit": "GB/s", "error": "e"}], str(tmp_path / "x.png"), "t")


def test_cli_plots_a_cpu_bench_json(tmp_path):
    out = tmp_path / "cpu.png"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "plot.py"), os.path.join(ROOT, "bench", "cpu_results.json"),
                        "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert json.load(open(os.path.join(ROOT, "bench", "cpu_results.json")))["results"]
