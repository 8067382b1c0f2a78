"""The reproduction report (nbs/30_reproduction.ipynb) and the reports under reports/: every report is read by a claim
and judged without error, `make reports` and the claims name the same reports, and the README and its source show the
tables the reports give today (regenerate them with `make readme`)."""
import importlib.util, json, re
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
    want_nbs = results_markdown(load_reports(), chapters="", prefix="../reports/").strip()    # written from nbs/
    assert results_in("".join("".join(c["source"]) for c in cells)) == want_nbs, "nbs/index.ipynb is stale: run `make readme`"

def _missing_links(text: str, base: Path) -> list[str]:
    "The relative link targets of markdown `text` that do not exist under `base`."
    targets = [t.split("#")[0] for t in re.findall(r"\]\(([^)\s]+)\)", text) if not t.startswith(("http", "#", "mailto:"))]
    assert targets, base
    return [t for t in targets if not (base / t).exists()]

def test_links_of_the_readme_and_its_source_resolve():
    "Every relative link of the README resolves from the repository's root, and every one of the index from nbs/."
    cells = json.loads((ROOT / "nbs" / "index.ipynb").read_text())["cells"]
    for base, text in ((ROOT, (ROOT / "README.md").read_text()),
                       (ROOT / "nbs", "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown"))):
        missing = _missing_links(text, base)
        assert not missing, f"links from {base.relative_to(ROOT.parent)} to missing files: {missing}"

def test_reports_read_as_their_chapters_do_now():
    "A report's markdown is its chapter's, with links that resolve from reports/<name>/ (`make_reports.py --prose`)."
    mr = _make_reports()
    for name in [n for n in mr.REPORTS if (ROOT / "reports" / n / "summary.json").is_file()]:
        assert not mr.prose(name, write=False), f"{name}: its prose is stale: run python tools/make_reports.py --prose {name}"
        nb = ROOT / "reports" / name / f"{mr.REPORTS[name][0]}.ipynb"
        text = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "markdown")
        missing = _missing_links(text, nb.parent)
        assert not missing, f"{name}: links to missing files: {missing}"
