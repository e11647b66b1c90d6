"""The scan configuration file (vdcaudit.yaml): who owns keys, and scan settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vdcaudit.waivers import WaiverEntry, parse_waivers
from vdcaudit.yamlfile import load_config_document


@dataclass
class KeyOwner:
    object_id: str
    name: str = ""


@dataclass
class Config:
    path: str | None = None
    # None: not declared (rules that need it report UNKNOWN); []: declared, nobody owns keys
    key_owners: list[KeyOwner] | None = None
    waivers: list[WaiverEntry] | None = None  # None: the file has no `waivers:` section
    raw: dict[str, Any] = field(default_factory=dict)

    def is_key_owner(self, object_id: str) -> bool:
        return any(owner.object_id.lower() == object_id.lower() for owner in self.key_owners or [])


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    data, text = load_config_document(path, "config")
    owners = None
    if "key_owners" in data:
        owners = [KeyOwner(o, "") if isinstance(o, str) else KeyOwner(o["id"], o.get("name", ""))
                  for o in data["key_owners"] or []]
    waivers = parse_waivers(data["waivers"] or [], path, text) if "waivers" in data else None
    return Config(path=str(path), key_owners=owners, waivers=waivers, raw=data)
