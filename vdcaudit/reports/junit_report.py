"""JUnit XML for CI test views (Azure DevOps "Publish Test Results", GitLab, Jenkins).

One <testsuite> per rule, one <testcase> per rule x resource (the finding). FAIL is a <failure>;
ERROR is an <error> with the message (the data broke the rule, and the gate fails on it, so the
test view must not show it as skipped); UNKNOWN is <skipped> with the reason (the check could not
be decided, which is not a pass); WARN passes with the warning in <system-out>. A waived finding is
<skipped> with the waiver (the gate leaves it out too), so the test run shows accepted risk
without failing the pipeline.

Written test case by test case (the counts each <testsuite> carries are tallied first).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

from vdcaudit.model import Finding, Status
from vdcaudit.reports.evidence import evidence_lines
from vdcaudit.scan import ScanResult

# XML 1.0 cannot carry most control characters even escaped; a resource name from an export
# could hold one, so they are replaced rather than producing a file no parser accepts.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Attribute values keep their line breaks and tabs (a parser would fold them to spaces otherwise).
_ATTRIBUTE = {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _attr(text: str) -> str:
    return quoteattr(_clean(text), _ATTRIBUTE)


def _outcome(finding: Finding) -> str:
    """Which suite counter the finding's test case adds to."""
    if finding.waiver is not None and finding.status is not Status.PASS:
        return "skipped"
    if finding.status is Status.FAIL:
        return "failures"
    if finding.status is Status.ERROR:
        return "errors"
    if finding.status is Status.UNKNOWN:
        return "skipped"
    return "passed"


def _case(finding: Finding) -> str:
    head = (f'    <testcase classname={_attr(f"{finding.rule_id}.{finding.resource_type}")} '
            f'name={_attr(f"{finding.resource_name} ({finding.resource_id})")} time="0"')
    details = escape(_clean("\n".join([finding.message, *evidence_lines(finding.evidence),
                                       f"resource: {finding.resource_id}", f"fingerprint: {finding.fingerprint}"])))
    outcome = _outcome(finding)
    if outcome == "skipped" and finding.waiver is not None:
        waiver = finding.waiver
        until = f" until {waiver.expires}" if waiver.expires else ""
        message = f"waived {finding.status.value} by {waiver.owner}{until}: {waiver.justification}"
        return f"{head}>\n      <skipped message={_attr(message)}>{details}</skipped>\n    </testcase>\n"
    if outcome == "failures":
        return (f"{head}>\n      <failure message={_attr(finding.message)} type={_attr(finding.severity.value)}>"
                f"{details}</failure>\n    </testcase>\n")
    if outcome == "errors":
        return (f"{head}>\n      <error message={_attr(finding.message)} type=\"ERROR\">"
                f"{details}</error>\n    </testcase>\n")
    if outcome == "skipped":
        message = f"{finding.status.value}: {finding.message}"
        return f"{head}>\n      <skipped message={_attr(message)}>{details}</skipped>\n    </testcase>\n"
    if finding.status is Status.WARN:
        return f"{head}>\n      <system-out>WARN: {details}</system-out>\n    </testcase>\n"
    return f"{head} />\n"


def write_junit(result: ScanResult, stream: BinaryIO) -> None:
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_rule[finding.rule_id].append(finding)
    suites = []
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for rule in result.rules:
        findings = by_rule.get(rule.id)
        if not findings:
            continue  # no resource of this type in scope: nothing was tested
        counts = {"failures": 0, "errors": 0, "skipped": 0, "passed": 0}
        for finding in findings:
            counts[_outcome(finding)] += 1
        suites.append((rule, findings, counts))
        totals["tests"] += len(findings)
        totals["failures"] += counts["failures"]
        totals["errors"] += counts["errors"]
        totals["skipped"] += counts["skipped"]
    stream.write(b"<?xml version='1.0' encoding='utf-8'?>\n")
    # no `skipped` on <testsuites>: junit-10.xsd (Jenkins, Azure DevOps) does not allow it there; each
    # <testsuite> carries its own
    stream.write((f'<testsuites name="vdcaudit" tests="{totals["tests"]}" failures="{totals["failures"]}" '
                  f'errors="{totals["errors"]}">\n').encode("utf-8"))
    timestamp = result.started.strftime("%Y-%m-%dT%H:%M:%S")
    for rule, findings, counts in suites:
        stream.write((f'  <testsuite name={_attr(f"{rule.id} {rule.title}")} timestamp="{timestamp}" '
                      f'tests="{len(findings)}" failures="{counts["failures"]}" errors="{counts["errors"]}" '
                      f'skipped="{counts["skipped"]}" time="0">\n').encode("utf-8"))
        for start in range(0, len(findings), 1000):
            stream.write("".join(_case(f) for f in findings[start:start + 1000]).encode("utf-8"))
        stream.write(b"  </testsuite>\n")
    stream.write(b"</testsuites>\n")
