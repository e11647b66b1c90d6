"""ARM templates (and what `bicep build` emits) as an inventory source, before anything is deployed.

Each resource the template would deploy becomes an ARM-shaped resource: parameters (defaults and a
parameters file), variables (variable copy loops included) and template functions are evaluated
(arm_expressions), nested `resources` get their full type and name (`server/db/current` under
`Microsoft.Sql/servers/databases/transparentDataEncryption`), `copy` loops are expanded, nested
deployments with an inline template (Bicep modules) are followed, and ids are built the way ARM
builds them inside a placeholder subscription and resource group. The author states the whole
resource, so a resource always has `properties` (absent means Azure's defaults, as `{}` does).

Judged resource by resource and property by property:
- a value that cannot be known before deployment is left out of the resource and recorded in
  `x_vdcaudit.unresolved` ({path: {expression, reason}}), so a rule that needs it reports UNKNOWN;
- a property whose expression is a template mistake (an undeclared parameter, a property read from an
  object that lacks it) is left out and recorded the same way, and is a defect of the template;
- a resource that cannot be built at all (no name, a child name with the wrong number of segments) is
  a defect too, and a coverage gap for its type.
The defects are kept on one record of the deployment itself (`Microsoft.Resources/deployments`,
`x_vdcaudit.defects`), which rule VDC-IAC-001 reports ("this template would not deploy"). Only a file
that is not JSON, not a template, or past ARM's limits (size, counts, evaluation budget) is refused.
`x_vdcaudit.origin` holds the file and the line of each resource's JSON object.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from vdcaudit.armdata import ArmObject
from vdcaudit.collectors.arm_expressions import (
    MAX_COPY_COUNT, MAX_RESOURCE_CHARS, MAX_VALUE_CHARS, NO_DEFAULT, Budget, Deployment, Scope,
    TemplateExpressionError, TemplateLimitError, Unknown, VariableLoop, copy_count, evaluate_value, first_unknown,
    measure, property_loops,
)
from vdcaudit.collectors.deployed_shape import apply_deployed_shape
from vdcaudit.collectors.template_text import read_template_json
from vdcaudit.errors import InputError
from vdcaudit.inventory import META, Inventory
from vdcaudit.io.jsonpos import line_of, property_lines
from vdcaudit.model import CoverageRecord

SOURCE = "template"
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
DEFAULT_RESOURCE_GROUP = "vdcaudit-template-rg"
# resourceGroup().location is only known at deployment; this placeholder keeps it visible.
DEFAULT_LOCATION = "resourcegrouplocation"
DEPLOYMENT_TYPE = "Microsoft.Resources/deployments"

# ARM's per-template limits (learn.microsoft.com/azure/azure-resource-manager/templates/best-practices,
# "Template limits"); a nested template is a deployment of its own and has its own.
MAX_PARAMETERS = 256
MAX_VARIABLES = 256
MAX_RESOURCES = 800
MAX_OUTPUTS = 64
# vdcaudit's bound for one file, nested deployments included (ARM documents none). How deep nested
# deployments go is bounded by the JSON nesting limit (template_text.MAX_DEPTH; ~4 levels per module).
MAX_FILE_RESOURCES = 10_000

# Keys of a template resource that describe the deployment, not the resource ARM would return.
_DEPLOYMENT_KEYS = {"resources", "copy", "condition", "dependson", "comments", "scope", "existing",
                    "metadata", "type", "name", "import"}


@dataclass(frozen=True)
class _Parent:
    type: str
    name: str
    id: str


@dataclass
class _TemplateTally:
    resources: int = 0
    size: int = 0


@dataclass
class Defect:
    """A mistake ARM would reject the template for. `built` is False when it kept a resource from being
    built at all (that resource gets an ERROR finding)."""

    file: str
    line: int | None
    problem: str
    built: bool = True
    resource_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "problem": self.problem, "built": self.built,
                **({"resource_type": self.resource_type} if self.resource_type else {})}


class _Drop:
    pass


_DROP = _Drop()


def _field(raw: dict[str, Any], name: str, default: Any = None) -> Any:
    """A template key, read case-insensitively as ARM reads it."""
    if name in raw:
        return raw[name]
    return next((value for key, value in raw.items() if isinstance(key, str) and key.lower() == name), default)


class _Loader:
    def __init__(self, path: Path, budget: Budget) -> None:
        self.path = path
        self.budget = budget
        # Collected first and added at the end: a file refused halfway must leave nothing behind.
        self.resources: list[tuple[ArmObject, dict[str, Any]]] = []
        self.ids: dict[str, int | None] = {}  # id (lower-case) -> line of the resource that has it
        self.coverage: list[CoverageRecord] = []
        self.defects: list[Defect] = []
        self.templates: list[_TemplateTally] = []  # the template being read and those it is nested in
        self.current_line: int | None = None  # of the resource being read, for limit errors

    def limit(self, problem: str, node: Any) -> InputError:
        return InputError(problem, self.path, line_of(node))

    def defect(self, problem: str, node: Any, *, built: bool = True, resource_type: str | None = None,
               file: Path | None = None) -> None:
        defect = Defect(str(file or self.path), line_of(node), problem, built, resource_type)
        if defect not in self.defects[-MAX_COPY_COUNT:]:  # each iteration of a loop repeats the same mistake
            self.defects.append(defect)

    # -- one template (the file's, or a nested deployment's inline template) --------------------

    def template(self, document: dict[str, Any], scope: Scope) -> None:
        outputs = _field(document, "outputs")
        if isinstance(outputs, dict) and len(outputs) > MAX_OUTPUTS:
            raise self.limit(f"{len(outputs)} outputs (ARM allows {MAX_OUTPUTS} per template)", document)
        resources = _field(document, "resources")
        if isinstance(resources, dict):  # languageVersion 2.0: symbolic name -> resource
            resources = list(resources.values())
        if not isinstance(resources, list):
            raise self.limit("not an ARM template: 'resources' must be an array (or an object of symbolic "
                             "names)", document)
        self.templates.append(_TemplateTally())
        for raw in resources:
            self.resource(raw, scope, None, document)
        self.templates.pop()

    def resource(self, raw: Any, scope: Scope, parent: _Parent | None, container: Any) -> None:
        if not isinstance(raw, dict):
            self.defect("a template resource must be a JSON object", container, built=False)
            return
        if _field(raw, "existing") is True:
            return  # a reference to a resource deployed elsewhere, not deployed by this template
        try:
            scopes = list(self.instances(raw, scope))
        except TemplateExpressionError as exc:
            self.unbuildable(raw, str(exc))
            return
        for instance_scope in scopes:
            self.instance(raw, instance_scope, parent)

    def instances(self, raw: dict[str, Any], scope: Scope) -> Iterator[Scope]:
        loop = _field(raw, "copy")
        if loop is None:
            yield scope
            return
        if not isinstance(loop, dict) or not isinstance(_field(loop, "name"), str):
            raise TemplateExpressionError("'copy' of a resource must be an object with a 'name' and a 'count'")
        name = _field(loop, "name")
        count = copy_count(_field(loop, "count"), scope, name)
        if isinstance(count, Unknown):
            self.gap(raw, f"copy loop '{name}' count is unknown before deployment: {count.reason}")
            return
        for index in range(count):
            yield scope.with_copy(name, index)

    def instance(self, raw: dict[str, Any], scope: Scope, parent: _Parent | None) -> None:
        self.current_line = line_of(raw) or self.current_line
        try:
            condition = evaluate_value(_field(raw, "condition", True), scope)
            if condition is False:
                return
            short_type = evaluate_value(_field(raw, "type"), scope)
            if isinstance(short_type, Unknown):
                self.gap(raw, f"the type of a resource is unknown before deployment: {short_type.reason}")
                return
            if not isinstance(short_type, str) or not short_type:
                raise TemplateExpressionError("the resource has no 'type'")
            unresolved: dict[str, Any] = {}
            name = self.identity_part(_field(raw, "name"), scope, "name", unresolved)
            if isinstance(name, Unknown):
                self.gap(raw, f"the name of a {short_type} resource is unknown before deployment: {name.reason}")
                return
            if not isinstance(name, str) or not name:
                raise TemplateExpressionError(f"the {short_type} resource has no 'name'")
            try:
                full_type, full_name = _qualify(short_type, name, parent)
            except TemplateExpressionError:
                if "name" not in unresolved:
                    raise
                # a symbolic name without the segments the type needs: not a mistake of the template
                self.gap(raw, f"the name of a {short_type} resource is unknown before deployment: "
                              f"{unresolved['name']['reason']}")
                return
            if full_type.lower() == DEPLOYMENT_TYPE.lower():
                if unresolved:
                    self.gap(raw, f"the name of deployment '{full_name}' is unknown before deployment")
                    return
                self.nested_deployment(raw, scope, full_name)
                return
            resource_id = self.build_id(raw, scope, full_type, full_name, unresolved)
        except TemplateExpressionError as exc:
            self.unbuildable(raw, str(exc))
            return
        if isinstance(resource_id, Unknown):
            self.gap(raw, f"the scope of {full_type} '{full_name}' is unknown before deployment: {resource_id.reason}")
            return
        if resource_id.lower() in self.ids:
            self.defect(f"{full_type} '{full_name}' is defined more than once (first at line "
                        f"{self.ids[resource_id.lower()]}); this definition is not judged", raw,
                        built=False, resource_type=full_type)
            return
        self.ids[resource_id.lower()] = line_of(raw)
        if isinstance(condition, Unknown):
            unresolved["condition"] = {"expression": _field(raw, "condition"), "reason": condition.reason}
        # ARM returns a child's own name ("current"), not the path ("srv/db/current")
        resource = ArmObject({"id": resource_id, "name": full_name.rsplit("/", 1)[-1], "type": full_type})
        where = f"{full_type} '{full_name}'"
        for key, value in raw.items():
            if key.lower() in _DEPLOYMENT_KEYS:
                continue
            kept = self.known(value, scope, key, unresolved, raw, where)
            if kept is not _DROP:
                resource[key] = kept
        # The author states the whole resource: no `properties` means Azure's defaults, as `{}` does
        # (a value left out above stays covered by `unresolved`, so no default is assumed for it).
        resource.setdefault("properties", {})
        if unresolved:
            resource[META] = {"unresolved": unresolved}
        self.count(raw, measure(resource, self.budget, MAX_RESOURCE_CHARS, f"the definition of {where}"))
        self.resources.append((resource, {"file": str(self.path), "line": line_of(raw), "lines": property_lines(raw)}))
        children = _field(raw, "resources") or []
        if not isinstance(children, list):
            self.defect(f"{where}: nested 'resources' must be an array", raw, built=False)
            return
        for child in children:
            self.resource(child, scope, _Parent(full_type, full_name, resource_id), raw)

    def count(self, raw: Any, size: int) -> None:
        """One more resource of the template being read, within ARM's limits and vdcaudit's."""
        tally = self.templates[-1]
        tally.resources += 1
        tally.size += size
        if tally.resources > MAX_RESOURCES:
            raise self.limit(f"the template deploys more than {MAX_RESOURCES} resources (ARM's limit per "
                             "template, copies included)", raw)
        if tally.size > MAX_VALUE_CHARS:
            raise self.limit(f"the template's resources expand past {MAX_VALUE_CHARS:,} characters (ARM's "
                             "4 MB limit per template, after expansion)", raw)
        if len(self.resources) >= MAX_FILE_RESOURCES:
            raise self.limit(f"the file deploys more than {MAX_FILE_RESOURCES:,} resources (vdcaudit's limit "
                             "per file, nested deployments included)", raw)

    def known(self, value: Any, scope: Scope, path: str, unresolved: dict[str, Any], node: Any,
              where: str) -> Any:
        """The evaluated value without the parts that cannot be known or are mistakes; each part
        left out is recorded under its path. Objects are judged key by key, so one bad property
        never takes its siblings with it."""
        if isinstance(value, dict):
            node = value if line_of(value) else node
            result: dict[str, Any] = {}
            for key, item in value.items():
                if key == "copy" and isinstance(item, list):
                    for loop in item:  # property loops, each on its own
                        loop_name = _field(loop, "name") if isinstance(loop, dict) else None
                        here = f"{path}.{loop_name if isinstance(loop_name, str) else 'copy'}"
                        produced = self.attempt(lambda: property_loops([loop], scope), here, loop, unresolved,
                                                node, where)
                        for produced_name, produced_value in ({} if produced is _DROP else produced).items():
                            kept = _known_part(produced_value, None, f"{path}.{produced_name}", unresolved)
                            if kept is not _DROP:
                                result[produced_name] = kept
                    continue
                kept = self.known(item, scope, f"{path}.{key}", unresolved, node, where)
                if kept is not _DROP:
                    result[key] = kept
            return result
        evaluated = self.attempt(lambda: evaluate_value(value, scope), path, value, unresolved, node, where)
        return _DROP if evaluated is _DROP else _known_part(evaluated, value, path, unresolved)

    def attempt(self, work: Any, path: str, raw: Any, unresolved: dict[str, Any], node: Any, where: str) -> Any:
        """`work()`, or _DROP when it is a template mistake: recorded as unresolved and as a defect."""
        try:
            return work()
        except TemplateExpressionError as exc:
            unresolved[path] = {"expression": raw if isinstance(raw, str) else None,
                                "reason": f"the template is wrong here: {exc}"}
            self.defect(f"{where}: {path}: {exc}", node)
            return _DROP

    def unbuildable(self, raw: dict[str, Any], problem: str) -> None:
        declared = _field(raw, "type")
        resource_type = declared if isinstance(declared, str) and "/" in declared and "[" not in declared else None
        self.defect(problem, raw, built=False, resource_type=resource_type)
        self.gap(raw, f"a resource cannot be built: {problem}")

    def identity_part(self, raw: Any, scope: Scope, path: str, unresolved: dict[str, Any]) -> Any:
        """A part of a resource's identity (its name, an extension's scope). When it depends on a value
        given only at deployment (a parameter without a default, the common case in CI), the
        resource is still built and judged, under a symbolic value: the parameters stand for
        themselves (`[parameters('vaultName')]-kv`), so children and extensions naming it still
        find it; what is left unknown that way is named by its expression. Recorded under
        `x_vdcaudit.unresolved`, so a rule that reads it reports UNKNOWN."""
        value = evaluate_value(raw, scope)
        if not isinstance(value, Unknown):
            return value
        stand_in = evaluate_value(raw, replace(scope, symbolic=True, _cache={}, _evaluating=set()))
        if not isinstance(stand_in, str) or not stand_in:
            if not isinstance(raw, str):
                return value
            stand_in = raw.replace("/", "%2F")  # an expression vdcaudit cannot resolve: named by its text
        unresolved[path] = {"expression": raw if isinstance(raw, str) else None,
                            "reason": f"{value.reason}; judged under the symbolic {path} {stand_in}"}
        return stand_in

    def build_id(self, raw: dict[str, Any], scope: Scope, full_type: str, full_name: str,
                 unresolved: dict[str, Any]) -> Any:
        namespace, *types = full_type.strip("/").split("/")
        tail = f"providers/{namespace}/" + "/".join(f"{t}/{n}" for t, n in zip(types, full_name.split("/")))
        deployment = scope.deployment
        base = f"/subscriptions/{deployment.subscription_id}/resourceGroups/{deployment.resource_group}"
        declared_scope = _field(raw, "scope")
        if declared_scope is not None:  # an extension resource (role assignment, lock, diagnostic setting ...)
            target = self.identity_part(declared_scope, scope, "scope", unresolved)
            if isinstance(target, Unknown):
                return target
            if not isinstance(target, str):
                raise TemplateExpressionError(f"the scope of {full_type} '{full_name}' is not a string")
            if not target.startswith("/"):  # Bicep writes scopes relative to the resource group
                namespace_, *rest = target.split("/")
                target = f"{base}/providers/{namespace_}/" + "/".join(rest)
            return f"{target.rstrip('/')}/{tail}"
        return f"{base}/{tail}"

    def nested_deployment(self, raw: dict[str, Any], scope: Scope, name: str) -> None:
        """A nested deployment with an inline template, as Bicep emits for modules."""
        properties = _field(raw, "properties")
        properties = properties if isinstance(properties, dict) else {}
        inner = _field(properties, "template")
        if not isinstance(inner, dict):
            self.gap(raw, f"deployment '{name}' links an external template, which is not read")
            return
        deployment = scope.deployment
        for key, field_name in (("resourcegroup", "resource_group"), ("subscriptionid", "subscription_id")):
            given = _field(raw, key)
            if given is not None:
                value = evaluate_value(given, scope)
                if not isinstance(value, str):
                    self.gap(raw, f"deployment '{name}' targets a {key} unknown before deployment")
                    return
                deployment = replace(deployment, **{field_name: value})
        deployment = replace(deployment, name=name)
        options = _field(properties, "expressionEvaluationOptions")
        inner_scope_kind = str(_field(options, "scope", "outer") if isinstance(options, dict) else "outer").lower()
        if inner_scope_kind == "inner":
            given = _field(properties, "parameters") or {}
            if not isinstance(given, dict):
                raise TemplateExpressionError(f"deployment '{name}': 'parameters' must be an object")
            values = {key: self.inner_parameter(key, item, scope, name, raw) for key, item in given.items()}
            inner_scope = self.scope(inner, values, deployment, self.path, given)
        else:  # expressions in the inline template use the outer template's parameters and variables
            inner_scope = replace(scope, deployment=deployment, copy_indexes={}, current_loop=None, _cache={},
                                  _evaluating=set())
        self.template(inner, inner_scope)

    def inner_parameter(self, key: str, item: Any, scope: Scope, deployment: str, node: Any) -> Any:
        if isinstance(item, dict) and "reference" in item and "value" not in item:
            return Unknown(f"parameter '{key}' of deployment '{deployment}' is a Key Vault reference")
        if not isinstance(item, dict) or "value" not in item:
            self.defect(f"deployment '{deployment}': parameter '{key}' needs a 'value'", node)
            return Unknown(f"parameter '{key}' of deployment '{deployment}' has no value")
        try:
            return evaluate_value(item["value"], scope)
        except TemplateExpressionError as exc:
            self.defect(f"deployment '{deployment}': parameter '{key}': {exc}", node)
            return Unknown(f"parameter '{key}' of deployment '{deployment}' is wrong in the template: {exc}")

    def gap(self, raw: Any, reason: str) -> None:
        """Resources the template may deploy but that cannot be described: rules on their type
        report UNKNOWN for the file and line instead of silently passing."""
        declared = _field(raw, "type") if isinstance(raw, dict) else None
        resource_type = declared if isinstance(declared, str) and "/" in declared and "[" not in declared else None
        record = CoverageRecord(
            source=SOURCE, scope=f"{self.path}:{line_of(raw) or 1}", reason=reason, resource_type=resource_type,
            location={"file": str(self.path), "line": line_of(raw) or 1})
        if record not in self.coverage[-MAX_COPY_COUNT:]:  # each iteration of a loop has the same gap
            self.coverage.append(record)

    def scope(self, document: dict[str, Any], given: dict[str, Any], deployment: Deployment, given_in: Path,
              given_node: Any) -> Scope:
        """The parameters and variables of one template; `given_in` is where the values came from."""
        declared = _field(document, "parameters", {})
        if not isinstance(declared, dict):
            raise self.limit("not an ARM template: 'parameters' must be an object", document)
        if len(declared) > MAX_PARAMETERS:
            raise self.limit(f"{len(declared)} parameters (ARM allows {MAX_PARAMETERS} per template)", declared)
        folded = {name.lower(): name for name in declared}
        values: dict[str, Any] = {}
        for name, value in given.items():
            if name.lower() not in folded:
                self.defect(f"parameter '{name}' is given a value but the template does not declare it",
                            given_node, file=given_in)
                continue
            values[folded[name.lower()]] = value
        defaults = {}
        for name, spec in declared.items():
            spec = spec if isinstance(spec, dict) else {}
            default = _field(spec, "defaultvalue", NO_DEFAULT)
            if default is NO_DEFAULT and _field(spec, "nullable") is True:
                default = None  # a nullable parameter without a value is null (languageVersion 2.0, Bicep `T?`)
            defaults[name] = default
            if str(_field(spec, "type", "")).lower() in ("securestring", "secureobject"):
                # secrets never enter the inventory (or a report); no encryption rule needs their value
                values[name] = Unknown(f"secure parameter '{name}' is not read by vdcaudit")
        variables = _field(document, "variables", {})
        if not isinstance(variables, dict):
            raise self.limit("not an ARM template: 'variables' must be an object", document)
        raw_variables: dict[str, Any] = {k: v for k, v in variables.items() if k.lower() != "copy"}
        loops = _field(variables, "copy") or []
        for loop in loops if isinstance(loops, list) else [loops]:
            if isinstance(loop, dict) and isinstance(_field(loop, "name"), str) and "input" in loop:
                raw_variables[loop["name"]] = VariableLoop(loop["name"], _field(loop, "count"), loop["input"])
            else:
                self.defect("a variable copy loop needs 'name', 'count' and 'input'", variables)
        if len(raw_variables) > MAX_VARIABLES:
            raise self.limit(f"{len(raw_variables)} variables (ARM allows {MAX_VARIABLES} per template)", variables)
        return Scope(deployment, values, defaults, raw_variables, budget=self.budget)


def _qualify(short_type: str, name: str, parent: _Parent | None) -> tuple[str, str]:
    """Full type and name: a nested resource's type and name continue its parent's."""
    if parent is None or "/" in short_type:
        full_type, full_name = short_type, name
    else:
        full_type, full_name = f"{parent.type}/{short_type}", f"{parent.name}/{name}"
    segments = len(full_type.strip("/").split("/")) - 1
    if segments != len(full_name.split("/")):
        raise TemplateExpressionError(f"resource name '{full_name}' needs {segments} segment(s) for type {full_type}")
    return full_type, full_name


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


def _parameter_file_values(path: Path) -> tuple[dict[str, Any], Any]:
    """`{"parameters": {"name": {"value": ...}}}`; a Key Vault reference is unknown before deployment."""
    document = read_template_json(path)
    parameters = _field(document, "parameters") if isinstance(document, dict) else None
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
    return values, parameters


def load_template(path: Path, inventory: Inventory, parameters: Path | None = None,
                  subscription_id: str = DEFAULT_SUBSCRIPTION, resource_group: str = DEFAULT_RESOURCE_GROUP,
                  location: str = DEFAULT_LOCATION) -> None:
    """Add every resource the template would deploy, and the deployment record with its defects.
    Nothing is added if the file is refused."""
    if not path.is_file():
        raise InputError("no such template file", path)
    if path.suffix.lower() in (".bicep", ".bicepparam"):
        raise InputError("Bicep source is not read directly: run `bicep build` (or `az bicep build`) "
                         "and scan the JSON it writes", path)
    document = read_template_json(path)
    if not isinstance(document, dict) or _field(document, "resources") is None:
        hint = " (this looks like a parameters file: pass it with --parameters)" \
            if isinstance(document, dict) and _field(document, "parameters") is not None else ""
        raise InputError(f"not an ARM template: no 'resources'{hint}", path, line_of(document))
    given, given_node = _parameter_file_values(parameters) if parameters is not None else ({}, None)
    loader = _Loader(path, Budget())
    deployment = Deployment(subscription_id=subscription_id, resource_group=resource_group, location=location)
    try:
        loader.template(document, loader.scope(document, given, deployment, parameters or path, given_node))
    except TemplateLimitError as exc:
        raise InputError(str(exc), path, loader.current_line or line_of(document)) from None
    except TemplateExpressionError as exc:  # outside any one resource: a nested deployment's own shape
        raise InputError(str(exc), path, line_of(document)) from None
    shaped = apply_deployed_shape([resource for resource, _ in loader.resources])
    for resource, (_, origin) in zip(shaped, loader.resources):
        inventory.add(resource, SOURCE, origin)
    inventory.add(_deployment_record(document, deployment, loader.defects), SOURCE,
                  {"file": str(path), "line": line_of(document) or 1})
    for record in loader.coverage:
        inventory.add_coverage(record)
    inventory.sources.append({"kind": SOURCE, "location": str(path), "resources": len(loader.resources),
                              "defects": len(loader.defects),
                              **({"parameters": str(parameters)} if parameters else {})})


def _deployment_record(document: dict[str, Any], deployment: Deployment, defects: list[Defect]) -> dict[str, Any]:
    """The deployment of this template, as ARM would list it, carrying the template's defects."""
    return {
        "id": f"/subscriptions/{deployment.subscription_id}/resourceGroups/{deployment.resource_group}"
              f"/providers/{DEPLOYMENT_TYPE}/{deployment.name}",
        "name": deployment.name, "type": DEPLOYMENT_TYPE,
        "properties": {"mode": "Incremental", "contentVersion": _field(document, "contentversion")},
        META: {"defects": [defect.to_dict() for defect in defects]},
    }


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
