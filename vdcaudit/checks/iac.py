"""Infrastructure code that ARM would refuse: the defects the template loader recorded on the
deployment record (`x_vdcaudit.defects`, see collectors/arm_template.py).

One FAIL per template says it would not deploy and lists every defect; each resource the template
declares but that could not be built at all also gets an ERROR of its own, at its file and line, as
nothing about it could be judged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vdcaudit.checks import register_each
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import META, Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule

_LISTED = 5  # defects named in the message; the evidence lists them all


def _where(defect: dict[str, Any]) -> str:
    return f"{defect.get('file')}:{defect.get('line')}" if defect.get("line") else str(defect.get("file"))


@register_each("template_deploys")
def template_deploys(rule: Rule, deployment: dict[str, Any], inventory: Inventory,
                     context: ScanContext) -> Iterator[Finding]:
    defects = deployment.get(META, {}).get("defects")
    if defects is None:
        yield finding_for(rule, deployment, Status.UNKNOWN,
                          "cannot assess: no record of the template's defects (not read by the template loader)")
        return
    if not isinstance(defects, list):
        raise TypeError(f"x_vdcaudit.defects is a {type(defects).__name__}, not a list")
    evidence = {"defects": [f"{_where(d)}: {d.get('problem')}" for d in defects]}
    if not defects:
        yield finding_for(rule, deployment, Status.PASS,
                          "Every resource of the template could be built; no expression is a template mistake",
                          evidence)
        return
    listed = "; ".join(evidence["defects"][:_LISTED])
    more = f"; and {len(defects) - _LISTED} more" if len(defects) > _LISTED else ""
    yield finding_for(rule, deployment, Status.FAIL,
                      f"this template would not deploy: {len(defects)} defect(s): {listed}{more}", evidence)
    for defect in defects:
        if defect.get("built", True):
            continue
        where = _where(defect)
        # the resource has no id (it could not be built): its file and line stand for it
        stand_in = {"id": where, "name": where, "type": defect.get("resource_type") or rule.resource_type,
                    META: {"source": deployment.get(META, {}).get("source"),
                           "origin": {"file": defect.get("file"), "line": defect.get("line")}}}
        yield finding_for(rule, stand_in, Status.ERROR,
                          f"cannot judge a resource of the template at {where}: it cannot be built: "
                          f"{defect.get('problem')}")
