"""The README's commands run, in order, as a newcomer runs them in a fresh clone.

A README that lies is a defect: every ```bash block of README.md is run here, command by command, in a
copy of the repository (its tracked files, no reports), with `vdcaudit` meaning this checkout's
`python -m vdcaudit`. A block the test cannot run (an install, a live Azure scan) is marked in the README
with `<!-- not run: reason -->` just before it. A command exits 0 unless its line says `# exits N`.
Afterwards nothing new may be in the repository's root (examples write under `reports/`), and the quick
start's reports must still be there.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"(?P<marker><!--\s*not run:[^>]*-->\s*\n)?```bash\n(?P<body>.*?)```", re.S)
EXPECTED_EXIT = re.compile(r"#\s*exits\s+(\d+)\b")
# What a fresh clone does not hold: git's own folder, caches, built sites and generated reports.
NOT_IN_A_CLONE = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".pytest_cache", ".hypothesis",
                                        "site-docs", "*.egg-info", "test-artifacts")


def not_in_a_clone(folder: str, names: list[str]) -> set[str]:
    ignored = set(NOT_IN_A_CLONE(folder, names))
    if Path(folder) == ROOT / "reports":  # generated reports are git-ignored: a clone has only the templates
        ignored |= {name for name in names if name != "templates"}
    return ignored


def readme_blocks(text: str) -> list[tuple[bool, str]]:
    """Each ```bash block as (runs, body): a block right after a `not run` comment does not run."""
    return [(match.group("marker") is None, match.group("body")) for match in FENCE.finditer(text)]


def commands(body: str) -> list[str]:
    """The commands of a block: backslash continuations joined, comment lines and blank lines left out."""
    joined = re.sub(r"\s*\\\n\s*", " ", body)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def expected_exit(command: str) -> int:
    found = EXPECTED_EXIT.search(command)
    return int(found.group(1)) if found else 0


def test_readme_blocks_are_parsed_as_written() -> None:
    text = "<!-- not run: installs -->\n```bash\npip install .\n```\n\n```bash\na \\\n  --b  # exits 1\n# note\nc\n```\n"
    blocks = readme_blocks(text)
    assert [runs for runs, _ in blocks] == [False, True]
    assert commands(blocks[1][1]) == ["a --b  # exits 1", "c"]
    assert [expected_exit(c) for c in commands(blocks[1][1])] == [1, 0]


def test_readme_is_short() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 300


def copy_of_the_repository(target: Path) -> Path:
    clone = target / "clone"
    shutil.copytree(ROOT, clone, ignore=not_in_a_clone)
    return clone


def vdcaudit_on_path(target: Path) -> dict[str, str]:
    """An environment whose `vdcaudit` is `python -m vdcaudit` of the current folder (the copy)."""
    bin_dir = target / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "vdcaudit"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m vdcaudit "$@"\n')
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    env = {key: value for key, value in os.environ.items() if not key.startswith("VDCAUDIT_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = ""
    return env


@pytest.mark.skipif(shutil.which("openssl") is None and os.environ.get("CI") != "true",
                    reason="the README's evidence example makes its key with openssl")
def test_readme_commands_run_in_order_from_a_fresh_clone(tmp_path: Path) -> None:
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    skipped = [body for runs, body in blocks if not runs]
    assert len(skipped) <= 2, f"only the install (and the like) may be left unrun: {skipped}"
    clone = copy_of_the_repository(tmp_path)
    env = vdcaudit_on_path(tmp_path)
    root_before = sorted(path.name for path in clone.iterdir())
    ran = 0
    for runs, body in blocks:
        if not runs:
            continue
        for command in commands(body):
            result = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True,
                                    timeout=300)
            assert result.returncode == expected_exit(command), (
                f"README command exited {result.returncode}, the README says {expected_exit(command)}:\n"
                f"{command}\nstdout:\n{result.stdout[-2000:]}\nstderr:\n{result.stderr[-2000:]}")
            ran += 1
    assert ran >= 10
    assert sorted(path.name for path in clone.iterdir()) == root_before, "a README command left files in the root"
    quickstart = clone / "reports" / "quickstart"
    assert (quickstart / "vdcaudit-findings.json").is_file() and (quickstart / "vdcaudit-report.html").is_file()
