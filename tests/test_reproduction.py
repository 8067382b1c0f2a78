"""The reproduction report (nbs/30_reproduction.ipynb) and the reports under reports/: every report is read by a claim
and judged without error, `make reports` and the claims name the same reports, and the README and its source show the
tables the reports give today (regenerate them with `make readme`)."""
import importlib.util, json
from pathlib import Path
from vlp_edu.reproduction import load_reports, report_names, reproduction, results_in, results_markdown

ROOT = Path(__file__).resolve().parents[1]

def _make_reports():
    spec = importlib.util.spec_from_file_location("make_reports", ROOT / "tools" / "make_reports.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

def test_every_report_is_judged():
    reports = load_reports()
    assert set(reports) <= set(report_names()), set(reports) - set(report_names())
    rows = reproduction(reports)                               # raises ReportError if a summary lacks a figure
    assert {n for w in rows for n in w["reports"]} == set(reports)
    for name, s in reports.items():
        assert s.get("report", {}).get("device") and s["report"].get("seconds"), f"{name}: summary.json has no report block"

def test_make_reports_runs_what_the_claims_read():
    mr = _make_reports()
    assert set(mr.REPORTS) | set(mr.BENCH_REPORTS) == set(report_names())

def test_readme_shows_the_reports():
    "The README's results and its source's are the tables the reports give (run `make readme` after `make reports`)."
    want = results_markdown(load_reports()).strip()
    assert results_in((ROOT / "README.md").read_text()) == want, "README.md is stale: run `make readme`"
    cells = json.loads((ROOT / "nbs" / "index.ipynb").read_text())["cells"]
    assert results_in("".join("".join(c["source"]) for c in cells)) == want, "nbs/index.ipynb is stale: run `make readme`"
