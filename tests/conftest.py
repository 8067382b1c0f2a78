import os
from pathlib import Path
import pytest
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CHROMIUM = "/usr/bin/chromium"   # Debian's chromium, driven by Playwright in the browser tests (never a downloaded one)

def browser_or_skip():
    "Playwright's sync_playwright, or skip (fail under VLP_EDU_REQUIRE_BROWSER) when it or Chromium is missing."
    try: from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("VLP_EDU_REQUIRE_BROWSER"): raise
        pytest.skip("playwright is not installed (make test installs it)")
    if not Path(CHROMIUM).exists():
        if os.environ.get("VLP_EDU_REQUIRE_BROWSER"): raise AssertionError(f"{CHROMIUM} missing: make test installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} missing (apt-get install chromium)")
    return sync_playwright
