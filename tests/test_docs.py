"""The course site (`make docs`, mkdocs.yml): it builds offline from the notebooks, has a page for every notebook in
the nav, the `Docs:` link of every module names a file of it, no relative link or anchor in it is broken, and in a
real browser (Debian's Chromium driven by Playwright, over a loopback http server) a figure shows, an equation is
typeset, search answers, and no request leaves the machine.

Set VLP_SCREENSHOTS to a folder to keep the browser's screenshot of a chapter (default: pytest's tmp folder)."""
import functools, html, http.server, os, re, subprocess, sys, threading, time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
import pytest

ROOT = Path(__file__).resolve().parents[1]
from conftest import CHROMIUM, browser_or_skip as _browser_or_skip   # the shared browser check
CHAPTER = "token_merging"            # a chapter with inline and display equations
pytestmark = pytest.mark.slow        # the build takes half a minute on 2 cores (more with a cold cache or a busy machine)

def page_name(stem: str) -> str:
    "The site's page for a notebook, named as nbdev names it (docs/site_hooks.py): `05a_pixel_vlp` -> `pixel_vlp`."
    from nbdev.config import nbpath2html
    return nbpath2html(f"{stem}.ipynb").stem

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    "The site built by the command `make docs` runs, into a tmp folder; returns its folder."
    try: import mkdocs, material, mkdocs_jupyter, jupyter_server_mathjax  # noqa: F401  (the dev extra)
    except ImportError:
        if os.environ.get("VLP_EDU_REQUIRE_BROWSER"): raise
        pytest.skip("the docs tools are not installed (make setup installs them)")
    out = tmp_path_factory.mktemp("site")
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--quiet", "--site-dir", str(out)], cwd=ROOT,
                       capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=900)
    wall = time.perf_counter() - t0
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]     # strict: a warning fails the build
    pages = [p for p in out.glob("*.html") if p.name != "404.html"]
    print(f"site built in {wall:.1f} s: {len(pages)} pages")
    return out

class _Refs(HTMLParser):
    "Every href/src of a page, and every id in it."
    def __init__(self):
        super().__init__(); self.refs, self.ids = [], set()
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k == "id" and v: self.ids.add(v)
            if k in ("href", "src") and v: self.refs.append((tag, v))

def _parse(f: Path) -> _Refs:
    p = _Refs(); p.feed(f.read_text(encoding="utf-8")); return p

def test_every_notebook_has_a_page_in_the_nav(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    for nb in sorted((ROOT / "nbs").glob("*.ipynb")):
        if nb.name.startswith("_"): continue
        name = page_name(nb.stem)
        assert (site / f"{name}.html").exists(), f"{nb.name} has no page"
        assert f'href="{name}.html"' in index, f"{nb.name} is not in the nav (mkdocs.yml)"

def test_docs_links_of_the_modules_resolve(site):
    "The `Docs:` line nbdev writes into each module's docstring (pyproject's Documentation URL + page + `.md`) names a file of the site."
    base = re.search(r'^Documentation = "(\S+)"', (ROOT / "pyproject.toml").read_text(), re.M)[1]
    links = {f.name: m[1] for f in sorted((ROOT / "vlp_edu").glob("*.py"))
             if (m := re.search(r'^Docs: ([^\s"]+)', f.read_text(encoding="utf-8"), re.M))}
    assert len(links) > 10
    missing = [f"{f}: {url}" for f, url in links.items() if not url.startswith(base) or not (site / url[len(base):]).exists()]
    assert not missing, missing
    md = (site / "token_merging.html.md").read_text(encoding="utf-8")
    assert md.startswith("# Token merging") and "```python" in md and not re.search(r"\]\([^)]*\.ipynb", md)

def test_no_broken_internal_link(site):
    "Every relative href/src of every page names a file of the site, and every #anchor an id of its page."
    pages = {f: _parse(f) for f in site.rglob("*.html")}
    base = urlsplit(re.search(r"^site_url:\s*(\S+)", (ROOT / "mkdocs.yml").read_text(), re.M)[1]).path   # /vlp_edu/
    broken = []
    for f, p in pages.items():
        for tag, ref in p.refs:
            u = urlsplit(html.unescape(ref))
            if u.scheme or ref.startswith("//"): continue                  # external (http, mailto, data:)
            path = unquote(u.path)
            if path.startswith("/"):                                       # 404.html links from the site's root on its host
                assert path.startswith(base), ref; path = str(site / path[len(base):])
            target = (f.parent / path).resolve() if path else f
            if target.is_dir(): target = target / "index.html"
            if not target.exists(): broken.append(f"{f.relative_to(site)}: {ref}"); continue
            if u.fragment and target.suffix == ".html" and target in pages and u.fragment not in pages[target].ids:
                broken.append(f"{f.relative_to(site)}: {ref} (no such anchor)")
    assert not broken, "\n".join(broken[:40])
    assert len(pages) > 20

def test_math_and_figures_are_served_with_the_site(site):
    "No page loads a script or a stylesheet from another host: MathJax is a file of the site."
    chapter = (site / f"{CHAPTER}.html").read_text(encoding="utf-8")
    assert re.search(r'<script src="assets/mathjax/MathJax\.js\?config=', chapter)
    assert (site / "assets/mathjax/MathJax.js").exists() and (site / "assets/mathjax/config/vlp_edu.js").exists()
    assert "fonts.googleapis" not in chapter and "fonts.gstatic" not in chapter
    for f in site.glob("*.html"):
        text = f.read_text(encoding="utf-8")
        assert not re.search(r'<(script|img)\s[^>]*src="(https?:)?//|<link rel="stylesheet" href="(https?:)?//', text), f.name
    assert "$" in chapter and (site / "search/search_index.json").exists()

# ---- a real browser ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(site):
    "The site over a loopback http server (as `python -m http.server -d _site` serves it)."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown(); httpd.server_close()

def _images_loaded(page) -> list:
    "naturalWidth of every <img> in the page's content, once all have loaded."
    page.wait_for_function("[...document.querySelectorAll('article img')].every(i => i.complete)", timeout=60_000)
    return page.eval_on_selector_all("article img", "els => els.map(i => i.naturalWidth)")

def test_browser_reads_the_site_offline(served, tmp_path):
    sync_playwright = _browser_or_skip()
    from playwright.sync_api import expect
    shots = Path(os.environ.get("VLP_SCREENSHOTS") or tmp_path); shots.mkdir(parents=True, exist_ok=True)
    T = int(os.environ.get("VLP_BROWSER_TIMEOUT_S", 120)) * 1000
    outside, errors = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        def guard(route):                                     # the site must need nothing but itself
            if route.request.url.startswith(served) or route.request.url.startswith("data:"): route.continue_()
            else: outside.append(route.request.url); route.abort()
        ctx.route("**/*", guard)
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        # the home page: the README's text and its screenshots (figures)
        page.goto(served, wait_until="load")
        expect(page.locator("article h1").first).to_have_text(re.compile("vlp_edu"), timeout=T)
        widths = _images_loaded(page)
        assert widths and all(w > 0 for w in widths), widths
        # the nav follows the reading paths
        for section in ("Core path", "Paper 1 track", "E2E-VLP track", "SimVLG track", "Tools", "References"):
            expect(page.locator("nav.md-nav--primary").get_by_text(section, exact=True).first).to_be_attached()
        # a chapter: its equations typeset by the MathJax served with the site, its figures loaded
        page.goto(served + f"{CHAPTER}.html", wait_until="load")
        expect(page.locator("article h1").first).to_have_text(re.compile("Token merging"), timeout=T)
        expect(page.locator("span.MathJax").first).to_be_attached(timeout=T)
        page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 && !MathJax.Hub.queue.running",
                               timeout=T)
        n_math = page.locator("span.MathJax").count()
        assert n_math >= 5 and page.locator(".MathJax_Error, .MathJax_Preview:has-text('Math Processing Error')").count() == 0
        assert page.locator("text=Math Processing Error").count() == 0
        assert all(w > 0 for w in _images_loaded(page))
        assert page.locator("span.MathJax").first.bounding_box()["width"] > 0
        page.screenshot(path=str(shots / "site_chapter.png"), full_page=False)
        # the table of contents jumps to its headings
        toc = page.locator("nav.md-nav--secondary a.md-nav__link")
        assert toc.count() >= 5
        # search works offline (its index and worker are files of the site)
        page.locator("input.md-search__input").focus()
        page.keyboard.type("bipartite")
        expect(page.locator(".md-search-result__item").first).to_be_visible(timeout=T)
        browser.close()
    assert not outside, f"requests that left the machine: {outside[:5]}"
    assert not errors, errors[:5]
    assert (shots / "site_chapter.png").stat().st_size > 10_000
    print(f"{n_math} equations typeset on {CHAPTER}.html")
