"""Scan results for the report tests: synthetic results with waivers, hostile strings and any
number of findings, built the way the engine builds them (summary from vdcaudit.summary)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from vdcaudit.model import CoverageRecord, Finding, Status, Waiver
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import ScanResult
from vdcaudit.summary import summarize

# Strings that break out of HTML text, attributes, <script> blocks, JSON strings, Markdown tables,
# XML and spreadsheets if any format forgets to escape them.
HOSTILE = [
    "<script>window.__xss='name'</script>",
    "\"><img src=x onerror=\"window.__xss='attr'\">",
    "</script><script>window.__xss='script-end'</script>",
    "' onmouseover='window.__xss=1' x='",
    "=HYPERLINK(\"http://evil.invalid\",\"x\")",
    "line\u2028sep\u2029para <!-- -->",
    "| pipe ` tick **bold** [link](javascript:alert(1))",
    "ctrl\x01char",
]


def synthetic_result(count: int, hostile: bool = False, seed: int = 7, subscriptions: int = 40) -> ScanResult:
    """`count` findings spread over the built-in rules, `subscriptions` subscriptions and 400 resource groups,
    every status, some waived, a coverage gap; with hostile=True every free-text field carries
    one of HOSTILE."""
    rng = random.Random(seed)
    rules = load_rules()
    statuses = [Status.PASS] * 5 + [Status.FAIL] * 3 + [Status.UNKNOWN, Status.WARN, Status.ERROR]
    findings = []
    for i in range(count):
        rule = rules[i % len(rules)]
        sub = f"{i % subscriptions:08d}-0000-4000-8000-000000000000"
        rg = f"rg-{i % 400}"
        name = f"res{i}"
        if hostile:
            name = f"{HOSTILE[i % len(HOSTILE)]}-{i}"
            rg = HOSTILE[(i + 1) % len(HOSTILE)]
        status = statuses[rng.randrange(len(statuses))]
        waiver = None
        if status is Status.FAIL and i % 17 == 0:
            waiver = Waiver(rule=rule.id, resource=name, owner=HOSTILE[0] if hostile else "sec-team",
                            justification=HOSTILE[2] if hostile else "legacy app, migration planned",
                            expires="2027-06-30")
        findings.append(Finding(
            rule_id=rule.id, title=rule.title,
            resource_id=f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{rule.resource_type}/{name}",
            resource_name=name, resource_type=rule.resource_type, status=status, severity=rule.severity,
            category=rule.category, message=(HOSTILE[i % len(HOSTILE)] if hostile else f"{status.value} on {name}"),
            evidence={"properties.minimumTlsVersion": "TLS1_0", "tags.owner": HOSTILE[1] if hostile else "ops",
                      "properties.absent": None},
            source="snapshot", subscription=sub, resource_group=rg,
            location={"file": "templates/main.json", "line": i % 500 + 1} if i % 3 == 0 else None,
            waiver=waiver,
        ))
    findings.sort(key=lambda f: (f.rule_id, f.resource_id.lower()))
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    return ScanResult(
        started=started, finished=started + timedelta(seconds=42),
        sources=[{"kind": "snapshot", "location": HOSTILE[0] if hostile else "snap/graph.json", "resources": count},
                 {"kind": "azure", "location": "management.azure.com", "tenant": "tenant-" + (HOSTILE[1] if hostile else "a")}],
        rules=rules, findings=findings,
        coverage=[CoverageRecord(source="azure", scope=HOSTILE[3] if hostile else "sub-x", reason="403 Forbidden",
                                 resource_type="Microsoft.KeyVault/vaults")],
        summary=summarize(findings, {"Microsoft.Web/staticSites": 2}, count),
    )
