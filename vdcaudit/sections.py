"""Report sections: overviews that a source adds to the report beside the findings (the SDN
encryption picture per virtual network, say). A builder gets the linked inventory and the
findings and returns JSON-able data, or None when it has nothing to show.

One section is attached after the scan instead: "history" (the "since the last scan" view), which
needs the scan history rather than the inventory (vdcaudit.history.recording)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vdcaudit.inventory import Inventory
from vdcaudit.model import Finding

SectionBuilder = Callable[[Inventory, list[Finding]], Any]
SECTIONS: dict[str, SectionBuilder] = {}


def register_section(name: str) -> Callable[[SectionBuilder], SectionBuilder]:
    def decorate(fn: SectionBuilder) -> SectionBuilder:
        SECTIONS[name] = fn
        return fn
    return decorate


def build_sections(inventory: Inventory, findings: list[Finding]) -> dict[str, Any]:
    built = {name: build(inventory, findings) for name, build in SECTIONS.items()}
    return {name: data for name, data in built.items() if data is not None}
