"""docs/rules/<RULE_ID>.md: one page per rule for the documentation site, generated from the rule
file and its cases (tests/rule_cases), so a page can never show an example that does not give its
verdict.

    python scripts/rule_pages.py            # rewrite docs/rules/
    python scripts/rule_pages.py --check    # exit 1 when a page is out of date

Each page holds the rule's rationale, what passes and what fails, the documented Azure defaults it
relies on and the Microsoft pages the rule file cites, the Azure Policy definitions it answers, its
framework references and remediation, and, where a case of the rule can be declared by a template
(its resource, and the other resources it reads: a key vault, a child such as a database's
transparentDataEncryption), a minimal ARM template and the same in Bicep that PASS and that FAIL.
Each ARM example is judged here, through the template source and the engine, before it is written:
a case whose template would not give the case's verdict is not shown, and a page without examples
says why (tests/test_rule_pages.py judges every committed example again). An on-premises SDN rule
shows the Network Controller's REST bodies as a snapshot folder instead, judged the same way.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vdcaudit.azure_policy import definitions  # noqa: E402
from vdcaudit.collectors.arm_template import load_template  # noqa: E402
from vdcaudit.collectors.azure import generic  # noqa: E402
from vdcaudit.collectors.sdn.fabric import COLLECTIONS, load_fabric_snapshot  # noqa: E402
from vdcaudit.collectors.sdn.hostcerts import HOST_CERT_TYPE, SCRIPT_MARKER  # noqa: E402
from vdcaudit.config import load_config  # noqa: E402
from vdcaudit.context import ScanContext  # noqa: E402
from vdcaudit.engine import run  # noqa: E402
from vdcaudit.inventory import Inventory  # noqa: E402
from vdcaudit.rule_docs import cell, default_lines, flat, remediation_lines, requirement_text  # noqa: E402
from vdcaudit.rulepack import Rule, load_rules, selectors  # noqa: E402
from vdcaudit.services import display_name  # noqa: E402
from vdcaudit.timestamps import parse_datetime  # noqa: E402

CASES = REPO / "tests" / "rule_cases"
PAGES = REPO / "docs" / "rules"
TEMPLATE_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
# API versions for the examples, for types collectors/azure/generic.API_VERSIONS does not name:
# stable versions of each provider's REST reference (learn.microsoft.com/rest/api/<service>).
EXAMPLE_API_VERSIONS = {
    "microsoft.cache/redis": "2024-11-01",
    "microsoft.compute/diskencryptionsets": "2024-03-02",
    "microsoft.compute/disks": "2024-03-02",
    "microsoft.compute/snapshots": "2024-03-02",
    "microsoft.compute/images": "2024-07-01",
    "microsoft.compute/virtualmachines": "2024-07-01",
    "microsoft.compute/virtualmachinescalesets": "2024-07-01",
    "microsoft.keyvault/vaults": "2023-07-01",
    "microsoft.network/applicationgateways": "2024-05-01",
    "microsoft.network/connections": "2024-05-01",
    "microsoft.network/expressroutecircuits": "2024-05-01",
    "microsoft.network/expressrouteports": "2024-05-01",
    "microsoft.network/virtualnetworkgateways": "2024-05-01",
    "microsoft.network/virtualnetworks": "2024-05-01",
    "microsoft.operationalinsights/clusters": "2022-10-01",
    "microsoft.operationalinsights/workspaces": "2023-09-01",
    "microsoft.servicebus/namespaces": "2024-01-01",
    "microsoft.sql/managedinstances": "2021-11-01",
    "microsoft.sql/servers": "2021-11-01",
    "microsoft.sql/servers/databases": "2021-11-01",
    "microsoft.storage/storageaccounts": "2023-05-01",
    "microsoft.storage/storageaccounts/fileservices": "2023-05-01",
    "microsoft.web/sites": "2024-04-01",
}
# Keys a template declares on a resource beside `properties`
_TEMPLATE_KEYS = {"tags", "sku", "kind", "identity", "zones", "plan", "extendedLocation", "managedBy"}
# Keys of a case resource that are ARM's output, not something a template declares.
_OUTPUT_KEYS = {"id", "type", "name", "location", "subscriptionId", "resourceGroup", "systemData", "etag"}
_URL = re.compile(r"https://learn\.microsoft\.com/[^\s)\"'>,]+")


def api_version(resource_type: str) -> str | None:
    key = resource_type.lower()
    return EXAMPLE_API_VERSIONS.get(key) or generic.API_VERSIONS.get(key)


def _name(case_resource: dict[str, Any], resource_type: str, index: int) -> str:
    """The template name of a case's resource: its id's names after the provider type (a child's
    name is "parent/child"), else its name, else one made up."""
    resource_id = str(case_resource.get("id") or "")
    segments = resource_type.split("/")[1:]
    parts = resource_id.split("/providers/", 1)[-1].split("/")[1:] if "/providers/" in resource_id else []
    names = parts[1::2][: len(segments)]
    if len(names) == len(segments) and all(names):
        return "/".join(names)
    leaf = str(case_resource.get("name") or f"example{index}")
    return "/".join(["parent"] * (len(segments) - 1) + [leaf.split("/")[-1]])


def _declared(rule: Rule, resource: dict[str, Any], index: int) -> dict[str, Any] | None:
    """A case's resource as a template declares it, or None when no API version is known for its
    type. What az CLI prints flattened (a server parameter's `value` beside its name) a template
    declares under `properties`."""
    resource_type = str(resource.get("type") or rule.resource_type)
    version = api_version(resource_type)
    if version is None:
        return None
    declared: dict[str, Any] = {"type": resource_type, "apiVersion": version,
                                "name": _name(resource, resource_type, index), "location": "westeurope"}
    properties = dict(resource.get("properties") or {})
    for key, value in resource.items():
        if key in _TEMPLATE_KEYS:
            declared[key] = value
        elif key not in _OUTPUT_KEYS and key != "properties":
            properties.setdefault(key, value)
    declared["properties"] = properties
    return declared


def _references(value: Any, expressions: dict[str, str]) -> Any:
    """`value` with every case resource id replaced by the resourceId() expression a template
    writes for a resource it declares itself."""
    if isinstance(value, dict):
        return {k: _references(v, expressions) for k, v in value.items()}
    if isinstance(value, list):
        return [_references(v, expressions) for v in value]
    if isinstance(value, str):
        return expressions.get(value.lower(), expressions.get(value, value))
    return value


def template_of(rule: Rule, case: dict[str, Any], index: int) -> dict[str, Any] | None:
    """A minimal template declaring the case's resource first, then the other resources it reads
    (a key vault, a child such as a database's transparentDataEncryption); None when the case
    cannot be a template (it needs settings, collected-only data or a clock)."""
    if "finding_id" in case or set(case.get("options") or {}) - {"as_of"}:
        return None
    resources = [case["resource"], *case.get("related", [])]
    if any("x_vdcaudit" in resource for resource in resources):
        return None
    declared = [_declared(rule, resource, index + n) for n, resource in enumerate(resources)]
    if any(d is None for d in declared):
        return None
    expressions = {str(resource["id"]).lower(): "[resourceId({})]".format(", ".join(
        f"'{part}'" for part in (d["type"], *d["name"].split("/"))))
        for resource, d in zip(resources, declared) if d is not None and resource.get("id")}
    return {"$schema": TEMPLATE_SCHEMA, "contentVersion": "1.0.0.0",
            "resources": [_references(d, expressions) for d in declared]}


def as_of(case: dict[str, Any]) -> date | None:
    """The day a case is judged on (its clock or its --as-of), for rules whose verdict depends on
    the date the evidence describes (platform floors); None: today."""
    if (case.get("options") or {}).get("as_of"):
        return date.fromisoformat(str(case["options"]["as_of"]))
    return parse_datetime(case["now"], naive="keep").date() if case.get("now") else None


def judge(rule: Rule, template: dict[str, Any], day: date | None = None, settings: str | None = None) -> str | None:
    """The verdict the rule gives the template's resource, through the template source, as
    `vdcaudit scan --template FILE [--as-of DAY] [--config vdcaudit.yaml]` would give it
    (`settings`: the text of that vdcaudit.yaml)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "example.json"
        path.write_text(json.dumps(template), encoding="utf-8")
        config = None
        if settings is not None:
            config = Path(folder) / "vdcaudit.yaml"
            config.write_text(settings, encoding="utf-8")
        inventory = Inventory()
        load_template(path, inventory)
        findings = run([rule], inventory, ScanContext(config=load_config(config), options={"as_of": day})).findings
    declared = template["resources"][0]
    name = declared["name"].split("/")[-1].lower()
    mine = [f for f in findings if f.rule_id == rule.id and f.resource_name.split("/")[-1].lower() == name]
    return mine[0].status.value if len(mine) == 1 else None


def examples(rule: Rule) -> dict[str, dict[str, Any]]:
    """The first case of each verdict (PASS, FAIL; WARN for informational rules) whose template
    gives that verdict."""
    if "template" not in rule.sources:
        return {}
    wanted = ("PASS", "FAIL", "WARN")
    chosen: dict[str, dict[str, Any]] = {}
    for index, case in enumerate(_cases(rule)):
        verdict = case["expect"]
        if verdict not in wanted or verdict in chosen:
            continue
        template = template_of(rule, case, index)
        settings = yaml.safe_dump(case["config"], sort_keys=False) if case.get("config") else None
        if template is not None and judge(rule, template, as_of(case), settings) == verdict:
            chosen[verdict] = {"case": case["name"], "template": template, "as_of": as_of(case), "config": settings}
    return chosen


class _Expression(str):
    """Bicep written as it is, not quoted (a reference such as `vault.id`)."""


# -- SDN: the Network Controller's REST bodies instead of a template ---------------------------
# Network Controller resources are not ARM resources: an SDN rule's example is what the controller
# answers `GET https://<controller>/networking/v1/<collection>` (a list response, {"value": [...]};
# learn.microsoft.com/windows-server/networking/sdn/technologies/network-controller/network-controller
# links the REST API reference), saved as `vdcaudit sdn --save-snapshot DIR` lays it out, plus each
# Hyper-V host's certificate inventory as scripts/Get-VdcHostCertificates.ps1 writes it.
_COLLECTION_OF = {rtype.lower(): name for name, rtype in COLLECTIONS.items()}
_VDCAUDIT_KEYS = {"id", "type", "name"}  # what vdcaudit adds to a controller resource
_HOST_FIELDS = (("thumbprint", "Thumbprint"), ("subject", "Subject"), ("issuer", "Issuer"),
                ("notBefore", "NotBefore"), ("notAfter", "NotAfter"), ("hasPrivateKey", "HasPrivateKey"))


def _host_certificate(record: dict[str, Any]) -> dict[str, Any]:
    """One normalised certificate record as PowerShell prints the certificate."""
    entry = {ps: record[key] for key, ps in _HOST_FIELDS if record.get(key) is not None}
    if record.get("enhancedKeyUsage") is not None:
        entry["EnhancedKeyUsageList"] = [{"ObjectId": oid} for oid in record["enhancedKeyUsage"]]
    if record.get("dnsNames"):
        entry["DnsNameList"] = [{"Unicode": name} for name in record["dnsNames"]]
    return entry


def snapshot_of(case: dict[str, Any]) -> dict[str, Any] | None:
    """The case's resources as the files of an SDN snapshot folder (file name -> JSON document),
    or None when a resource is not a controller resource or host inventory. A host certificate is
    written as PowerShell prints it (no RawData): a rule that needs its key size or signature
    gives UNKNOWN from it, and the example is not shown."""
    files: dict[str, Any] = {f"{name}.json": [] for name in COLLECTIONS}
    for resource in [case["resource"], *case.get("related", [])]:
        resource_type = str(resource.get("type") or "").lower()
        if resource_type == HOST_CERT_TYPE.lower():
            props = resource.get("properties") or {}
            stores = props.get("stores") or {}
            files[f"hosts/{props.get('host') or resource['name']}.json"] = {
                SCRIPT_MARKER: 1, "computerName": str(props.get("host") or resource["name"]).split(".")[0].upper(),
                "stores": {store: None if certs is None else [_host_certificate(c) for c in certs]
                           for store, certs in stores.items()}}
        elif resource_type in _COLLECTION_OF:
            files[f"{_COLLECTION_OF[resource_type]}.json"].append(
                {k: v for k, v in resource.items() if k not in _VDCAUDIT_KEYS})
        else:
            return None
    return {name: ({"value": body} if isinstance(body, list) else body) for name, body in files.items()}


def judge_sdn(rule: Rule, files: dict[str, Any], about: str, now: Any = None,
              options: dict[str, Any] | None = None) -> str | None:
    """The verdict the rule gives `about` (a resource or subnet id, sdn://<controller>/...) when
    the snapshot folder holds `files` (a collection not among them: an empty list), as
    `vdcaudit sdn --snapshot DIR` would give it at `now` with `options`."""
    with tempfile.TemporaryDirectory() as folder:
        for name, document in {**{f"{n}.json": {"value": []} for n in COLLECTIONS}, **files}.items():
            path = Path(folder) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document), encoding="utf-8")
        inventory = Inventory()
        load_fabric_snapshot(Path(folder), inventory, about.removeprefix("sdn://").split("/")[0])
        context = ScanContext(options=dict(options or {}))
        if now:
            context.now = parse_datetime(now, naive="utc")
        findings = [f for f in run([rule], inventory, context).findings if f.resource_id.lower() == about.lower()]
    return findings[0].status.value if len(findings) == 1 else None


def sdn_examples(rule: Rule) -> dict[str, dict[str, Any]]:
    """The first case of each verdict whose snapshot files give that verdict."""
    if "sdn" not in rule.sources or "template" in rule.sources:
        return {}
    chosen: dict[str, dict[str, Any]] = {}
    for case in _cases(rule):
        verdict = case["expect"]
        if verdict not in ("PASS", "FAIL", "WARN") or verdict in chosen or case.get("config"):
            continue
        files = snapshot_of(case)
        about = str(case.get("finding_id") or case["resource"].get("id") or "")
        if files is not None and judge_sdn(rule, files, about, case.get("now"), case.get("options")) == verdict:
            chosen[verdict] = {"case": case["name"], "files": files, "about": about,
                               "now": case.get("now"), "options": case.get("options") or {}}
    return chosen


def _why_no_sdn_example(rule: Rule) -> str:
    cases = [c for c in _cases(rule) if c["expect"] in ("PASS", "FAIL", "WARN")]
    if any(str(r.get("type", "")).lower() == HOST_CERT_TYPE.lower()
           for c in cases for r in [c["resource"], *c.get("related", [])]):
        return ("its verdict needs the certificate itself (its RawData: key size and signature hash), "
                "not only what PowerShell prints about it, and a page holds no certificate")
    return "no case's snapshot files give the case's verdict"


def _sdn_example_lines(verdict: str, example: dict[str, Any]) -> list[str]:
    clock = f" (judged at {example['now']})" if example["now"] else ""
    options = "".join(f" `--{k.replace('_', '-')} {v}`" for k, v in example["options"].items())
    lines = [f"### {verdict}: {flat(example['case'])}{clock}", "",
             f"Judged: `{example['about']}`" + (f"; options:{options}" if options else ""), ""]
    for name, document in example["files"].items():
        if name.startswith("hosts/"):
            what = "the host's certificate inventory, as scripts/Get-VdcHostCertificates.ps1 writes it"
        elif not document["value"]:
            continue  # none of the collection: an empty list, as the page says
        else:
            what = f"the controller's answer to `GET /networking/v1/{name.removesuffix('.json')}`"
        lines += [f"`{name}`: {what}", "", "```json", json.dumps(document, indent=2), "```", ""]
    return lines


def _cases(rule: Rule) -> list[dict[str, Any]]:
    path = CASES / f"{rule.id}.yaml"
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]) if path.is_file() else []


def why_no_example(rule: Rule) -> str:
    """Why no case of the rule could be shown as a template that gives its verdict."""
    if "template" not in rule.sources:
        return _why_no_sdn_example(rule)
    reasons: dict[str, None] = {}
    for index, case in enumerate(_cases(rule)):
        if case["expect"] not in ("PASS", "FAIL"):
            continue
        resources = [case["resource"], *case.get("related", [])]
        recorded = sorted({key for r in resources for key in (r.get("x_vdcaudit") or {})})
        if case.get("config"):
            reasons[f"its verdict depends on vdcaudit.yaml settings ({', '.join(f'`{k}`' for k in case['config'])}), "
                    "which a template does not hold"] = None
        elif recorded:
            reasons[f"it judges what vdcaudit records while reading ({', '.join(f'`x_vdcaudit.{k}`' for k in recorded)}), "
                    "not a property a template declares"] = None
        elif template_of(rule, case, index) is None:
            reasons["its cases need data a template cannot declare"] = None
        else:
            reasons["no case's template gives the case's verdict"] = None
    return "; ".join(reasons) or "the rule has no passing or failing case"


def _bicep_value(value: Any, indent: int) -> str:
    pad = "  " * indent
    if isinstance(value, _Expression):
        return str(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = [f"{pad}  {_bicep_key(k)}: {_bicep_value(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + "\n".join(lines) + f"\n{pad}}}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + "\n".join(f"{pad}  {_bicep_value(v, indent + 1)}" for v in value) + f"\n{pad}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _bicep_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else _bicep_value(key, 0)


def _symbol(resource_type: str, taken: set[str]) -> str:
    """A Bicep symbolic name from the type's last segment (vaults -> vault), unique in the file."""
    last = resource_type.split("/")[-1]
    base = last[0].lower() + last[1:]
    base = base[:-1] if base.endswith("s") and not base.endswith("ss") else base
    symbol, n = base, 1
    while symbol in taken:
        n += 1
        symbol = f"{base}{n}"
    taken.add(symbol)
    return symbol


def bicep_of(template: dict[str, Any]) -> str:
    """The template's resources in Bicep, the first as `example`; a resourceId() of another
    declared resource becomes that resource's `.id`, as Bicep writes a reference."""
    taken = {"example"}
    symbols = ["example"] + [_symbol(r["type"], taken) for r in template["resources"][1:]]
    references = {"[resourceId({})]".format(", ".join(f"'{part}'" for part in (r["type"], *r["name"].split("/")))):
                  _Expression(f"{symbol}.id") for r, symbol in zip(template["resources"], symbols)}
    blocks = []
    for resource, symbol in zip(template["resources"], symbols):
        declared = _references(dict(resource), references)
        header = f"resource {symbol} '{declared.pop('type')}@{declared.pop('apiVersion')}' = "
        blocks.append(header + _bicep_value(declared, 0))
    return "\n\n".join(blocks)


def _sources(rule: Rule) -> list[str]:
    """The Microsoft Learn pages the rule file cites (its comments), in order, once each."""
    seen: dict[str, None] = {}
    for url in _URL.findall(Path(rule.file).read_text(encoding="utf-8")):
        seen.setdefault(url.rstrip(".:;"), None)
    return list(seen)


def render(rule: Rule, chosen: dict[str, dict[str, Any]], answered: list[Any],
           sdn_chosen: dict[str, dict[str, Any]] | None = None) -> str:
    lines = [f"# {rule.id}: {flat(rule.title)}", "",
             "<!-- Generated by `python scripts/rule_pages.py` from the rule file and its cases; do not edit. -->", "",
             "| | |", "|---|---|",
             f"| Severity | {rule.severity.value} |", f"| Category | {rule.category.value} |",
             f"| Service | {display_name(rule.service)} (`{rule.service}`) |",
             f"| Resource type | `{rule.resource_type}`{''.join(f', `{t}`' for t in rule.also_applies_to)} |",
             f"| Sources | {', '.join(rule.sources)} |", f"| Version | {rule.version} |", "",
             "## Why", "", flat(rule.rationale), "", "## What passes and what fails", ""]
    if rule.required_by:
        lines += [f"{requirement_text(rule)}.", ""]
    for name in rule.selectors:
        lines += [f"- Applies to: {flat(selectors()[name]['description'])} (selector `{name}`)"]
    if rule.where_text:
        lines += [f"- Applies where: `{flat(rule.where_text)}`"]
    if rule.assert_text:
        lines += [f"- Passes when: `{flat(rule.assert_text)}`"]
    if rule.check:
        lines += [f"- Judged by the Python check `{rule.check}`" +
                  (f", which also reads {', '.join(f'`{t}`' for t in rule.reads)}" if rule.reads else "")]
    lines += [f"- Otherwise: {rule.fail_status.value} — {flat(rule.fail_message or rule.title)}",
              "- Data the rule needs that is absent or unreadable: UNKNOWN, naming what is missing", ""]
    defaults = default_lines(rule)
    sources = _sources(rule)
    if defaults or sources:
        lines += ["## Documented defaults and sources", ""]
        lines += defaults + ([""] if defaults else [])
        lines += [f"- <{url}>" for url in sources] + ([""] if sources else [])
    lines += ["## Azure Policy", ""]
    if answered:
        for definition in answered:
            differs = definition.differs.get(rule.id)
            lines.append(f"- {definition.title} (`{definition.id}`)" + (f" — differs: {flat(differs)}" if differs else ""))
    else:
        lines.append("No built-in Azure Policy definition judges this control (see [the table](../azure-policy.md)).")
    lines += ["", "## References", "", f"- Baseline: {flat(rule.references.get('baseline', '–'))}"]
    lines += [f"- {name}: {', '.join(map(str, controls))}" for name, controls in rule.frameworks().items()]
    lines += [f"- <{link}>" for link in rule.references.get("docs", [])]
    lines += ["", "## Remediation", "", flat(rule.remediation["summary"]), ""]
    lines += remediation_lines(rule)
    lines += ["", "## Examples", ""]
    if sdn_chosen:
        lines += ["A Network Controller snapshot folder (`vdcaudit sdn --snapshot DIR`); each file is the "
                  "controller's REST body (Network Controller resources are not ARM resources, so there is "
                  "no template). Collections not shown are written as `{\"value\": []}`.", ""]
        for verdict, example in sdn_chosen.items():
            lines += _sdn_example_lines(verdict, example)
    elif not chosen:
        lines += [f"No template example: {why_no_example(rule)}; see its cases in `tests/rule_cases/{rule.id}.yaml`.", ""]
    for verdict, example in chosen.items():
        day = f" (judged as of {example['as_of']}: `--as-of {example['as_of']}`)" if example["as_of"] else ""
        lines += [f"### {verdict}: {flat(example['case'])}{day}", ""]
        if example["config"]:
            lines += ["vdcaudit.yaml (`--config`):", "", "```yaml", example["config"].rstrip(), "```", ""]
        lines += ["ARM template:", "", "```json",
                  json.dumps(example["template"], indent=2), "```", "", "Bicep:", "", "```bicep",
                  bicep_of(example["template"]), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def pages() -> dict[str, str]:
    rules = load_rules()
    by_rule: dict[str, list[Any]] = {}
    for definition in definitions(rules):
        for rule in definition.rules:
            by_rule.setdefault(rule.id, []).append(definition)
    out = {f"{rule.id}.md": render(rule, examples(rule), by_rule.get(rule.id, []), sdn_examples(rule)) for rule in rules}
    out["index.md"] = index(rules)
    return out


def index(rules: list[Rule]) -> str:
    lines = ["# Rules", "", "<!-- Generated by `python scripts/rule_pages.py`; do not edit. -->", "",
             f"{len(rules)} rules, one page each. The one-page reference is [rules.md](../rules.md).", "",
             "| rule | severity | category | resource type | title |", "|---|---|---|---|---|"]
    lines += [f"| [{r.id}]({r.id}.md) | {r.severity.value} | {r.category.value} | `{r.resource_type}` | "
              f"{cell(r.title)} |" for r in rules]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description="Write docs/rules/<RULE_ID>.md for every rule.")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a page differs")
    args = parser.parse_args()
    wanted = pages()
    present = {p.name for p in PAGES.glob("*.md")} if PAGES.is_dir() else set()
    stale = sorted(name for name, text in wanted.items()
                   if not (PAGES / name).is_file() or (PAGES / name).read_text(encoding="utf-8") != text)
    extra = sorted(present - set(wanted))
    if args.check:
        for name in stale + extra:
            print(f"out of date: docs/rules/{name}")
        return 1 if stale or extra else 0
    PAGES.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (PAGES / name).write_text(wanted[name], encoding="utf-8")
    for name in extra:
        (PAGES / name).unlink()
    print(f"{len(wanted)} pages in docs/rules ({len(stale)} written, {len(extra)} removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
