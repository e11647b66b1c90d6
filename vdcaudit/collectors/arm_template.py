"""ARM templates (and what `bicep build` emits) as an inventory source, before anything is deployed.

Each resource the template would deploy becomes an ARM-shaped resource: parameters (defaults and a
parameters file), variables and template functions are evaluated (arm_expressions), nested
`resources` get their full type and name (`server/db/current` under
`Microsoft.Sql/servers/databases/transparentDataEncryption`), `copy` loops are expanded, nested
deployments with an inline template (Bicep modules) are followed, and ids are built the way ARM
builds them inside a placeholder subscription and resource group.

A value that cannot be known before deployment is left out of the resource, and recorded in
`x_vdcaudit.unresolved` ({path: {expression, reason}}), so a rule that needs it reports UNKNOWN
naming the path. `x_vdcaudit.origin` holds the file and the line of the resource's JSON object.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from vdcaudit.collectors.arm_expressions import (
    NO_DEFAULT, Deployment, Scope, TemplateExpressionError, Unknown, evaluate_value, first_unknown,
)
from vdcaudit.collectors.deployed_shape import apply_deployed_shape
from vdcaudit.errors import InputError
from vdcaudit.inventory import META, Inventory
from vdcaudit.jsonpos import line_of, read_json_with_lines
from vdcaudit.model import CoverageRecord

SOURCE = "template"
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
DEFAULT_RESOURCE_GROUP = "vdcaudit-template-rg"
# resourceGroup().location is only known at deployment; this placeholder keeps it visible.
DEFAULT_LOCATION = "resourcegrouplocation"

# Keys of a template resource that describe the deployment, not the resource ARM would return.
_DEPLOYMENT_KEYS = {"resources", "copy", "condition", "dependsOn", "comments", "scope", "existing",
                    "metadata", "type", "name"}
_DEPLOYMENTS = "microsoft.resources/deployments"


@dataclass(frozen=True)
class _Parent:
    type: str
    name: str
    id: str


class _Loader:
    def __init__(self, path: Path) -> None:
        self.path = path
        # Collected first and added at the end: a bad resource halfway through must not leave half
        # a template in the inventory.
        self.resources: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.coverage: list[CoverageRecord] = []

    def fail(self, problem: str, node: Any) -> InputError:
        return InputError(problem, self.path, line_of(node))

    # -- one template (the file's, or a nested deployment's inline template) --------------------

    def template(self, document: Any, scope: Scope) -> None:
        resources = document.get("resources")
        if isinstance(resources, dict):  # languageVersion 2.0: symbolic name -> resource
            resources = list(resources.values())
        if not isinstance(resources, list):
            raise self.fail("not an ARM template: 'resources' must be an array (or an object of "
                            "symbolic names)", document)
        for raw in resources:
            self.resource(raw, scope, None)

    def resource(self, raw: Any, scope: Scope, parent: _Parent | None) -> None:
        if not isinstance(raw, dict):
            raise self.fail("a template resource must be a JSON object", raw)
        if raw.get("existing") is True:
            return  # a reference to a resource deployed elsewhere, not deployed by this template
        for instance_scope in self.instances(raw, scope):
            self.instance(raw, instance_scope, parent)

    def instances(self, raw: dict[str, Any], scope: Scope) -> Iterator[Scope]:
        loop = raw.get("copy")
        if loop is None:
            yield scope
            return
        if not isinstance(loop, dict) or not isinstance(loop.get("name"), str):
            raise self.fail("'copy' of a resource must be an object with a 'name' and a 'count'", raw)
        count = self.evaluate(loop.get("count"), scope, raw, "copy.count")
        if isinstance(count, Unknown):
            self.gap(raw, scope, f"copy loop '{loop['name']}' count is unknown before deployment: {count.reason}")
            return
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise self.fail(f"copy loop '{loop['name']}': count must be a non-negative integer, got {count!r}", raw)
        for index in range(count):
            yield scope.with_copy(loop["name"], index)

    def instance(self, raw: dict[str, Any], scope: Scope, parent: _Parent | None) -> None:
        condition = self.evaluate(raw.get("condition", True), scope, raw, "condition")
        if condition is False:
            return
        short_type = self.evaluate(raw.get("type"), scope, raw, "type")
        name = self.evaluate(raw.get("name"), scope, raw, "name")
        if not isinstance(short_type, str) or not short_type:
            raise self.fail("resource has no 'type'", raw)
        if isinstance(name, Unknown):
            self.gap(raw, scope, f"the name of a {short_type} resource is unknown before deployment: {name.reason}")
            return
        if not isinstance(name, str) or not name:
            raise self.fail(f"{short_type} resource has no 'name'", raw)
        full_type, full_name = self.qualify(short_type, name, parent, raw)
        if full_type.lower() == _DEPLOYMENTS:
            self.nested_deployment(raw, scope, full_name)
            return
        resource_id = self.build_id(raw, scope, full_type, full_name, parent)
        unresolved: dict[str, Any] = {}
        if isinstance(condition, Unknown):
            unresolved["condition"] = {"expression": raw.get("condition"), "reason": condition.reason}
        # ARM returns a child's own name ("current"), not the path ("srv/db/current")
        resource: dict[str, Any] = {"id": resource_id, "name": full_name.rsplit("/", 1)[-1], "type": full_type}
        for key, value in raw.items():
            if key in _DEPLOYMENT_KEYS:
                continue
            evaluated = self.evaluate(value, scope, raw, key)
            known = _known_part(evaluated, value, key, unresolved)
            if known is not _DROP:
                resource[key] = known
        if unresolved:
            resource[META] = {"unresolved": unresolved}
        self.resources.append((resource, {"file": str(self.path), "line": line_of(raw)}))
        children = raw.get("resources") or []
        if not isinstance(children, list):
            raise self.fail("nested 'resources' must be an array", raw)
        for child in children:
            self.resource(child, scope, _Parent(full_type, full_name, resource_id))

    def qualify(self, short_type: str, name: str, parent: _Parent | None, raw: Any) -> tuple[str, str]:
        """Full type and name: a nested resource's type and name continue its parent's."""
        if parent is None or "/" in short_type:
            full_type, full_name = short_type, name
        else:
            full_type, full_name = f"{parent.type}/{short_type}", f"{parent.name}/{name}"
        segments = len(full_type.strip("/").split("/")) - 1
        if segments != len(full_name.split("/")):
            raise self.fail(f"resource name '{full_name}' needs {segments} segment(s) for type {full_type}", raw)
        return full_type, full_name

    def build_id(self, raw: dict[str, Any], scope: Scope, full_type: str, full_name: str,
                 parent: _Parent | None) -> str:
        namespace, *types = full_type.strip("/").split("/")
        tail = f"providers/{namespace}/" + "/".join(f"{t}/{n}" for t, n in zip(types, full_name.split("/")))
        deployment = scope.deployment
        base = f"/subscriptions/{deployment.subscription_id}/resourceGroups/{deployment.resource_group}"
        if "scope" in raw:  # an extension resource (role assignment, lock, diagnostic setting ...)
            target = self.evaluate(raw["scope"], scope, raw, "scope")
            if not isinstance(target, str):
                raise self.fail(f"the scope of {full_type} '{full_name}' cannot be resolved", raw)
            if not target.startswith("/"):  # Bicep writes scopes relative to the resource group
                namespace_, *rest = target.split("/")
                target = f"{base}/providers/{namespace_}/" + "/".join(rest)
            return f"{target.rstrip('/')}/{tail}"
        return f"{base}/{tail}"

    def nested_deployment(self, raw: dict[str, Any], scope: Scope, name: str) -> None:
        """A nested deployment with an inline template, as Bicep emits for modules."""
        properties = raw.get("properties") or {}
        inner = properties.get("template")
        if not isinstance(inner, dict):
            self.gap(raw, scope, f"deployment '{name}' links an external template, which is not read")
            return
        deployment = scope.deployment
        for key, field_name in (("resourceGroup", "resource_group"), ("subscriptionId", "subscription_id")):
            if key in raw:
                value = self.evaluate(raw[key], scope, raw, key)
                if not isinstance(value, str):
                    self.gap(raw, scope, f"deployment '{name}' targets a {key} unknown before deployment")
                    return
                deployment = replace(deployment, **{field_name: value})
        deployment = replace(deployment, name=name)
        inner_scope_kind = str((properties.get("expressionEvaluationOptions") or {}).get("scope", "outer")).lower()
        if inner_scope_kind == "inner":
            given = self.evaluate(properties.get("parameters") or {}, scope, raw, "properties.parameters")
            values = {key: (item.get("value") if isinstance(item, dict) and "value" in item else
                            Unknown(f"parameter '{key}' of deployment '{name}' is a Key Vault reference"))
                      for key, item in given.items()}
            inner_scope = _scope(inner, values, deployment, self.path)
        else:  # expressions in the inline template use the outer template's parameters and variables
            inner_scope = Scope(deployment, scope.parameter_values, scope.parameter_defaults, scope.variables)
        self.template(inner, inner_scope)

    def gap(self, raw: Any, scope: Scope, reason: str) -> None:
        """Resources the template may deploy but that cannot be described: rules on their type
        report UNKNOWN for the file instead of silently passing."""
        resource_type = raw.get("type") if isinstance(raw.get("type"), str) and "/" in raw["type"] else None
        self.coverage.append(CoverageRecord(
            source=SOURCE, scope=f"{self.path}:{line_of(raw) or 1}", reason=reason, resource_type=resource_type))

    def evaluate(self, value: Any, scope: Scope, node: Any, what: str) -> Any:
        try:
            return evaluate_value(value, scope)
        except TemplateExpressionError as exc:
            raise self.fail(f"{what}: {exc}", node) from None


class _Drop:
    pass


_DROP = _Drop()


def _known_part(value: Any, raw: Any, path: str, unresolved: dict[str, Any]) -> Any:
    """The value without its unknown parts; each one dropped is recorded under its path.

    An array with an unknown anywhere inside is dropped whole: a list with a hole would let a rule
    that looks at every element decide on the elements it happens to see."""
    if isinstance(value, Unknown):
        unresolved[path] = {"expression": raw if isinstance(raw, str) else None, "reason": value.reason}
        return _DROP
    if isinstance(value, list):
        unknown = first_unknown(value)
        if unknown is not None:
            unresolved[path] = {"expression": raw if isinstance(raw, str) else None, "reason": unknown.reason}
            return _DROP
        return value
    if isinstance(value, dict):
        known = {}
        for key, item in value.items():
            raw_item = raw.get(key) if isinstance(raw, dict) else raw
            kept = _known_part(item, raw_item, f"{path}.{key}", unresolved)
            if kept is not _DROP:
                known[key] = kept
        return known
    return value


def _scope(document: dict[str, Any], given: dict[str, Any], deployment: Deployment, given_in: Path) -> Scope:
    """The parameters and variables of one template; `given_in` is where the values came from."""
    declared = document.get("parameters") or {}
    if not isinstance(declared, dict):
        raise InputError("'parameters' must be an object", given_in, line_of(document))
    unknown = [name for name in given if name.lower() not in {d.lower() for d in declared}]
    if unknown:
        raise InputError(f"parameter '{unknown[0]}' is given a value but the template does not declare it",
                         given_in, line_of(given))
    defaults = {name: spec.get("defaultValue", NO_DEFAULT) if isinstance(spec, dict) else NO_DEFAULT
                for name, spec in declared.items()}
    values = {}
    for name, value in given.items():
        declared_name = next(d for d in declared if d.lower() == name.lower())
        values[declared_name] = value
    for name, spec in declared.items():
        if isinstance(spec, dict) and str(spec.get("type", "")).lower() in ("securestring", "secureobject"):
            # secrets never enter the inventory (or a report); no encryption rule needs their value
            values[name] = Unknown(f"secure parameter '{name}' is not read by vdcaudit")
    variables = document.get("variables") or {}
    if not isinstance(variables, dict):
        raise InputError("'variables' must be an object", given_in, line_of(document))
    return Scope(deployment, values, defaults, {k: v for k, v in variables.items() if k != "copy"})


def _parameter_file_values(path: Path) -> dict[str, Any]:
    """`{"parameters": {"name": {"value": ...}}}`; a Key Vault reference is unknown before deployment."""
    document = read_json_with_lines(path)
    parameters = document.get("parameters") if isinstance(document, dict) else None
    if not isinstance(parameters, dict):
        raise InputError("not an ARM parameters file: expected an object with a 'parameters' object", path,
                         line_of(document))
    values: dict[str, Any] = {}
    for name, entry in parameters.items():
        if isinstance(entry, dict) and "value" in entry:
            values[name] = entry["value"]
        elif isinstance(entry, dict) and "reference" in entry:
            values[name] = Unknown(f"parameter '{name}' is a Key Vault reference, read at deployment")
        else:
            raise InputError(f"parameter '{name}' needs a 'value' (or a Key Vault 'reference')", path,
                             line_of(entry) or line_of(parameters))
    return values


def load_template(path: Path, inventory: Inventory, parameters: Path | None = None,
                  subscription_id: str = DEFAULT_SUBSCRIPTION, resource_group: str = DEFAULT_RESOURCE_GROUP,
                  location: str = DEFAULT_LOCATION) -> None:
    """Add every resource the template would deploy. Nothing is added if the template is bad."""
    if not path.is_file():
        raise InputError("no such template file", path)
    if path.suffix.lower() in (".bicep", ".bicepparam"):
        raise InputError("Bicep source is not read directly: run `bicep build` (or `az bicep build`) "
                         "and scan the JSON it writes", path)
    document = read_json_with_lines(path)
    if not isinstance(document, dict) or "resources" not in document:
        hint = " (this looks like a parameters file: pass it with --parameters)" \
            if isinstance(document, dict) and "parameters" in document and "resources" not in document else ""
        raise InputError(f"not an ARM template: no 'resources'{hint}", path, line_of(document))
    given = _parameter_file_values(parameters) if parameters is not None else {}
    loader = _Loader(path)
    deployment = Deployment(subscription_id=subscription_id, resource_group=resource_group, location=location)
    loader.template(document, _scope(document, given, deployment, parameters or path))
    apply_deployed_shape([resource for resource, _ in loader.resources])
    for resource, origin in loader.resources:
        inventory.add(resource, SOURCE, origin)
    for record in loader.coverage:
        inventory.add_coverage(record)
    inventory.sources.append({"kind": SOURCE, "location": str(path), "resources": len(loader.resources),
                              **({"parameters": str(parameters)} if parameters else {})})


# -- `vdcaudit scan` options ---------------------------------------------------------------------

OPTIONS = [
    click.Option(["--template"], metavar="FILE", type=click.Path(dir_okay=False, path_type=str),
                 help="ARM template JSON (what `bicep build` writes) to check before it is deployed."),
    click.Option(["--parameters"], metavar="FILE", type=click.Path(dir_okay=False, path_type=str),
                 help="ARM parameters file for --template."),
    click.Option(["--subscription-id", "iac_subscription_id"], metavar="ID", default=DEFAULT_SUBSCRIPTION,
                 show_default=True, help="Placeholder subscription for ids of template and plan resources."),
    click.Option(["--resource-group", "iac_resource_group"], metavar="NAME", default=DEFAULT_RESOURCE_GROUP,
                 show_default=True, help="Placeholder resource group the template is deployed to."),
]


def wanted(params: dict[str, Any]) -> bool:
    if params.get("parameters") and not params.get("template"):
        raise click.UsageError("--parameters needs --template")
    return bool(params.get("template"))


def collect(params: dict[str, Any], inventory: Inventory) -> None:
    load_template(Path(params["template"]), inventory,
                  Path(params["parameters"]) if params.get("parameters") else None,
                  subscription_id=params.get("iac_subscription_id") or DEFAULT_SUBSCRIPTION,
                  resource_group=params.get("iac_resource_group") or DEFAULT_RESOURCE_GROUP)
