"""SARIF 2.1.0 for code-scanning tools (GitHub code scanning, Azure DevOps SARIF viewers).

- One reportingDescriptor per rule: title, rationale, help text with the remediation, default level
  and `properties.security-severity` (GitHub's numeric scale: >= 9.0 critical, 7.0-8.9 high,
  4.0-6.9 medium, 0.1-3.9 low).
- One result per finding that is not PASS (a PASS is not an alert). FAIL is kind "fail";
  UNKNOWN and ERROR are kind "open" (the tool could not decide); WARN is kind "review". SARIF
  requires level "none" for any kind other than "fail".
- partialFingerprints carry the finding's stable fingerprint; logical locations are the ARM ids;
  a physical location is given when the finding has a file (template, plan and snapshot scans).
- A waived finding carries an accepted external suppression with the waiver's justification.
- `runs[].automationDetails.id` only from --sarif-category: without it GitHub's upload-sarif
  `category` input applies, so two scans of one repository (templates, plans) keep apart.
- At most 25,000 results (GitHub's limit per run): beyond it the most severe are kept and the run's
  `properties.omittedResults` says how many were left out (one run: GitHub rejects several runs
  of one tool and category).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from vdcaudit.io.jsonout import dumps_pretty, write_records
from vdcaudit.model import Finding, Severity, Status
from vdcaudit.reports.common import rulepack_version
from vdcaudit.rulepack import Rule
from vdcaudit.scan import ScanResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
                     Severity.LOW: "3.0", Severity.INFO: "0.0"}
FAIL_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
              Severity.LOW: "note", Severity.INFO: "note"}
KIND = {Status.FAIL: "fail", Status.UNKNOWN: "open", Status.ERROR: "open", Status.WARN: "review"}
KIND_ORDER = ("fail", "open", "review")
# GitHub code scanning rejects a run with more results ("Results per run: 25,000"):
# https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit
MAX_RESULTS = 25_000
# Artifact URIs are made relative to this base when the file is under the working directory, so
# GitHub can match them to the repository checkout.
SRCROOT = "SRCROOT"


def _help(rule: Rule) -> dict[str, str]:
    fixes = [(key, rule.remediation[key]) for key in ("portal", "az", "powershell", "bicep") if rule.remediation.get(key)]
    text = [rule.rationale, "", "Remediation: " + rule.remediation.get("summary", "")]
    text += [f"{key}: {value}" for key, value in fixes]
    markdown = [rule.rationale, "", "**Remediation:** " + rule.remediation.get("summary", "")]
    for key, value in fixes:
        fence = "bicep" if key == "bicep" else "powershell" if key == "powershell" else "bash" if key == "az" else ""
        markdown += ["", f"{key}:", "", f"```{fence}", value, "```"] if key != "portal" else ["", f"Portal: {value}"]
    refs = ", ".join(f"{fw} {', '.join(map(str, ctl))}" for fw, ctl in rule.frameworks().items())
    if refs:
        text += ["", "References: " + refs]
        markdown += ["", "**References:** " + refs]
    for policy in rule.azure_policies:
        differs = f" (differs: {policy['differs']})" if policy.get("differs") else ""
        text += [f"Azure Policy: {policy['title']} ({policy['id']}){differs}"]
        markdown += ["", f"**Azure Policy:** {policy['title']} (`{policy['id']}`){differs}"]
    return {"text": "\n".join(text), "markdown": "\n".join(markdown)}


def _descriptor(rule: Rule) -> dict[str, Any]:
    tags = ["security", "encryption", rule.category.value]
    tags += [f"{fw}:{control}" for fw, controls in rule.frameworks().items() for control in controls]
    return {
        "id": rule.id,
        "name": "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", rule.title) if w) or rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "help": _help(rule),
        "defaultConfiguration": {"level": FAIL_LEVEL[rule.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "problem.severity": "error" if rule.severity in (Severity.CRITICAL, Severity.HIGH) else "warning",
            "precision": "high",
            "tags": tags,
            "category": rule.category.value,
            "resource_type": rule.resource_type,
            "version": rule.version,
            **({"azure-policy": [policy["id"] for policy in rule.azure_policies]} if rule.azure_policies else {}),
        },
    }


@lru_cache(maxsize=4096)  # one per file (and working directory), not per finding
def _artifact(file: str, cwd: str) -> dict[str, str]:
    path = Path(file)
    if not path.is_absolute():
        return {"uri": PurePosixPath(*path.parts).as_posix(), "uriBaseId": SRCROOT}
    try:
        relative = path.relative_to(cwd)
    except ValueError:
        return {"uri": path.as_uri()}
    return {"uri": PurePosixPath(*relative.parts).as_posix(), "uriBaseId": SRCROOT}


def _location(finding: Finding) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [{"fullyQualifiedName": finding.resource_id, "name": finding.resource_name,
                              "kind": "resource"}],
        "message": {"text": f"{finding.resource_type} {finding.resource_name}"},
    }
    file = (finding.location or {}).get("file")
    if file:
        physical: dict[str, Any] = {"artifactLocation": _artifact(str(file), os.getcwd())}
        line = (finding.location or {}).get("line")
        read = finding.property_line
        if isinstance(read, int) and read >= 1:  # the property the verdict read, within its resource
            physical["region"] = {"startLine": read}
            if isinstance(line, int) and 1 <= line <= read:
                physical["contextRegion"] = {"startLine": line}
        elif isinstance(line, int) and line >= 1:
            physical["region"] = {"startLine": line}
        location["physicalLocation"] = physical
    return location


def _result(finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    kind = KIND[finding.status]
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index[finding.rule_id],
        "kind": kind,
        "level": FAIL_LEVEL[finding.severity] if kind == "fail" else "none",
        "message": {"text": f"{finding.resource_name}: {finding.message}"},
        "locations": [_location(finding)],
        "partialFingerprints": {"vdcauditFingerprint/v1": finding.fingerprint},
        "properties": {
            "status": finding.status.value, "severity": finding.severity.value,
            "security-severity": SECURITY_SEVERITY[finding.severity],
            "category": finding.category.value, "resource_type": finding.resource_type,
            "subscription": finding.subscription, "resource_group": finding.resource_group,
            "source": finding.source, "evidence": finding.evidence,
        },
    }
    if finding.waiver is not None:
        waiver = finding.waiver
        result["suppressions"] = [{
            "kind": "external", "status": "accepted",
            "justification": f"{waiver.justification} (owner {waiver.owner}"
                             f"{', until ' + waiver.expires if waiver.expires else ''})",
        }]
    return result


def _alerts(result: ScanResult) -> list[Finding]:
    return [f for f in result.findings if f.status is not Status.PASS]


def _rank(finding: Finding) -> tuple[int, int, int]:
    """Which results to keep first when there are too many: open before waived, then by kind,
    then by severity."""
    return (finding.waiver is not None, KIND_ORDER.index(KIND[finding.status]), finding.severity.rank)


def kept_results(result: ScanResult) -> tuple[list[Finding], int]:
    """(the findings written as results, in report order; how many were left out for GitHub's limit)."""
    alerts = _alerts(result)
    if len(alerts) <= MAX_RESULTS:
        return alerts, 0
    keep = {id(f) for f in sorted(alerts, key=_rank)[:MAX_RESULTS]}
    return [f for f in alerts if id(f) in keep], len(alerts) - MAX_RESULTS


def omitted_results(result: ScanResult) -> int:
    return max(0, len(_alerts(result)) - MAX_RESULTS)


def sarif_document(result: ScanResult, omitted: int = 0) -> dict[str, Any]:
    """The log without its results (written after it, one by one, by write_sarif)."""
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": result.tool["name"],
                "version": result.tool["version"],
                "semanticVersion": result.tool["version"],
                "properties": {"rulepack": rulepack_version(result.rules)},
                "rules": [_descriptor(rule) for rule in result.rules],
            }},
            "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().as_uri() + "/"}},
            "invocations": [{
                "executionSuccessful": True,
                "startTimeUtc": result.started.isoformat().replace("+00:00", "Z"),
                "endTimeUtc": result.finished.isoformat().replace("+00:00", "Z"),
            }],
            **({"automationDetails": {"id": result.sarif_category.rstrip("/") + "/"}} if result.sarif_category else {}),
            **({"properties": {"omittedResults": {
                "count": omitted, "limit": MAX_RESULTS,
                "reason": f"GitHub code scanning accepts at most {MAX_RESULTS} results per run: the most severe "
                          "are kept (FAIL before UNKNOWN/ERROR before WARN, then by severity); every finding is "
                          "in the JSON report"}}} if omitted else {}),
            "results": [],
        }],
    }


def write_sarif(result: ScanResult, stream: BinaryIO) -> None:
    kept, omitted = kept_results(result)
    head = dumps_pretty(sarif_document(result, omitted))
    cut = head.rindex(b'"results": []')  # stream the results into the one empty array
    stream.write(head[:cut] + b'"results": [')
    rule_index = {rule.id: i for i, rule in enumerate(result.rules)}
    alerts = (_result(f, rule_index) for f in kept)
    written = write_records(stream, alerts, b"        ")
    stream.write(b"\n      " if written else b"")
    stream.write(head[cut + len(b'"results": ['):])
