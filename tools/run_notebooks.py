"""Execute notebooks in place so that they keep their outputs (`make outputs`).

Each notebook runs top to bottom in a fresh kernel, with `nbs/` as the working directory (as the tests run them).
Progress bars are dropped from the saved outputs: they say nothing once the cell has finished. Usage:
    python tools/run_notebooks.py nbs/00_core.ipynb nbs/01_data.ipynb ...
"""
import os, re, sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient

BAR = re.compile(r"\d+%\|.*\|\s*\d+/\d+|\d+it \[|it/s\]|s/it\]")       # a tqdm line: " 40%|####  | 4/10 [..]"
# tqdm.auto's note that ipywidgets is not installed (it then draws text bars, dropped above): not the chapter's output
NOISE = re.compile(r"TqdmWarning: IProgress not found|from \.autonotebook import tqdm as notebook_tqdm")

def _is_bar(out) -> bool:
    "A tqdm widget, or a stream output made only of progress-bar lines."
    if out.get("output_type") == "display_data" and "application/vnd.jupyter.widget-view+json" in out.get("data", {}):
        return True
    if out.get("output_type") == "stream":
        lines = [l for l in re.split(r"[\r\n]", out.get("text", "")) if l.strip()]
        return bool(lines) and all(BAR.search(l) or NOISE.search(l) for l in lines)
    return False

def _strip_bars(out):
    "A stream output without its progress-bar lines (None when nothing else is left); other outputs as they are."
    if out.get("output_type") != "stream": return out
    keep = [l for l in out["text"].replace("\r", "\n").split("\n") if not (BAR.search(l) or NOISE.search(l))]
    text = "\n".join(keep).strip("\n")
    if not text.strip(): return None
    out["text"] = text + "\n"
    return out

# the kernel draws figures inline (the Makefile exports MPLBACKEND=Agg for the tests, which would hide them)
os.environ.pop("MPLBACKEND", None)

def run(path: Path, timeout: int = 1800) -> float:
    "Execute `path` in place; returns the seconds it took."
    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if cell.cell_type != "code": continue
        outs = [_strip_bars(o) for o in cell.outputs if not _is_bar(o)]
        cell.outputs = [o for o in outs if o is not None]
    nbformat.write(nb, path)
    return time.perf_counter() - t0

if __name__ == "__main__":
    for p in map(Path, sys.argv[1:]):
        print(f"{p.name}: {run(p):.0f} s", flush=True)
