"""Each sample runs as a script and checks its own results against a reference; exit 0 is success."""
import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = sorted(glob.glob(os.path.join(ROOT, "samples", "*.py")))


def test_samples_exist():
    assert SAMPLES, "no samples/*.py found"


@pytest.mark.parametrize("path", SAMPLES, ids=[os.path.basename(p) for p in SAMPLES])
def test_sample_runs(path):
    r = subprocess.run([sys.executable, path], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{os.path.basename(path)} exited {r.returncode}\n{r.stdout}\n{r.stderr}"
