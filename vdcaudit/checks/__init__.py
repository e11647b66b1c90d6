"""Python checks: rules that span resources (a disk and its VM, a circuit and its port, a vault
and the declared key owners). Their metadata lives in rules/*.yaml like every other rule
(`check: <name>`); the function only decides the verdicts.

A check is `fn(rule, inventory, context) -> Iterable[Finding]`, registered with @register.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vdcaudit.engine import ScanContext
    from vdcaudit.inventory import Inventory
    from vdcaudit.model import Finding
    from vdcaudit.rulepack import Rule

CheckFunction = Callable[["Rule", "Inventory", "ScanContext"], Iterable["Finding"]]
CHECKS: dict[str, CheckFunction] = {}


def register(name: str) -> Callable[[CheckFunction], CheckFunction]:
    def decorate(fn: CheckFunction) -> CheckFunction:
        if name in CHECKS:
            raise RuntimeError(f"check {name} registered twice")
        CHECKS[name] = fn
        return fn
    return decorate


def resources_for(rule: "Rule", inventory: "Inventory") -> list[dict[str, Any]]:
    """The resources of the rule's type from the sources the rule is valid for."""
    from vdcaudit.inventory import META

    return [r for r in inventory.of_type(rule.resource_type) if r.get(META, {}).get("source") in rule.sources]


# Importing the modules registers their checks.
from vdcaudit.checks import compute, keyvault, network  # noqa: E402,F401
from vdcaudit.checks import sdn  # noqa: E402,F401
from vdcaudit.checks import appgateway, cmk, loganalytics, peering  # noqa: E402,F401
