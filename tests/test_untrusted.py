"""safe_text: the one way text from input is printed (escaped, credentials masked, never raising)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vdcaudit.untrusted import safe_text


def test_terminal_escapes_line_breaks_and_bidi_overrides_are_escaped() -> None:
    assert safe_text("st\x1b]0;pwned\x07\x1b[2Jx") == "st\\x1b]0;pwned\\x07\\x1b[2Jx"
    assert safe_text("a\r\nforged log line") == "a\\x0d\\x0aforged log line"
    assert safe_text("evil\u202egnp.exe") == "evil\\u202egnp.exe"
    assert safe_text("\x9b31m") == "\\x9b31m"  # the one-byte CSI
    assert safe_text("Zürich · 東京") == "Zürich · 東京"  # printable text is left alone


def test_credentials_in_urls_are_masked() -> None:
    assert safe_text("https://admin:Passw0rd!@nc.contoso.local/x") == "https://***@nc.contoso.local/x"
    assert safe_text("https://h/hook?sig=abc&api-version=1&code=k3y&token=t") == \
        "https://h/hook?sig=***&api-version=1&code=***&token=***"
    assert safe_text("see postgresql://scanner:***@db/vdc") == "see postgresql://scanner:***@db/vdc"
    assert safe_text("https://[::1/x?token=t") == "https://[::1/x?token=***"  # a URL that does not parse


def test_long_text_is_cut() -> None:
    assert safe_text("x" * 10_000, limit=100) == "x" * 99 + "…"
    assert len(safe_text("x" * 10_000, limit=None)) == 10_000


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(text=st.text())
def test_no_control_character_ever_comes_through(text: str) -> None:
    shown = safe_text(text, limit=None)
    assert not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in shown)
