"""Webhook notifications after a recorded scan, sent only when something changed for the worse:
new or regressed FAILs, waivers that ended, lost coverage, new coverage gaps.

Formats (chosen by a prefix, else by the host):
- generic JSON (`json+https://...`, the default): the documented `vdcaudit.history.notification/1`
  document, see docs/history.md, "Notifications";
- Microsoft Teams (`teams+https://...`, or a Power Automate / Logic Apps Workflows URL): a message
  with one Adaptive Card attachment, the shape Teams Workflows "post to a channel when a webhook
  request is received" takes;
- Slack (`slack+https://...`, or hooks.slack.com): an incoming-webhook message with Block Kit blocks.

A webhook URL is a secret (Slack's path, the Workflows `sig=` parameter): it is never printed, only
its scheme and host.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from vdcaudit.deadline import DeadlineAdapter, DeadlinePassed, within
from vdcaudit.history.diff import ALERTING
from vdcaudit.retry_after import retry_after_seconds
from vdcaudit.untrusted import safe_text

# A delivery's budget (a server is not trusted to answer sanely): one deadline for all of it,
# connecting, retries and waits included; a reply read only up to REPLY_LIMIT bytes; a 429 or 5xx
# tried again, ATTEMPTS in all, after Retry-After (else RETRY_WAIT_SECONDS, then twice that).
DEADLINE_SECONDS = 15.0
REPLY_LIMIT = 64 * 1024
ATTEMPTS = 3
RETRY_WAIT_SECONDS = 1.0
SCHEMA = "vdcaudit.history.notification/1"
LISTED = 10  # findings named in a message; the counts cover the rest
FORMATS = ("json", "teams", "slack")
_LABELS = {"new": "new FAIL", "regressed": "regressed (PASS → FAIL)", "unwaived": "waiver ended",
           "lost_coverage": "lost coverage"}


@dataclass(frozen=True)
class Webhook:
    url: str
    format: str

    @property
    def shown(self) -> str:
        parts = urlsplit(self.url)
        return f"{self.format}+{parts.scheme}://{parts.hostname or ''}/***"


def parse_webhook(value: str) -> Webhook:
    """The webhook a --notify-webhook value names; ValueError (a message that never quotes the
    URL, a secret) when it is not an http(s) URL that parses."""
    prefix, plus, rest = value.partition("+")
    try:
        parts = urlsplit(rest if plus and prefix in FORMATS else value)
        parts.port  # noqa: B018 - a port that is not a number fails here
    except ValueError as exc:  # e.g. "Invalid IPv6 URL" (a missing ']')
        raise ValueError(f"the webhook URL does not parse: {exc}") from None
    if not parts.hostname:
        raise ValueError("the webhook URL has no host")
    if plus and prefix in FORMATS and rest.startswith(("http://", "https://")):
        return Webhook(rest, prefix)
    if not value.startswith(("http://", "https://")):
        raise ValueError("a webhook is an http(s) URL, optionally prefixed json+, teams+ or slack+")
    host = (urlsplit(value).hostname or "").lower()
    if host == "hooks.slack.com":
        return Webhook(value, "slack")
    if host.endswith((".logic.azure.com", ".powerplatform.com", ".webhook.office.com")):
        return Webhook(value, "teams")
    return Webhook(value, "json")


def should_notify(view: dict[str, Any]) -> bool:
    return bool(view.get("before")) and view["alerting"] > 0


def _link(report_url: str | None, fingerprint: str | None = None) -> str | None:
    if not report_url:
        return None
    return f"{report_url}#finding-{fingerprint}" if fingerprint else report_url


def generic(view: dict[str, Any], report_url: str | None) -> dict[str, Any]:
    listed = {kind: [{"rule_id": c["rule_id"], "title": c["title"], "severity": c["severity"],
                      "resource_id": c["resource_id"], "resource_name": c["resource_name"],
                      "before": c["before"], "now": c["after"], "fingerprint": c["fingerprint"],
                      "link": _link(report_url, c["fingerprint"])} for c in view["changes"][kind][:LISTED]]
              for kind in ALERTING}
    return {
        "schema": SCHEMA,
        "scan": {"id": view["scan"], "scope": view["scope"], "started": view["after"]["started"],
                 "rulepack": view["after"]["rulepack"]},
        "previous": view["before"] and {"id": view["before"]["id"], "started": view["before"]["started"]},
        "counts": view["counts"],
        "new_coverage_gaps": view["new_coverage_gaps"],
        "rulepack_changed": view["rulepack_changed"],
        "report": report_url,
        "changes": listed,
    }


def _headline(view: dict[str, Any]) -> str:
    counts = view["counts"]
    parts = [f"{counts[kind]} {_LABELS[kind]}" for kind in ALERTING if counts[kind]]
    if view["new_coverage_gaps"]:
        parts.append(f"{len(view['new_coverage_gaps'])} new coverage gap(s)")
    return f"vdcaudit scan #{view['scan']} ({view['scope']}): " + ", ".join(parts)


def _lines(view: dict[str, Any], report_url: str | None) -> list[tuple[str, str | None]]:
    """(text, link) for the first findings that changed for the worse."""
    lines = []
    for kind in ALERTING:
        for c in view["changes"][kind]:
            lines.append((f"{_LABELS[kind]}: [{c['severity']}] {c['rule_id']} {c['resource_name']}",
                          _link(report_url, c["fingerprint"])))
    return lines[:LISTED]


def teams(view: dict[str, Any], report_url: str | None) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": _headline(view), "weight": "Bolder", "wrap": True},
        {"type": "FactSet", "facts": [{"title": _LABELS[k], "value": str(view["counts"][k])} for k in ALERTING]
         + [{"title": "fixed", "value": str(view["counts"]["fixed"])}]},
    ]
    body += [{"type": "TextBlock", "text": f"[{text}]({link})" if link else text, "wrap": True, "spacing": "None"}
             for text, link in _lines(view, report_url)]
    card: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                            "version": "1.4", "body": body}
    if report_url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the report", "url": report_url}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


def _slack_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(view: dict[str, Any], report_url: str | None) -> dict[str, Any]:
    items = [f"• <{link}|{_slack_text(text)}>" if link else f"• {_slack_text(text)}" for text, link in _lines(view, report_url)]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _headline(view)[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{_LABELS[k]}*\n{view['counts'][k]}"} for k in ALERTING]
         + [{"type": "mrkdwn", "text": f"*fixed*\n{view['counts']['fixed']}"}]},
    ]
    if items:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(items)[:3000]}})
    if report_url:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open the report"}, "url": report_url}]})
    return {"text": _headline(view), "blocks": blocks}


PAYLOADS = {"json": generic, "teams": teams, "slack": slack}


def send(webhooks: list[Webhook], view: dict[str, Any], report_url: str | None) -> list[str]:
    """Post to every webhook; returns one line per failure (the URL masked), never raises."""
    failures = []
    for hook in webhooks:
        failure = deliver(hook, PAYLOADS[hook.format](view, report_url))
        if failure:
            failures.append(f"notification to {hook.shown} failed: {failure}")
    return failures


def deliver(hook: Webhook, payload: dict[str, Any], deadline_seconds: float | None = None) -> str | None:
    """POST the payload within one total deadline (connecting, retries, waits and replies
    included); None when the webhook accepted it, else why not (one line).

    A server is not trusted to answer sanely: the deadline holds however slowly it answers
    (vdcaudit.deadline), at most REPLY_LIMIT bytes of its reply are read, and a 429 or 5xx is tried
    again at most ATTEMPTS times in all, after its Retry-After when that fits in the deadline."""
    deadline_seconds = DEADLINE_SECONDS if deadline_seconds is None else deadline_seconds
    deadline = time.monotonic() + deadline_seconds
    adapter = DeadlineAdapter()
    with requests.Session() as session:
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        for attempt in range(1, ATTEMPTS + 1):
            remaining = deadline - time.monotonic()
            try:
                status, retry_after, detail = within(remaining, lambda: _post(session, hook.url, payload, remaining),
                                                     adapter)
            except DeadlinePassed:
                return f"no answer within {deadline_seconds:g}s (the deadline of a delivery)"
            except Exception as exc:  # requests' errors, or whatever else a hostile reply breaks: one line
                return type(exc).__name__
            if 200 <= status < 300:
                return None
            failure = f"HTTP {status}" + (f" ({detail})" if detail else "")
            if not (status == 429 or status >= 500) or attempt == ATTEMPTS:
                return failure + (f" after {attempt} attempts" if attempt > 1 else "")
            wait = retry_after if retry_after is not None else RETRY_WAIT_SECONDS * attempt
            if time.monotonic() + wait >= deadline:
                return failure + f"; retrying after {wait:g}s would pass the {deadline_seconds:g}s deadline"
            time.sleep(wait)
    return None  # not reached: the last attempt returns


def _post(session: requests.Session, url: str, payload: dict[str, Any], timeout: float) -> tuple[int, float | None, str]:
    """One POST: (status, Retry-After in seconds if given, the start of an error reply)."""
    with session.post(url, json=payload, timeout=timeout, allow_redirects=False, stream=True) as response:
        reply = b""
        try:
            for chunk in response.iter_content(4096):  # read up to the limit, then stop (and drop the connection)
                reply += chunk
                if len(reply) >= REPLY_LIMIT:
                    break
        except requests.RequestException:
            pass  # a reply cut short: its status still says what happened
        detail = "" if 200 <= response.status_code < 300 else safe_text(reply[:REPLY_LIMIT].decode("utf-8", "replace"), 120)
        return response.status_code, retry_after_seconds(response.headers.get("Retry-After")), detail
