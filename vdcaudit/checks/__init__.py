"""Python checks: rules that span resources (a disk and its VM, a circuit and its port, a vault
and the declared key owners). Their metadata lives in rules/*.yaml like every other rule
(`check: <name>`); the function only decides the verdicts.

Every check judges resource by resource: `@register_each(name)` on
`fn(rule, resource, inventory, context)`, or (when the resources come from a derived view, such as
the SDN fabric's subnets and hosts) `judge_each(..., resources=...)` inside an `@register`ed
`fn(rule, inventory, context)`. Resource data is read only through vdcaudit.armdata (props, dig,
as_bool, same): a malformed resource raises there and gets ERROR naming it, and every other resource
keeps its verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, Union

from vdcaudit.findings import finding_for, malformed
from vdcaudit.model import Finding, Status

if TYPE_CHECKING:
    from vdcaudit.context import ScanContext
    from vdcaudit.inventory import Inventory
    from vdcaudit.rulepack import Rule

CheckFunction = Callable[["Rule", "Inventory", "ScanContext"], Iterable[Finding]]
# Judges one resource: a finding, several, or None when the rule does not apply to it.
ResourceJudge = Callable[["Rule", dict[str, Any], "Inventory", "ScanContext"],
                         Union[Finding, Iterable[Finding], None]]
CHECKS: dict[str, CheckFunction] = {}
_View = TypeVar("_View")


# Views of the whole inventory that several checks read (Inventory.derived): the engine builds them
# before it splits the rules between two processes, so each is built once and shared.
SHARED_VIEWS: list[Callable[["Inventory"], object]] = []


def shared_view(build: Callable[["Inventory"], _View]) -> Callable[["Inventory"], _View]:
    SHARED_VIEWS.append(build)
    return build


def register(name: str) -> Callable[[CheckFunction], CheckFunction]:
    def decorate(fn: CheckFunction) -> CheckFunction:
        if name in CHECKS:
            raise RuntimeError(f"check {name} registered twice")
        CHECKS[name] = fn
        return fn
    return decorate


def register_each(name: str) -> Callable[[ResourceJudge], ResourceJudge]:
    """Register a check that judges the rule's resources one at a time (see judge_each)."""
    def decorate(judge: ResourceJudge) -> ResourceJudge:
        register(name)(lambda rule, inventory, context: judge_each(rule, inventory, context, judge))
        return judge
    return decorate


def judge_each(rule: "Rule", inventory: "Inventory", context: "ScanContext", judge: ResourceJudge,
               resources: Iterable[dict[str, Any]] | None = None) -> Iterator[Finding]:
    """Run `judge` on each resource (by default the rule's own). A resource whose data breaks the
    judge (a string where an object belongs, say) gets ERROR naming it; every other resource keeps
    its own verdict, so one malformed resource can never hide another's FAIL."""
    for resource in resources_for(rule, inventory) if resources is None else resources:
        blocked = malformed(rule, resource)
        if blocked is not None:
            yield blocked
            continue
        try:
            result = judge(rule, resource, inventory, context)
            found = [] if result is None else [result] if isinstance(result, Finding) else list(result)
        except Exception as exc:  # malformed data: this resource cannot be judged, the others still are
            found = [finding_for(rule, resource, Status.ERROR,
                                 f"cannot judge this resource: {type(exc).__name__}: {exc}")]
        yield from found


def resources_for(rule: "Rule", inventory: "Inventory") -> list[dict[str, Any]]:
    """The resources of the rule's type from the sources the rule is valid for."""
    from vdcaudit.inventory import META

    return [r for resource_type in rule.resource_types for r in inventory.of_type(resource_type)
            if r.get(META, {}).get("source") in rule.sources]


# Importing the modules registers their checks.
from vdcaudit.checks import compute, keyvault, network  # noqa: E402,F401
from vdcaudit.checks import sdn  # noqa: E402,F401
from vdcaudit.checks import appgateway, cmk, loganalytics, peering  # noqa: E402,F401
from vdcaudit.checks import iac  # noqa: E402,F401
from vdcaudit.checks import vwan  # noqa: E402,F401
from vdcaudit.checks import storagekeys  # noqa: E402,F401
from vdcaudit.checks import activitylog, cosmoskeys, datafactory, disksets, kvcertificates, kvlifetime  # noqa: E402,F401
