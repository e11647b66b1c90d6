"""Baselines: a previous vdcaudit-findings.json, so a CI gate fails only on new failures.

The baseline's known failures are its FAIL findings, identified by fingerprint (a hash of the
lower-cased rule id and resource id, stable across scans and sources). A FAIL now whose fingerprint
is not among them is new; a known failure that is no longer FAIL now is listed as fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vdcaudit.findings_file import read_findings_file
from vdcaudit.model import Finding, Status, fingerprint


@dataclass(frozen=True)
class Baseline:
    file: str
    failures: dict[str, dict[str, Any]]  # fingerprint -> {rule_id, resource_id, severity}


def load_baseline(path: Path) -> Baseline:
    failures: dict[str, dict[str, Any]] = {}
    for item in read_findings_file(path).findings:  # any schema version
        if item.get("status") != Status.FAIL.value:
            continue
        # recomputed rather than trusted, so an edited or older file still matches correctly
        key = fingerprint(item["rule_id"], item["resource_id"])
        failures[key] = {"rule_id": item["rule_id"], "resource_id": item["resource_id"],
                         "severity": item.get("severity"), "fingerprint": key}
    return Baseline(file=str(path), failures=failures)


def compare(findings: list[Finding], baseline: Baseline) -> dict[str, Any]:
    """The report's `baseline` section: which FAILs are new, and which known failures are fixed."""
    failing_now = {f.fingerprint for f in findings if f.status is Status.FAIL}
    new = [f for f in findings if f.status is Status.FAIL and f.fingerprint not in baseline.failures]
    return {
        "file": baseline.file,
        "known_failures": len(baseline.failures),
        "new": [{"rule_id": f.rule_id, "resource_id": f.resource_id, "severity": f.severity.value,
                 "fingerprint": f.fingerprint} for f in new],
        "fixed": [entry for key, entry in baseline.failures.items() if key not in failing_now],
    }
