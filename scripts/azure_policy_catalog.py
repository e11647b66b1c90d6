"""Rebuild policies/azure-policy-catalog.yaml from a checkout of the public Azure/azure-policy
repository: which built-in Azure Policy definitions are about encryption at rest, in transit, or
key, secret and certificate management, and what vdcaudit makes of each.

    python scripts/azure_policy_catalog.py PATH/TO/azure-policy [--catalog policies/azure-policy-catalog.yaml]

How a definition is found (so the count can be redone):
1. every file under built-in-policies/policyDefinitions/ whose definition is current: not
   `metadata.preview`, not `metadata.deprecated`, no "[Preview]" or "[Deprecated]" in its display name;
2. outside the categories Regulatory Compliance, Guest Configuration and BuiltInPolicyTest;
3. whose display name matches CANDIDATE (below), or whose id is in ALSO (found by reading
   descriptions: they name the control without a keyword in the title);
4. one entry per definition id (sovereign-cloud copies of a file share the id).
Decisions already in the catalog (`screened`, `excluded`) are kept; a new candidate arrives with
none, which reads "not yet covered" until someone decides. Which rules answer a definition is not
stored here: the rule files say it (references.azure-policy), and the docs table joins the two.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import yaml

CANDIDATE = re.compile(
    r"encrypt|\bTLS\b|\bSSL\b|HTTPS|secure transfer|customer[- ]managed|\bCMK\b|certificate|\bkeys?\b|secret|"
    r"\bTDE\b|FTPS|secure connection|MACsec|IPsec|end[- ]to[- ]end|cipher|\bHSM\b|purge protection|"
    r"soft delete|rotation|secure transport|double encryption|key vault|managed hsm", re.IGNORECASE)
SKIPPED_CATEGORIES = {"Regulatory Compliance", "Guest Configuration", "BuiltInPolicyTest"}
ALSO = {
    "21a6bc25-125e-4d13-b82d-2e19b7208ab7",  # VPN gateways: Entra ID authentication only for point-to-site
    "e345b6c3-24bd-4c93-9bbb-7e5e49a17b78",  # VPN gateways should not use the 'basic' SKU (no IKEv2 policy)
}


def current_definitions(repo: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((repo / "built-in-policies" / "policyDefinitions").rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError):
            continue
        properties = document.get("properties", document)
        metadata = properties.get("metadata") or {}
        title = str(properties.get("displayName") or "")
        definition_id = str(document.get("name") or "").lower()
        if (not definition_id or metadata.get("preview") or metadata.get("deprecated")
                or "[Preview]" in title or "[Deprecated]" in title
                or metadata.get("category") in SKIPPED_CATEGORIES):
            continue
        if CANDIDATE.search(title) or definition_id in ALSO:
            found.setdefault(definition_id, {"id": definition_id, "title": title,
                                             "category": str(metadata.get("category") or "")})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repository", type=Path, help="a checkout of Azure/azure-policy")
    parser.add_argument("--catalog", type=Path, default=Path("policies/azure-policy-catalog.yaml"))
    args = parser.parse_args()
    catalog = yaml.safe_load(args.catalog.read_text(encoding="utf-8")) if args.catalog.exists() else {}
    decided = {entry["id"]: entry for entry in catalog.get("definitions", [])}
    entries = []
    for definition_id, found in sorted(current_definitions(args.repository).items(),
                                       key=lambda kv: (kv[1]["category"], kv[1]["title"].lower())):
        entry = dict(found)
        for key in ("screened", "excluded"):
            if key in decided.get(definition_id, {}):
                entry[key] = decided[definition_id][key]
        entries.append(entry)
    catalog["definitions"] = entries
    args.catalog.write_text(yaml.safe_dump(catalog, sort_keys=False, allow_unicode=True, width=110),
                            encoding="utf-8")
    print(f"{len(entries)} definitions written to {args.catalog}")


if __name__ == "__main__":
    main()
