"""Each sample runs as a script and checks its own results against a reference; exit 0 is success."""
import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# distributed.py needs torchrun and a GPU (test below); sample_utils.py is a helper module.
SAMPLES = sorted(p for p in glob.glob(os.path.join(ROOT, "samples", "*.py"))
                 if os.path.basename(p) not in ("distributed.py", "sample_utils.py"))


def test_samples_exist():
    assert SAMPLES, "no samples/*.py found"


@pytest.mark.parametrize("path", SAMPLES, ids=[os.path.basename(p) for p in SAMPLES])
def test_sample_runs(path):
    r = subprocess.run([sys.executable, path], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{os.path.basename(path)} exited {r.returncode}\n{r.stdout}\n{r.stderr}"


def test_distributed_sample_with_torchrun():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    n = torch.cuda.device_count()
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={n}",
                        os.path.join(ROOT, "samples", "distributed.py")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"torchrun exited {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert r.stdout.count(" ok") == n, r.stdout
