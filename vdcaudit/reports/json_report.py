"""vdcaudit-findings.json: the public, versioned machine contract (see schemas/vdcaudit-findings.schema.json).

Schema 3.0 lists what is shared once and has findings point at it, as SARIF does with its rule and
artifact tables: a rule's metadata under `rules` (found by `rule_id`), a resource's id, name, type,
subscription, resource group, source and location under `resources` (found by the finding's
`resource`, an index into that list). A finding holds only what is its own: status, evidence,
fingerprint, its message unless it is the rule's own for that status (`rules[].messages`), and its
waiver when it has one. A 100,000-resource report shrinks by over a third (benchmarks/README.md).

Written as a stream: the small parts (scan, summary, rules, ...) first, indented, then one resource
per line, then one finding per line, so a 100,000-resource report is never held whole in memory and
a reader meets every resource before a finding names it.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from vdcaudit.io.jsonout import dumps_pretty, write_records
from vdcaudit.model import Finding
from vdcaudit.reports.common import rulepack_version
from vdcaudit.scan import ScanResult

SCHEMA_VERSION = "3.1"

ResourceKey = tuple[Any, ...]


def head(result: ScanResult) -> dict[str, Any]:
    """Everything but the resources and findings."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": result.tool,
        "scan": {
            "started": result.started.isoformat(),
            "finished": result.finished.isoformat(),
            "sources": result.sources,
            "rulepack": rulepack_version(result.rules),
            "scopes": result.scopes,
            # vdcaudit.yaml settings that differ from the defaults and the verdicts each changed
            **({"policy": [effect.to_dict() for effect in result.policy]} if result.policy is not None else {}),
        },
        "summary": result.summary,
        "coverage": [record.to_dict() for record in result.coverage],
        "sections": result.sections,
        "rules": [rule.metadata() for rule in result.rules],
        # CI gate (present only when waivers / a baseline were given): see vdcaudit.waivers, vdcaudit.baseline
        **({"waivers": result.waivers} if result.waivers is not None else {}),
        **({"baseline": result.baseline} if result.baseline is not None else {}),
        **({"merge": result.merge} if result.merge is not None else {}),
    }


def resource_key(finding: Finding) -> ResourceKey:
    """What makes two findings share one `resources` entry: every resource field alike. (Findings
    about one scope id may differ in type or location, one per rule: they get an entry each.)"""
    return (finding.resource_id, finding.resource_name, finding.resource_type, finding.subscription,
            finding.resource_group, finding.source, _location_key(finding.location))


def _location_key(location: dict[str, Any] | None) -> Any:
    """{file, line} as a tuple; any other JSON a source carried, as its text. (Not orjson's bytes:
    each keeps a 4 KiB buffer, 700 MB for the keys of 170,000 findings.)"""
    if not location:
        return None
    key = tuple(location.items())
    try:
        hash(key)
    except TypeError:
        return json.dumps(location, sort_keys=True, default=str)
    return key


def resource_record(finding: Finding) -> dict[str, Any]:
    return {"id": finding.resource_id, "name": finding.resource_name, "type": finding.resource_type,
            "subscription": finding.subscription, "resource_group": finding.resource_group,
            "source": finding.source, "location": finding.location}


def finding_record(finding: Finding, resource: int, standard: dict[str, str]) -> dict[str, Any]:
    """`standard`: the rule's messages by status; a message that only says that is left out."""
    status = finding.status.value
    record: dict[str, Any] = {"rule_id": finding.rule_id, "resource": resource, "status": status}
    if finding.message != standard.get(status):
        record["message"] = finding.message
    record["evidence"] = finding.evidence
    if finding.property_line is not None:  # the resource's location has the file
        record["property_line"] = finding.property_line
    waiver = finding.waiver
    if waiver is not None:  # absent means not waived (most findings): null on every line would cost 3 %
        record["waiver"] = {"rule": waiver.rule, "resource": waiver.resource, "justification": waiver.justification,
                            "owner": waiver.owner, "expires": waiver.expires,
                            **({"approver": waiver.approver} if waiver.approver is not None else {}),
                            **({"created": waiver.created} if waiver.created is not None else {})}
    record["fingerprint"] = finding.fingerprint
    return record


def write_json(result: ScanResult, stream: BinaryIO) -> None:
    findings = result.findings
    index: dict[ResourceKey, int] = {}
    firsts: list[Finding] = []  # the first finding of each resource entry, in index order
    refs: list[int] = []
    for finding in findings:
        key = resource_key(finding)
        number = index.get(key)
        if number is None:
            number = index[key] = len(firsts)
            firsts.append(finding)
        refs.append(number)
    top = dumps_pretty(head(result))
    stream.write(top[:-1].rstrip())  # the object without its closing brace
    _write_array(stream, "resources", (resource_record(f) for f in firsts), last=False)
    messages = {rule.id: rule.messages for rule in result.rules}
    _write_array(stream, "findings", (finding_record(f, ref, messages.get(f.rule_id, {}))
                                      for f, ref in zip(findings, refs)), last=True)


def _write_array(stream: BinaryIO, name: str, records: Any, last: bool) -> None:
    """`"name": [...]` with one record per line."""
    stream.write(b',\n  "' + name.encode() + b'": [')
    written = write_records(stream, records, b"    ")
    stream.write((b"\n  ]" if written else b"]") + (b"\n}\n" if last else b""))
