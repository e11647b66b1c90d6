"""Under CI=true, tests that need Chromium fail when it is missing (on a developer machine they are
skipped): run a browser test in a child pytest with the browser pointed at a file that does not exist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
BROWSER_TEST = """
from tests.chromium_browser import browser, needs_chromium  # noqa: F401 (browser: a fixture)

pytestmark = needs_chromium


def test_opens_a_page(browser) -> None:
    assert browser.new_page()
"""


@pytest.mark.parametrize("ci, outcome", [("true", "1 error"), ("", "1 skipped")])
def test_a_missing_chromium_fails_under_ci_and_skips_elsewhere(tmp_path: Path, ci: str, outcome: str) -> None:
    (tmp_path / "test_browser_needed.py").write_text(BROWSER_TEST)
    env = {**os.environ, "CI": ci, "VDCAUDIT_TEST_CHROMIUM": str(tmp_path / "no-chromium"),
           "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)])}
    child = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                            str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert outcome in child.stdout, child.stdout + child.stderr
    assert (child.returncode != 0) == (ci == "true")
    if ci:
        assert "CI=true but" in child.stdout and "no-chromium is missing" in child.stdout
