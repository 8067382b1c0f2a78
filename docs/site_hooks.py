"""MkDocs hooks for the course site (see mkdocs.yml): the notebooks of nbs/ become its pages, MathJax is served with it.

- Each notebook is staged under build/site/ (git-ignored) the way nbdev shows it in its docs: cells marked `#| hide`
  or `#| include: false` dropped, `#| echo: false` and `#| output: false` turned into the tags mkdocs-jupyter removes,
  and every `#|` directive line taken out of the code shown.
- A page is named as nbdev names it (00_core.ipynb -> core.html), links between notebooks (`06_learner.ipynb`) point
  at those pages, and each page is also written as markdown (core.html.md): the address of the `Docs:` line that
  nbdev writes into each module's docstring.
- The measured runs under reports/ are pages too (`reports/20_small/20_pretrain_vilt.ipynb` -> report_20_small.html, in
  the nav under Reports), and their other files (summary.json, figures) are copied as they are.
- MathJax 2.7 comes from the jupyter-server-mathjax package and is copied to assets/mathjax/, so equations are
  typeset without a network.
- The table of contents is read from the headings' ids, a title given in the nav wins over the notebook's H1, and
  the JupyterLab stylesheet that nbconvert inlines into every page is written once and linked."""
from __future__ import annotations
import hashlib, re
from pathlib import Path
import nbformat
import jupyter_server_mathjax
from nbconvert import MarkdownExporter
from traitlets.config import Config
from nbdev.config import nbpath2html
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.toc import get_toc

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
REPORTS = ROOT / "reports"
STAGE = ROOT / "build" / "site"
MATHJAX = Path(jupyter_server_mathjax.__file__).parent / "static"
# the fonts MathJax 2.7 finds in jupyter-server-mathjax (its STIX web fonts; the TeX fonts are not shipped)
MATHJAX_CONFIG = """MathJax.Hub.Config({
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null},
  messageStyle: "none"
});
MathJax.Ajax.loadComplete("[MathJax]/config/vlp_edu.js");
"""
_directive = re.compile(r"^\s*#\s*\|\s*(.*?)\s*$")
_docs_link = re.compile(r"\]\((?:\.\./)+docs/")       # a link to docs/ from nbs/ or from reports/<name>/

def page_name(stem: str) -> str:
    "nbdev's page name for a notebook, the number prefix dropped (`05a_pixel_vlp` -> `pixel_vlp`), as in the modules' `Docs:` links."
    return nbpath2html(f"{stem}.ipynb").stem

def _directives(src: str) -> tuple[list[str], str]:
    "The `#|` directives at the top of a code cell, and the source without them."
    lines, opts = src.splitlines(), []
    while lines and (m := _directive.match(lines[0])): opts.append(m.group(1).replace(" ", "")); lines.pop(0)
    return opts, "\n".join(lines)

def stage(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    "The notebook as the site shows it (nbdev's rules for `hide`, `include`, `echo` and `output`)."
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            opts, cell.source = _directives(cell.source)
            if "hide" in opts or "include:false" in opts: continue
            tags = set(cell.metadata.get("tags", []))
            if "echo:false" in opts: tags.add("remove_input")
            if "output:false" in opts: tags.add("remove_output")
            if tags: cell.metadata["tags"] = sorted(tags)
        elif cell.cell_type == "markdown":            # every page sits at the site's root, beside docs/screenshots/
            cell.source = _docs_link.sub("](docs/", cell.source)
        cells.append(cell)
    nb.cells = cells
    return nb

def _write_if_changed(path: Path, text: str):
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True); path.write_text(text, encoding="utf-8")

_staged: dict[str, Path] = {}

def staged_notebooks() -> dict[str, Path]:
    "Stage every notebook of nbs/ (scratch ones, `_*.ipynb`, left out); returns {page name: staged file}."
    staged = _staged
    staged.clear()
    for f in sorted(NBS.glob("*.ipynb")):
        if f.name.startswith("_"): continue
        dst = STAGE / f"{page_name(f.stem)}.ipynb"
        _write_if_changed(dst, nbformat.writes(stage(nbformat.read(f, as_version=4))))
        staged[dst.stem] = dst
    for f in sorted(REPORTS.glob("*/*.ipynb")):      # one executed notebook per report
        dst = STAGE / f"report_{f.parent.name}.ipynb"
        _write_if_changed(dst, nbformat.writes(stage(nbformat.read(f, as_version=4))))
        staged[dst.stem] = dst
    for old in STAGE.glob("*.ipynb"):                 # a notebook removed or renamed in nbs/
        if old.stem not in staged: old.unlink()
    return staged

@event_priority(100)                                  # before mkdocs-jupyter turns the .ipynb files into pages
def on_files(files: Files, config) -> Files:
    site, dirs = config.site_dir, config.use_directory_urls
    for name, path in staged_notebooks().items(): files.append(File(path.name, str(STAGE), site, dirs))
    for folder, under in ((ROOT / "docs" / "screenshots", ROOT), (NBS / "images", NBS)):  # images the notebooks show
        for p in sorted(folder.glob("*")) if folder.is_dir() else []:
            if p.is_file(): files.append(File(p.relative_to(under).as_posix(), str(under), site, dirs))
    for p in sorted(REPORTS.glob("*/*")):             # a report's summary.json and saved figures, as they are
        if p.is_file() and p.suffix != ".ipynb": files.append(File(p.relative_to(ROOT).as_posix(), str(ROOT), site, dirs))
    for p in sorted(MATHJAX.rglob("*")):
        if p.is_file(): files.append(File.generated(config, f"assets/mathjax/{p.relative_to(MATHJAX).as_posix()}", abs_src_path=str(p)))
    files.append(File.generated(config, "assets/mathjax/config/vlp_edu.js", content=MATHJAX_CONFIG))
    return files

def on_config(config):
    "The reports, one page each, go into the nav's Reports section after the reproduction report."
    pages = [f"report_{f.parent.name}.ipynb" for f in sorted(REPORTS.glob("*/*.ipynb"))]
    for entry in config.nav:
        if isinstance(entry, dict) and "Reports" in entry: entry["Reports"] = list(entry["Reports"] or []) + pages
    return config

_report_link = re.compile(r'(href=")(?:\.\./)*reports/([\w.-]+)/([^"#]*)(#[^"]*)?"')

def _report_href(m) -> str:
    "A link to a report: its notebook -> its page; its other files stay where they are, under reports/."
    name, file = m[2], m[3]
    if file.endswith(".ipynb"): return f'{m[1]}report_{name}.html{m[4] or ""}"'
    return f'{m[1]}reports/{name}/{file}{m[4] or ""}"'

_nb_link = re.compile(r'(href=")(?:\.\./)*(?:nbs/)?(\d+[a-zA-Z0-9]*_\w+|index)\.ipynb(#[^"]*)?"')

_heading = re.compile(r'<h([1-6]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
_anchor_link, _tag = re.compile(r'<a class="anchor-link".*?</a>', re.S), re.compile(r"<[^>]+>")

def page_toc(html: str, depth: int = 3):
    "The table of contents from the headings nbconvert wrote, with their ids (mkdocs-jupyter's own TOC slugs a heading"
    "with `code` in it differently from the heading's id, so its links went nowhere)."
    root = {"level": 0, "children": []}; stack = [root]
    for level, hid, inner in _heading.findall(html):
        if int(level) > depth: continue
        item = {"level": int(level), "id": hid, "name": _tag.sub("", _anchor_link.sub("", inner)).strip(), "children": []}
        while stack[-1]["level"] >= item["level"]: stack.pop()
        stack[-1]["children"].append(item); stack.append(item)
    return get_toc(root["children"])

_nav_titles = {}

def on_pre_page(page, config, files):
    "A title given in the nav (`Start: index.ipynb`) wins over the notebook's H1, which mkdocs-jupyter puts in its place."
    _nav_titles[page.file.src_uri] = page.title
    return page

def on_page_content(html: str, page, config, files) -> str:
    "Links to a notebook (`06_learner.ipynb`, `nbs/06_learner.ipynb`) go to its page (`learner.html`); the TOC follows the headings."
    if page.file.src_uri.endswith(".ipynb"): page.toc = page_toc(html, config.plugins["mkdocs-jupyter"].config["toc_depth"])
    if _nav_titles.get(page.file.src_uri): page.title = _nav_titles[page.file.src_uri]
    html = _report_link.sub(_report_href, html)
    return _nb_link.sub(lambda m: f'{m[1]}{page_name(m[2])}.html{m[3] or ""}"', html)

_style = re.compile(r'<style type="text/css">(.*?)</style>', re.S)

def on_post_page(output: str, page, config) -> str:
    "nbconvert inlines JupyterLab's stylesheet (0.5 MB) into every page: keep one copy, which every page links to."
    def link(m):
        css = m[1]
        if len(css) < 50_000: return m[0]
        name = f"assets/stylesheets/jupyter-{hashlib.sha256(css.encode()).hexdigest()[:10]}.css"
        _write_if_changed(Path(config.site_dir) / name, css)
        return f'<link rel="stylesheet" href="{"../" * page.url.count("/")}{name}">'
    return _style.sub(link, output)

_md_report_link = re.compile(r"\]\((?:\.\./)*reports/([\w.-]+)/([^)\s]*)\)")
_md_nb_link = re.compile(r"\]\((?:\.\./)*(?:nbs/)?(\d+[a-zA-Z0-9]*_\w+|index)\.ipynb(#[^)\s]*)?\)")

_REMOVE_TAGS = Config({"TagRemovePreprocessor": {"enabled": True, "remove_cell_tags": {"remove_cell"},
                                                  "remove_input_tags": {"remove_input"}, "remove_all_outputs_tags": {"remove_output"}}})

def on_post_build(config):
    "Each page also as markdown, `core.html.md`: the address nbdev writes into each module's `Docs:` line."
    site = Path(config.site_dir)
    for name, path in _staged.items():
        body, res = MarkdownExporter(config=_REMOVE_TAGS).from_notebook_node(nbformat.read(path, as_version=4),
                                                         resources={"unique_key": name, "output_files_dir": f"{name}_files"})
        body = _md_nb_link.sub(lambda m: f"]({page_name(m[1])}.html{m[2] or ''})", body)
        body = _md_report_link.sub(lambda m: f"](report_{m[1]}.html)" if m[2].endswith(".ipynb") else f"](reports/{m[1]}/{m[2]})", body)
        (site / f"{name}.html.md").write_text(body, encoding="utf-8")
        for fname, data in res.get("outputs", {}).items():
            (site / fname).parent.mkdir(parents=True, exist_ok=True); (site / fname).write_bytes(data)
