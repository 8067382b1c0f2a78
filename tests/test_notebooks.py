"Execute every notebook top to bottom: component notebooks (and the reproduction report, 3x_) as they are, training notebooks (2x_) through papermill at their CI-sized defaults."
import re
from pathlib import Path
import pytest, papermill as pm

NBS = Path(__file__).resolve().parent.parent / "nbs"
COMPONENT = sorted([*NBS.glob("[01][0-9]*_*.ipynb"), *NBS.glob("3[0-9]_*.ipynb")])
TRAINING = sorted(p for p in NBS.glob("2[0-9]_*.ipynb"))

@pytest.fixture(autouse=True)
def _kernel_tmpdir(tmp_path, monkeypatch):
    "The kernel's temp directory lies inside the test's own folder, which pytest removes when the test passes."
    (tmp_path / "kernel_tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "kernel_tmp"))

def _run(nb: Path, tmp_path: Path, **params):
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / nb.name
    pm.execute_notebook(str(nb), str(out), cwd=str(NBS), parameters=params, kernel_name="python3",
                        progress_bar=False, log_output=False, request_save_on_cot=False)
    return out

@pytest.mark.parametrize("nb", COMPONENT, ids=lambda p: p.stem)
def test_component_notebook(nb, tmp_path):
    _run(nb, tmp_path)

@pytest.mark.parametrize("nb", TRAINING, ids=lambda p: p.stem)
def test_training_notebook(nb, tmp_path):
    _run(nb, tmp_path / "out", out_dir=str(tmp_path / "run"))
