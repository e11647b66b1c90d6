"""The HTML report as a document: escaping, CSP, self-containment, sections, size limits."""

from __future__ import annotations

from collections import Counter

import base64
import gzip
import json
import re
from html import unescape
import shutil
from pathlib import Path

import pytest
from tests.reports.report_data import HOSTILE, synthetic_result

from vdcaudit.reports import html_report
from vdcaudit.reports import RENDERERS
from vdcaudit.reports.html_report import csp_hash, script_json
from vdcaudit.reports.views import CARDS_PER_RULE
from vdcaudit.scan import ScanResult

DATA_BLOCK = re.compile(r'<script type="application/octet-stream" id="vdc-data" data-encoding="gzip\+base64">(.*?)</script>', re.S)


def unpack(block: str) -> dict:
    """The findings data block: gzip'd JSON in base64."""
    return json.loads(gzip.decompress(base64.b64decode(block)))


def _split(html: str) -> tuple[str, str, str]:
    """(markup without the two script blocks, the JSON data text, the inline script text)."""
    data = DATA_BLOCK.search(html).group(1)
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 1
    markup = DATA_BLOCK.sub("", html).replace(scripts[0], "")
    return markup, data, scripts[0]


def test_hostile_strings_are_escaped_everywhere(hostile_result: ScanResult) -> None:
    html = RENDERERS["html"].render(hostile_result).decode("utf-8")
    markup, data, _ = _split(html)
    for payload in ("<script>window", "<img src=x", "</script><script>", "onerror=\"window"):
        assert payload not in markup
    assert "&lt;script&gt;window.__xss=&#39;name&#39;&lt;/script&gt;" in markup  # shown, as text
    # The data block cannot be ended or commented out from inside (base64), and is still the exact values.
    assert re.fullmatch(r"[A-Za-z0-9+/=]*", data)
    decoded = unpack(data)
    assert HOSTILE[2] in decoded["strings"] or any(HOSTILE[2] in str(row) for row in decoded["findings"])


def test_script_json_escapes_what_could_end_a_script_block() -> None:
    text = script_json({"a": "</script><!--<script>", "b": "x\u2028y&"}).decode("utf-8")
    assert "</" not in text and "<!--" not in text and "\u2028" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!--<script>", "b": "x\u2028y&"}


def test_csp_allows_only_the_shipped_script_and_style(demo_result: ScanResult) -> None:
    html = RENDERERS["html"].render(demo_result).decode("utf-8")
    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["default-src"] == "'none'"
    _, _, script = _split(html)
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert directives["script-src"] == csp_hash(script)
    assert directives["style-src"] == csp_hash(style)
    assert "unsafe" not in csp
    assert directives["connect-src"] == "'none'" and directives["base-uri"] == "'none'"


def test_report_is_self_contained(demo_result: ScanResult) -> None:
    html = RENDERERS["html"].render(demo_result).decode("utf-8")
    markup, _, _ = _split(html)
    assert not re.search(r"""(src|href|action)\s*=\s*["']?(https?:|//)""", markup, re.I)
    assert "@import" not in html and "url(" not in html
    assert " style=" not in markup  # inline style attributes would be blocked by the CSP


def test_every_gap_has_a_card_up_to_the_cap_and_the_rest_go_to_the_explorer() -> None:
    result = synthetic_result(8_000)  # enough findings that some rule has more gaps than the cap
    html = RENDERERS["html"].render(result).decode("utf-8")
    # per rule, counted from the findings: its gaps (FAIL, UNKNOWN, ERROR; open or waived)
    gaps = Counter(f.rule_id for f in result.findings if f.status.value in ("FAIL", "UNKNOWN", "ERROR"))
    assert max(gaps.values()) > CARDS_PER_RULE  # the cap is exercised
    sections = dict(re.findall(r'<section class="rule" id="rule-([^"]+)">(.*?)</section>', html, re.S))
    assert set(sections) == set(gaps)
    for rule_id, count in gaps.items():
        section = sections[rule_id]
        assert section.count('<article class="finding') == min(count, CARDS_PER_RULE), rule_id
        more = re.findall(r'<p class="more">… and ([\d,]+) more\.', section)
        assert more == ([f"{count - CARDS_PER_RULE:,}"] if count > CARDS_PER_RULE else []), rule_id
    # every finding, card or not, is in the data for the explorer
    _, data, _ = _split(html)
    assert len(unpack(data)["findings"]) == len(result.findings)


def test_waivers_are_shown_with_owner_reason_and_expiry(waived_result: ScanResult) -> None:
    html = RENDERERS["html"].render(waived_result).decode("utf-8")
    waived = [f for f in waived_result.findings if f.waiver]
    assert waived
    assert 'id="waivers"' in html and "legacy app, migration planned" in html and "until 2027-06-30" in html


def test_sections_use_their_partial_or_fall_back_to_escaped_data(demo_result: ScanResult, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(html_report.data_path("templates"), templates)
    (templates / "_section_probe.html.j2").write_text(
        "<h2>Probe</h2><p class='probe'>{{ section.networks }} networks of {{ result.summary.resources }}</p>",
        encoding="utf-8")
    monkeypatch.setattr(html_report, "data_path", lambda name: templates)
    result = ScanResult(**{**demo_result.__dict__, "sections": {"probe": {"networks": 7},
                                                                 "other": {"name": "<b>x</b>"}}})
    html = RENDERERS["html"].render(result).decode("utf-8")
    assert f"<p class='probe'>7 networks of {demo_result.summary['resources']}</p>" in html
    assert 'id="section-other"' in html and "<b>x</b>" not in html.split('id="vdc-data"')[0]
