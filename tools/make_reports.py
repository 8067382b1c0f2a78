"""The measured runs behind the README's results, kept as executed notebooks (`make reports`).

Each report runs one training notebook through papermill at the parameters of a headline run, into
`reports/<name>/<notebook>.ipynb` (papermill records the parameters in the notebook), and copies the run's
`summary.json` beside it; checkpoints stay in `build/reports/<name>/`, out of git. A benchmark report
(`bench_*`) runs one `vlp-bench` measurement and keeps its JSON as `summary.json`. `nbs/30_reproduction.ipynb`
reads them all. Usage:
    python tools/make_reports.py                 # every report (CPU hours: see the README)
    python tools/make_reports.py 20_small ...    # the named ones
    python tools/make_reports.py --prose [names] # only the prose: the chapter's current markdown cells, outputs kept
A report's prose is its chapter's, under a banner that says what ran (parameters, machine, time), with the links
rewritten to work from `reports/<name>/`. `--prose` brings a report
up to date with its chapter's text without rerunning it, and refuses when the chapter's code has changed since the run.
"""
import json, os, platform, shutil, sys, time
from pathlib import Path
import papermill as pm, torch
from vlp_edu.reproduction import relink

ROOT = Path(__file__).resolve().parent.parent
os.environ.pop("MPLBACKEND", None)   # the kernel draws figures inline (the Makefile exports Agg for the tests)
RETRIEVAL = dict(preset="small", vqa_steps=800, vqa_lr=5e-4, n_retrieval=1000)
ABLATION = dict(preset="small", steps=600, batch_size=16, n_pretrain=4800, eval_points=3, vqa_steps=150, vqa_batch=32,
                n_vqa_train=2000, vqa_questions=1000)
REPORTS = {   # name: (notebook, parameters): the commands under the README's results tables
    "20_small": ("20_pretrain_vilt", RETRIEVAL),
    "21_small_seed0": ("21_visual_losses_ablation", dict(ABLATION, seed=0)),
    "21_small_seed1": ("21_visual_losses_ablation", dict(ABLATION, seed=1)),
    "21_small_patch_seed0": ("21_visual_losses_ablation", dict(ABLATION, seed=0, stem="patch", variants="none,all")),
    "21_small_patch_seed1": ("21_visual_losses_ablation", dict(ABLATION, seed=1, stem="patch", variants="none,all")),
    "22_small": ("22_pretrain_e2evlp", dict(preset="small", steps=2400, batch_size=16, ablation=False)),
    "22_small_ablation": ("22_pretrain_e2evlp", dict(preset="small", steps=1200, batch_size=16, ablation=True,
                                                     n_eval=200, n_probe=1000)),
    "23_small": ("23_train_simvlg", dict(preset="small", steps=120, batch_size=16, lr=1e-3, late_lr=3e-4,
                                         warmup_steps=20, eval_points=4, n_eval=100, r_values=[16, 40],
                                         equal_time=[40], max_steps_factor=4, video_steps=300)),
    "23_motion": ("23_train_simvlg", dict(video_steps=0, motion_steps=1500, motion_batch_size=16, motion_n_val=32,
                                          motion_target=0.9)),
}
BENCH_REPORTS = {  # name: (vlp-bench benchmark, arguments): the speed claims, each ratio measured side by side
    "bench_inference_tiny": ("inference", dict(preset="tiny", batch_sizes=(1,), clock="process")),
    "bench_inference_small": ("inference", dict(preset="small", batch_sizes=(1,), clock="process")),
    "bench_tome_small": ("tome", dict(preset="small")),
}

def device_name() -> str:
    "The machine a report ran on, in words."
    if torch.cuda.is_available(): return torch.cuda.get_device_name(0)
    info = Path("/proc/cpuinfo")
    model = next((l.split(":", 1)[1].strip() for l in info.read_text().splitlines() if l.startswith("model name")),
                 None) if info.exists() else None
    threads = torch.get_num_threads()
    return f"{os.cpu_count()}-core CPU ({model or platform.machine()}), {threads} thread{'s' * (threads > 1)}"

def run(name: str) -> float:
    "Run report `name`; returns its seconds."
    nb, params = REPORTS[name]
    out, work = ROOT / "reports" / name, ROOT / "build" / "reports" / name
    shutil.rmtree(work, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pm.execute_notebook(str(ROOT / "nbs" / f"{nb}.ipynb"), str(out / f"{nb}.ipynb"), cwd=str(ROOT / "nbs"),
                        parameters={**params, "out_dir": f"../build/reports/{name}", "assert_quality": False}, kernel_name="python3",
                        progress_bar=False)
    seconds = time.perf_counter() - t0
    summary = json.loads((work / "summary.json").read_text())
    summary["report"] = {"notebook": nb, "parameters": params, "device": device_name(), "seconds": round(seconds)}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    prose(name)                                     # the banner, and links that work from reports/<name>/
    return seconds

def _is_params(c) -> bool: return "injected-parameters" in c.get("metadata", {}).get("tags", [])

def banner(name: str) -> dict:
    "The markdown cell that opens report `name`: what ran, with which parameters, where, for how long."
    nb, params = REPORTS[name]
    r = json.loads((ROOT / "reports" / name / "summary.json").read_text()).get("report", {})
    args = ", ".join(f"`{k}={v!r}`" for k, v in params.items())
    took = f"{r['seconds'] / 60:.0f} min" if r.get("seconds") else "an unrecorded time"
    text = (f"**This page is the report `{name}`**: the chapter [`{nb}`](../../nbs/{nb}.ipynb) executed by papermill "
            f"with {args} (papermill's *injected-parameters* cell below), on a {r.get('device', 'machine not recorded')}, "
            f"in {took}{'; ' + r['note'] if r.get('note') else ''}. Its figures are in "
            f"[`summary.json`](../../reports/{name}/summary.json), which [`30_reproduction`](../../nbs/30_reproduction.ipynb) "
            "judges. The text is the chapter's: where it speaks of the CI defaults, it describes the chapter, not this run.")
    return {"cell_type": "markdown", "id": "report-banner", "metadata": {}, "source": text.splitlines(keepends=True)}

def prose(name: str, write: bool = True) -> bool:
    "Give report `name` its chapter's current markdown (links rewritten), keeping its code cells and outputs; True if it changed."
    nb, _ = REPORTS[name]
    path = ROOT / "reports" / name / f"{nb}.ipynb"
    rep = json.loads(path.read_text())
    chapter = json.loads((ROOT / "nbs" / f"{nb}.ipynb").read_text())
    ran = [c for c in rep["cells"] if c["cell_type"] == "code" and not _is_params(c)]
    now = [c for c in chapter["cells"] if c["cell_type"] == "code"]
    if ["".join(c["source"]) for c in ran] != ["".join(c["source"]) for c in now]:
        raise SystemExit(f"{name}: the code of nbs/{nb}.ipynb changed since this report ran; rerun it: "
                         f"make reports REPORTS={name}")
    params = [c for c in rep["cells"] if _is_params(c)]
    meta = {c.get("id"): c["metadata"] for c in rep["cells"] if c["cell_type"] == "markdown"}   # papermill's timings
    cells, it = [], iter(ran)
    for c in chapter["cells"]:
        if c["cell_type"] == "code":
            cells.append(next(it))
            if "parameters" in c.get("metadata", {}).get("tags", []): cells += params
        else:
            text = relink("".join(c["source"]), depth=2)           # written from reports/<name>/
            cells.append(dict(c, metadata=meta.get(c.get("id"), c["metadata"]), source=text.splitlines(keepends=True)))
            if len(cells) == 1: cells.append(banner(name))   # right under the title
    if cells == rep["cells"]: return False
    if not write: return True
    rep["cells"] = cells
    path.write_text(json.dumps(rep, indent=1, ensure_ascii=False) + "\n")
    return True

def run_bench(name: str) -> float:
    "Run benchmark report `name`; returns its seconds."
    from vlp_edu.bench import BENCHES
    bench, kw = BENCH_REPORTS[name]
    out = ROOT / "reports" / name
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res = BENCHES[bench](**kw)
    seconds = time.perf_counter() - t0
    res["report"] = {"bench": bench, "parameters": {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()},
                     "device": device_name(), "seconds": round(seconds)}
    (out / "summary.json").write_text(json.dumps(res, indent=1) + "\n")
    if res.get("reliable") is False: print(f"{name}: warning: {res.get('warning')}", flush=True)
    return seconds

if __name__ == "__main__":
    every = list(REPORTS) + list(BENCH_REPORTS)
    if sys.argv[1:2] == ["--prose"]:
        for n in sys.argv[2:] or [n for n in REPORTS if (ROOT / "reports" / n / "summary.json").is_file()]:
            print(f"{n}: {'prose updated' if prose(n) else 'up to date'}", flush=True)
        sys.exit()
    names = sys.argv[1:] or every
    unknown = [n for n in names if n not in every]
    if unknown: sys.exit(f"unknown report(s) {unknown}; choose from {every}")
    for n in names: print(f"{n}: {(run_bench if n in BENCH_REPORTS else run)(n):.0f} s", flush=True)
