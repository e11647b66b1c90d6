"""The system Chromium for the browser tests (the HTML report, the history site), driven by
Playwright: never `playwright install`. A test module takes `pytestmark = needs_chromium` and
imports the `browser` fixture."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# VDCAUDIT_TEST_CHROMIUM: another binary (tests/test_ci_requirements.py points it at nothing)
CHROMIUM = Path(os.environ.get("VDCAUDIT_TEST_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
MISSING = f"{CHROMIUM} is missing (apt-get install chromium chromium-driver)"
IN_CI = os.environ.get("CI", "").lower() == "true"

# Skipped on a developer machine without Chromium; under CI=true a missing browser fails the tests
# (the browser fixture says why): a pipeline must not go green without having run them.
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists() and not IN_CI, reason=MISSING)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module: Playwright's sync API cannot run two at once, so each module
    closes its own before the next starts."""
    if not CHROMIUM.exists():
        pytest.fail(f"CI=true but {MISSING}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()
