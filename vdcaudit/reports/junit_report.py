"""JUnit XML for CI test views (Azure DevOps "Publish Test Results", GitLab, Jenkins).

One <testsuite> per rule, one <testcase> per rule x resource (the finding). FAIL is a <failure>;
UNKNOWN and ERROR are <skipped> with the reason (the check could not be decided, which is not a
pass); WARN passes with the warning in <system-out>. A waived FAIL is <skipped> with the waiver,
so the test run shows accepted risk without failing the pipeline.
"""

from __future__ import annotations

import re
from collections import defaultdict
from xml.etree import ElementTree as ET

from vdcaudit.model import Finding, Status
from vdcaudit.reports.evidence import evidence_lines
from vdcaudit.scan import ScanResult

# XML 1.0 cannot carry most control characters even escaped; a resource name from an export
# could hold one, so they are replaced rather than producing a file no parser accepts.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _case(suite: ET.Element, finding: Finding) -> str:
    """Adds the test case; returns which counter it adds to."""
    case = ET.SubElement(suite, "testcase", {
        "classname": _clean(f"{finding.rule_id}.{finding.resource_type}"),
        "name": _clean(f"{finding.resource_name} ({finding.resource_id})"),
        "time": "0",
    })
    details = _clean("\n".join([finding.message, *evidence_lines(finding.evidence),
                                f"resource: {finding.resource_id}", f"fingerprint: {finding.fingerprint}"]))
    if finding.waiver is not None and finding.status is not Status.PASS:
        waiver = finding.waiver
        until = f" until {waiver.expires}" if waiver.expires else ""
        skipped = ET.SubElement(case, "skipped", {"message": _clean(
            f"waived {finding.status.value} by {waiver.owner}{until}: {waiver.justification}")})
        skipped.text = details
        return "skipped"
    if finding.status is Status.FAIL:
        failure = ET.SubElement(case, "failure", {"message": _clean(finding.message),
                                                   "type": f"{finding.severity.value}"})
        failure.text = details
        return "failures"
    if finding.status in (Status.UNKNOWN, Status.ERROR):
        skipped = ET.SubElement(case, "skipped", {"message": _clean(f"{finding.status.value}: {finding.message}")})
        skipped.text = details
        return "skipped"
    if finding.status is Status.WARN:
        ET.SubElement(case, "system-out").text = _clean(f"WARN: {details}")
    return "passed"


def render_junit(result: ScanResult) -> bytes:
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_rule[finding.rule_id].append(finding)
    root = ET.Element("testsuites", {"name": "vdcaudit"})
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for rule in result.rules:
        findings = by_rule.get(rule.id)
        if not findings:
            continue  # no resource of this type in scope: nothing was tested
        suite = ET.SubElement(root, "testsuite", {"name": _clean(f"{rule.id} {rule.title}"),
                                                  "timestamp": result.started.strftime("%Y-%m-%dT%H:%M:%S")})
        counts = {"failures": 0, "skipped": 0, "passed": 0}
        for finding in findings:
            counts[_case(suite, finding)] += 1
        suite.set("tests", str(len(findings)))
        suite.set("failures", str(counts["failures"]))
        suite.set("errors", "0")
        suite.set("skipped", str(counts["skipped"]))
        suite.set("time", "0")
        totals["tests"] += len(findings)
        totals["failures"] += counts["failures"]
        totals["skipped"] += counts["skipped"]
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
