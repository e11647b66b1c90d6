"""Terraform plans (`terraform show -json plan.out`) as an inventory source, before apply.

Every planned `azurerm_*` resource (`resource_changes[].change.after`; `planned_values` when the plan
has no changes section) is mapped to the ARM shape by the declarative table terraform_map.yaml, so
the same rules run on it. A value Terraform only knows after apply (`after_unknown`, with no value in
`after`: a value `after` states is judged, and a plan marking it unknown too is a plan defect) is resolved
through the plan's configuration references when it names another planned resource
(`server_id = azurerm_mssql_server.main.id` gives the server's ARM id); otherwise it is left out and
recorded in `x_vdcaudit.unresolved`, and rules that need it report UNKNOWN.

Resource types the table does not map are added under their Terraform type, so the report counts
them as "not assessed" instead of dropping them.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import click
import yaml

from vdcaudit.armdata import path_keys
from vdcaudit.collectors.arm_template import DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION
from vdcaudit.collectors.deployed_shape import apply_deployed_shape
from vdcaudit.errors import InputError
from vdcaudit.inventory import META, Inventory
from vdcaudit.io.jsonpos import line_of, property_lines, read_json_with_lines
from vdcaudit.model import CoverageRecord

SOURCE = "terraform"
MAP_FILE = Path(__file__).with_name("terraform_map.yaml")
_ASSESSED_PROVIDERS = ("azurerm_",)


@lru_cache(maxsize=1)
def mapping() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(MAP_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Unknown:
    reason: str


_ABSENT = object()


@dataclass
class _Instance:
    address: str
    module: str  # "module.a.module.b." or ""
    type: str
    after: dict[str, Any]
    after_unknown: Any
    line: int | None
    arm_id: str | None = None
    resolving: bool = False
    unresolved: dict[str, Any] = field(default_factory=dict)


_INDEX = re.compile(r"\[[^\]]*\]")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _path(text: str) -> list[str | int]:
    return [int(index) if index else name for name, index in _PATH_PART.findall(text)]


def _format_path(path: list[str | int]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")


def _dig(value: Any, path: list[str | int]) -> Any:
    for part in path:
        if isinstance(part, int):
            value = value[part] if isinstance(value, list) and part < len(value) else _ABSENT
        else:
            value = value.get(part, _ABSENT) if isinstance(value, dict) else _ABSENT
        if value is _ABSENT:
            return _ABSENT
    return value


def _is_unknown(instance: _Instance, path: list[str | int]) -> bool:
    """Known only after apply: marked (itself or a parent) in `after_unknown`, and without a value in
    `after`. A value `after` states is judged, whatever `after_unknown` says of it: a plan cannot
    hide a value it states from the rules by also calling it unknown (see _contradictions)."""
    if _dig(instance.after, path) not in (_ABSENT, None):
        return False
    node = instance.after_unknown
    for part in path:
        if node is True:
            return True
        node = _dig(node, [part])
        if node is _ABSENT:
            return False
    return node is True


def _contradictions(instance: _Instance) -> list[str]:
    """Paths the plan both states (a value in `after`) and marks unknown (`true` in `after_unknown`).
    Terraform writes a value known only after apply as null in `after`, so such a path is a defect
    of the plan file: an edited or badly generated plan."""
    found: list[str] = []
    stack: list[tuple[list[str | int], Any]] = [([], instance.after_unknown)]
    while stack:
        path, node = stack.pop()
        if node is True:
            if path and _dig(instance.after, path) not in (_ABSENT, None):
                found.append(_format_path(path))
        elif isinstance(node, dict):
            stack.extend((path + [str(key)], value) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((path + [index], value) for index, value in enumerate(node))
    return sorted(found)


def _set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    keys = path_keys(dotted)  # "quoted" keys may hold dots (API Management customProperties)
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value


class _Plan:
    def __init__(self, path: Path, document: dict[str, Any], subscription_id: str, resource_group: str) -> None:
        self.path = path
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.instances = _instances(document)
        self.by_config: dict[str, list[_Instance]] = {}
        for instance in self.instances:
            self.by_config.setdefault(_INDEX.sub("", instance.address), []).append(instance)
        self.expressions = _configuration_expressions(document.get("configuration") or {})
        self.coverage: list[CoverageRecord] = []

    # -- values --------------------------------------------------------------------------------

    def attribute(self, instance: _Instance, attr: str) -> Any:
        """Known value, Unknown, or _ABSENT (null or not set)."""
        path = _path(attr)
        if _is_unknown(instance, path):
            return self.reference(instance, path, attr)
        value = _dig(instance.after, path)
        return _ABSENT if value is None else value

    def reference(self, instance: _Instance, path: list[str | int], attr: str) -> Any:
        """A value known after apply, looked up through the resource the configuration names."""
        config = _dig(self.expressions.get(_INDEX.sub("", instance.address), {}), path)
        for ref in (config.get("references") or []) if isinstance(config, dict) else []:
            parts = ref.split(".")
            if len(parts) < 3 or parts[0] in ("var", "local", "module", "data", "each", "count", "path"):
                continue
            target_config = instance.module + ".".join(parts[:2])
            targets = self.by_config.get(target_config, [])
            if len(targets) != 1:
                continue
            target, target_attr = targets[0], ".".join(parts[2:])
            value = self.arm_id(target) if target_attr == "id" else self.attribute(target, target_attr)
            if value is not None and value is not _ABSENT:
                return value
        return Unknown(f"{attr} is known only after apply")

    def spec(self, instance: _Instance, spec: Any, base: Any = None,
             base_path: list[str | int] | None = None) -> Any:
        """Evaluate a value spec of terraform_map.yaml; base is a block element for `each`, base_path
        its attribute path (so a value inside it known only after apply is not taken for null)."""
        if isinstance(spec, str):
            if base is not None:
                path = _path(spec)
                if base_path is not None and _is_unknown(instance, base_path + path):
                    return self.reference(instance, base_path + path, _format_path(base_path + path))
                value = _dig(base, path)
                return _ABSENT if value is None else value
            return self.attribute(instance, spec)
        if isinstance(spec, list):
            # aliases across provider versions: a known value wins over one "known after apply"
            # (azurerm 3.x plans `enable_non_ssl_port: false` beside an unknown `non_ssl_port_enabled`)
            values = [self.spec(instance, item, base, base_path) for item in spec]
            return next((v for v in values if v is not _ABSENT and not isinstance(v, Unknown)),
                        next((v for v in values if v is not _ABSENT), _ABSENT))
        if "const" in spec:
            return copy.deepcopy(spec["const"])
        if "unknown" in spec:
            # the provider does not expose the value at all: say so instead of guessing
            return Unknown(spec["unknown"])
        if "list" in spec:
            return [self.block(instance, item, base, base_path) for item in spec["list"]]
        value = self.spec(instance, spec["from"], base, base_path)
        if "if_set" in spec:
            # an id known only after apply will still be set: unknown counts as set
            return spec["if_null"] if value is _ABSENT or value == [] else spec["if_set"]
        if isinstance(value, Unknown) or value is _ABSENT:
            return value
        if "each" in spec:
            if base is None and _is_unknown(instance, _path(spec["from"])):
                return Unknown(f"{spec['from']} is known only after apply")
            from_path = (base_path + _path(spec["from"])) if base_path is not None \
                else (_path(spec["from"]) if base is None else None)
            # each block mapped to an object, or (`each: ATTR`) to one of its values
            build = self.spec if isinstance(spec["each"], str) else self.block
            return [build(instance, spec["each"], element, None if from_path is None else from_path + [index])
                    for index, element in enumerate(value or [])]
        if "values" in spec:
            table = {str(k).lower(): v for k, v in spec["values"].items()}
            return table.get(str(value).lower(), value)
        if "join" in spec:
            # ARM keeps some lists as one delimited string (SMB versions "SMB3.0;SMB3.1.1")
            return spec["join"].join(str(v) for v in value) if isinstance(value, list) else value
        if "pairs" in spec:
            # ARM keeps some settings as a list of name/value objects where Terraform has a map
            # (Service Fabric's fabric_settings parameters)
            name, item = spec["pairs"]
            return [{name: k, item: v} for k, v in value.items()] if isinstance(value, dict) else value
        if "key_id_part" in spec:
            return _key_id_part(value, spec["key_id_part"])
        return value

    def block(self, instance: _Instance, fields: dict[str, Any], base: Any,
              base_path: list[str | int] | None = None) -> dict[str, Any]:
        built: dict[str, Any] = {}
        for arm_path, spec in fields.items():
            value = self.spec(instance, spec, base, base_path)
            if isinstance(value, Unknown):
                return value  # type: ignore[return-value]  # a block with a hole is unknown as a whole
            if value is not _ABSENT:
                _set_path(built, arm_path, value)
        return built

    # -- ids -----------------------------------------------------------------------------------

    def arm_id(self, instance: _Instance) -> Any:
        if instance.arm_id is not None:
            return instance.arm_id
        if instance.resolving:
            return Unknown(f"{instance.address} refers to itself")
        instance.resolving = True
        try:
            built = self._build_id(instance)
        finally:
            instance.resolving = False
        if isinstance(built, str):
            instance.arm_id = built
        return built

    def _build_id(self, instance: _Instance) -> Any:
        known = instance.after.get("id")
        if isinstance(known, str) and known.lower().startswith("/subscriptions/"):
            return known  # the resource exists already: its real id
        entry = mapping().get(instance.type) or {}
        arm_type = entry.get("type")
        if not arm_type:
            return f"terraform:{instance.address}"
        namespace, *types = arm_type.split("/")
        id_spec = entry.get("id") or {}
        # a fixed name: ARM singletons such as encryptionProtector/current
        names = [id_spec["name"]] if "name" in id_spec else \
            [self.attribute(instance, attr) for attr in entry.get("names", ["name"])]
        if "scope" in id_spec:
            scope = self.attribute(instance, id_spec["scope"])
            name = names[0] if isinstance(names[0], str) else str(uuid.uuid5(uuid.NAMESPACE_URL, instance.address))
            return scope if not isinstance(scope, str) else f"{scope.rstrip('/')}/providers/{arm_type}/{name}"
        bad = next((n for n in names if not isinstance(n, str)), None)
        if bad is not None:
            return bad if isinstance(bad, Unknown) else Unknown(f"{instance.address} has no name")
        if "parent" in id_spec:
            parent = self.attribute(instance, id_spec["parent"])
            if not isinstance(parent, str):
                return parent if isinstance(parent, Unknown) else Unknown(f"{id_spec['parent']} is not set")
            return f"{parent.rstrip('/')}/{types[-1]}/{names[-1]}"
        group = self.attribute(instance, "resource_group_name")
        group = group if isinstance(group, str) else self.resource_group
        segments = "/".join(f"{t}/{n}" for t, n in zip(types, names))
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{group}/providers/{namespace}/{segments}"

    # -- resources -----------------------------------------------------------------------------

    def resources(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        built: list[tuple[dict[str, Any], dict[str, Any]]] = []
        attachments: list[_Instance] = []
        for instance in self.instances:
            entry = mapping().get(instance.type)
            origin = {"file": str(self.path), "line": instance.line}
            self.note_contradictions(instance)
            if entry is None:
                # not mapped: counted as "not assessed" under its Terraform type, never dropped
                built.append(({"id": f"terraform:{instance.address}", "type": instance.type,
                               "name": str(instance.after.get("name") or instance.address),
                               META: {"address": instance.address}}, origin))
                continue
            if "attach" in entry:
                attachments.append(instance)
                continue
            arm_id = self.arm_id(instance)
            if isinstance(arm_id, Unknown):
                self.coverage.append(CoverageRecord(
                    source=SOURCE, scope=f"{self.path}:{instance.line or 1}", resource_type=entry["type"],
                    reason=f"{instance.address}: the resource id cannot be built before apply ({arm_id.reason})",
                    location={"file": str(self.path), "line": instance.line or 1}))
                continue
            built.append((self.resource(instance, entry, arm_id), {**origin, "lines": _plan_lines(instance.after, entry)}))
            for child in entry.get("children", []):
                child_id = f"{arm_id}/{child['type'].rsplit('/', 1)[-1]}/{child['name']}"
                built.append((self.resource(instance, child, child_id, child["name"]), origin))
        by_id = {resource["id"].lower(): resource for resource, _ in built}
        for instance in attachments:
            self.attach(instance, mapping()[instance.type]["attach"], by_id)
        return built

    def note_contradictions(self, instance: _Instance) -> None:
        """A plan defect is kept in the coverage records (under the Terraform type, so no rule reads it
        as a gap of its own): the report shows which address and paths the plan contradicts itself on."""
        paths = _contradictions(instance)
        if paths:
            shown = ", ".join(paths[:10]) + (f" and {len(paths) - 10} more" if len(paths) > 10 else "")
            self.coverage.append(CoverageRecord(
                source=SOURCE, scope=f"{self.path}:{instance.line or 1}", resource_type=instance.type,
                reason=f"plan defect: {instance.address} states {shown} in 'after' and marks it unknown in "
                       "'after_unknown'; the stated value was judged",
                location={"file": str(self.path), "line": instance.line or 1}))

    def resource(self, instance: _Instance, entry: dict[str, Any], arm_id: str,
                 name: str | None = None) -> dict[str, Any]:
        resource: dict[str, Any] = {"id": arm_id, "type": entry["type"],
                                    "name": name or arm_id.rstrip("/").rsplit("/", 1)[-1]}
        unresolved: dict[str, Any] = {}
        fields = {"location": "location", "tags": "tags", **entry.get("set", {})} if name is None \
            else entry.get("set", {})
        for arm_path, spec in fields.items():
            value = self.spec(instance, spec)
            if isinstance(value, Unknown) or (isinstance(value, list) and any(isinstance(v, Unknown) for v in value)):
                reason = value.reason if isinstance(value, Unknown) else next(
                    v.reason for v in value if isinstance(v, Unknown))
                unresolved[arm_path] = {"expression": f"{instance.address} ({_spec_attrs(spec)})", "reason": reason}
            elif value is not _ABSENT:
                _set_path(resource, arm_path, value)
        # The plan states the whole resource: a property it leaves unset takes Azure's default, so the
        # resource has `properties` even when the table set nothing in it (as a template's does).
        resource.setdefault("properties", {})
        resource[META] = {"address": instance.address, **({"unresolved": unresolved} if unresolved else {})}
        return resource

    def attach(self, instance: _Instance, rule: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> None:
        target_id = self.attribute(instance, rule["to"])
        target = by_id.get(target_id.lower()) if isinstance(target_id, str) else None
        if target is None:
            return  # the target is not in this plan: nothing of it is assessed here
        for arm_path, spec in (rule.get("set") or {}).items():
            value = self.spec(instance, spec)
            if isinstance(value, Unknown):
                target.setdefault(META, {}).setdefault("unresolved", {})[arm_path] = {
                    "expression": f"{instance.address} ({_spec_attrs(spec)})", "reason": value.reason}
            elif value is not _ABSENT and value is not None:  # strings, but also flags and lists of ids
                _set_path(target, arm_path, value)
        if "append" in rule:
            item = self.block(instance, rule["item"], None)
            node: Any = target
            keys = rule["append"].split(".")
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            if isinstance(item, Unknown):
                target.setdefault(META, {}).setdefault("unresolved", {})[rule["append"]] = {
                    "expression": instance.address, "reason": item.reason}
                node.pop(keys[-1], None)
            elif rule["append"] not in target.get(META, {}).get("unresolved", {}):
                node.setdefault(keys[-1], []).append(item)


_KEY_URL = re.compile(r"^(https://[^/]+/)keys/([^/]+)", re.IGNORECASE)
_KEY_ARM_ID = re.compile(r"^(/subscriptions/.+?/providers/Microsoft\.KeyVault/(?:vaults|managedHSMs)/[^/]+)/keys/([^/]+)",
                         re.IGNORECASE)


def _key_id_part(value: Any, part: str) -> Any:
    """The vault (URI, or ARM id when the key was resolved to one) or the key name of a key reference:
    a key URL (https://V.vault.azure.net/keys/K[/version]) or the ARM id of a planned key."""
    match = _KEY_URL.match(str(value)) or _KEY_ARM_ID.match(str(value))
    if match is None:
        return Unknown(f"{value} is not a Key Vault key id")
    return match.group(1) if part == "vault" else match.group(2)


def _spec_attrs(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, list):
        return " or ".join(_spec_attrs(s) for s in spec)
    if isinstance(spec, dict) and "unknown" in spec:
        return "not in the provider schema"
    return _spec_attrs(spec.get("from", "")) if isinstance(spec, dict) else str(spec)


def _plan_lines(after: dict[str, Any], entry: dict[str, Any]) -> dict[str, int]:
    """ARM path (lower case) -> line of the Terraform attribute it is mapped from, so a finding points
    at the attribute its verdict read (the attribute's first segment: blocks are lists)."""
    members = property_lines(after)
    lines = {}
    for arm_path, spec in (entry.get("set") or {}).items():
        names = spec.get("from") if isinstance(spec, dict) else spec
        for name in [names] if isinstance(names, str) else names if isinstance(names, list) else []:
            line = members.get(re.split(r"[.\[]", str(name), maxsplit=1)[0].lower())
            if line:
                lines[str(arm_path).lower()] = line
                break
    return lines


def _instances(document: dict[str, Any]) -> list[_Instance]:
    changes = document.get("resource_changes")
    found: list[_Instance] = []
    if isinstance(changes, list):
        for change in changes:
            if not isinstance(change, dict) or change.get("mode", "managed") != "managed":
                continue
            body = change.get("change") or {}
            if body.get("actions") == ["delete"] or not isinstance(body.get("after"), dict):
                continue
            found.append(_Instance(
                address=str(change.get("address")), module=_module_prefix(change.get("module_address")),
                type=str(change.get("type")), after=body["after"], after_unknown=body.get("after_unknown") or {},
                line=line_of(change)))
        return [i for i in found if i.type.startswith(_ASSESSED_PROVIDERS)]
    module = (document.get("planned_values") or {}).get("root_module") or {}
    stack = [module]
    while stack:
        current = stack.pop()
        for resource in current.get("resources") or []:
            if resource.get("mode", "managed") == "managed" and str(resource.get("type")).startswith(_ASSESSED_PROVIDERS):
                address = str(resource.get("address"))
                found.append(_Instance(address, _module_prefix(address.rsplit(".", 2)[0] if address.startswith("module.") else None),
                                       str(resource["type"]), resource.get("values") or {}, {}, line_of(resource)))
        stack.extend(current.get("child_modules") or [])
    return found


def _module_prefix(module_address: Any) -> str:
    return f"{_INDEX.sub('', module_address)}." if isinstance(module_address, str) and module_address else ""


def _configuration_expressions(configuration: dict[str, Any]) -> dict[str, Any]:
    """config address (module path + type.name, no instance keys) -> the resource's expressions."""
    found: dict[str, Any] = {}
    stack: list[tuple[str, Any]] = [("", configuration.get("root_module") or {})]
    while stack:
        prefix, module = stack.pop()
        for resource in module.get("resources") or []:
            found[f"{prefix}{resource.get('address')}"] = resource.get("expressions") or {}
        for name, call in (module.get("module_calls") or {}).items():
            stack.append((f"{prefix}module.{name}.", call.get("module") or {}))
    return found


def _check_sections(document: dict[str, Any], path: Path) -> None:
    """The sections the loader walks have the shape `terraform show -json` gives them."""
    for key in ("configuration", "planned_values"):
        if not isinstance(document.get(key) or {}, dict):
            raise InputError(f"not a Terraform plan in JSON: '{key}' must be an object", path, line_of(document))
    changes = document.get("resource_changes")
    if changes is None:
        return
    if not isinstance(changes, list):
        raise InputError("not a Terraform plan in JSON: 'resource_changes' must be an array", path, line_of(document))
    for index, change in enumerate(changes):
        if not isinstance(change, dict) or not isinstance(change.get("change") or {}, dict):
            raise InputError(f"resource_changes[{index}] must be an object with a 'change' object", path,
                             line_of(change) or line_of(document))


def load_plan(path: Path, inventory: Inventory, subscription_id: str = DEFAULT_SUBSCRIPTION,
              resource_group: str = DEFAULT_RESOURCE_GROUP) -> None:
    if not path.is_file():
        raise InputError("no such plan file", path)
    document = read_json_with_lines(path)
    if not isinstance(document, dict) or "format_version" not in document or not (
            "resource_changes" in document or "planned_values" in document):
        raise InputError("not a Terraform plan in JSON: expected the output of `terraform show -json plan.out` "
                         "(with format_version and resource_changes)", path, line_of(document))
    _check_sections(document, path)
    plan = _Plan(path, document, subscription_id, resource_group)
    built = plan.resources()
    shaped = apply_deployed_shape([resource for resource, _ in built])
    for resource, (_, origin) in zip(shaped, built):
        inventory.add(resource, SOURCE, origin)
    for record in plan.coverage:
        inventory.add_coverage(record)
    inventory.sources.append({"kind": SOURCE, "location": str(path), "resources": len(built),
                              "terraform_version": document.get("terraform_version")})


OPTIONS = [
    click.Option(["--terraform-plan"], metavar="FILE", type=click.Path(dir_okay=False, path_type=str),
                 help="Terraform plan as JSON (`terraform show -json plan.out > plan.json`) to check before apply."),
]


def collect(params: dict[str, Any], inventory: Inventory) -> None:
    load_plan(Path(params["terraform_plan"]), inventory,
              subscription_id=params.get("iac_subscription_id") or DEFAULT_SUBSCRIPTION,
              resource_group=params.get("iac_resource_group") or DEFAULT_RESOURCE_GROUP)
