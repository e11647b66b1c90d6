"""Findings files written by hand, as someone who wants a merged gate to pass would write them: schema
valid, with the rule pack's digest copied from a real file (anyone can), one finding per account."""

from __future__ import annotations

from typing import Any

from vdcaudit.reports.common import rulepack_version
from vdcaudit.rulepack import load_rules

PACK = rulepack_version(load_rules())  # what a real shard's scan.rulepack says: copied, as anyone can
STORAGE = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/"
RULE = "VDC-ST-002"  # high: storage accounts refuse TLS older than 1.2


def _counts() -> dict[str, int]:
    return {"PASS": 0, "FAIL": 0, "WARN": 0, "UNKNOWN": 0, "ERROR": 0}  # the summary is recounted by merge


def hand_written_shard(*findings: tuple[str, str], **extra: Any) -> dict[str, Any]:
    """A schema-valid findings file with one finding of RULE per (account name, status)."""
    resources = [{"id": STORAGE + name, "name": name, "type": "Microsoft.Storage/storageAccounts",
                  "subscription": "11111111-1111-4111-8111-111111111111", "resource_group": "rg",
                  "source": "snapshot", "location": None} for name, _ in findings]
    matrix = {category: {} for category in ("at-rest", "in-transit", "key-management")}
    return {
        "schema_version": "3.1", "tool": {"name": "vdcaudit", "version": "1.0"},
        "scan": {"started": "2026-12-01T02:00:00+00:00", "finished": "2026-12-01T02:05:00+00:00",
                 "sources": [{"kind": "snapshot", "location": "x.json", "resources": len(findings)}], "rulepack": PACK},
        "summary": {"resources": len(findings), "findings": len(findings), "by_status": _counts(), "waived": 0,
                    "matrix": matrix, "not_assessed": {"resources": 0, "by_type": {}}},
        "coverage": [], "rules": [], "resources": resources,
        "findings": [{"rule_id": RULE, "resource": index, "status": status, "message": f"minimum TLS: {status}",
                      "evidence": {"properties.minimumTlsVersion": "TLS1_0"}, "fingerprint": "0" * 32}
                     for index, (_, status) in enumerate(findings)],
        **extra,
    }
