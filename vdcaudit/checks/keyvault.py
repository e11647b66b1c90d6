"""Key Vault separation of duties: applications may use keys; only declared key owners may change them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vdcaudit.checks import register, resources_for
from vdcaudit.model import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import Inventory, parse_scope
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule

# Key permissions that change keys (access-policy model). "all" is what Az PowerShell prints for
# every permission. Use permissions (get, list, wrapKey, unwrapKey, encrypt, decrypt, sign, verify,
# release, getrotationpolicy) are allowed for anyone.
KEY_MANAGEMENT_PERMISSIONS = {
    "all", "create", "import", "update", "delete", "purge", "recover", "backup", "restore",
    "rotate", "setrotationpolicy",
}

# Built-in roles whose data actions change keys (RBAC model), by role definition GUID.
KEY_MANAGEMENT_ROLES = {
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603": "Key Vault Crypto Officer",
}

HOW_TO_DECLARE = ("key owners are not declared: list their Entra object ids under `key_owners:` in "
                  "vdcaudit.yaml and pass --config vdcaudit.yaml")


def _policy_violations(vault: dict[str, Any], context: ScanContext) -> dict[str, list[str]]:
    violations: dict[str, list[str]] = {}
    for policy in (vault.get("properties") or {}).get("accessPolicies") or []:
        principal = str(policy.get("objectId", ""))
        granted = {str(p).lower() for p in ((policy.get("permissions") or {}).get("keys") or [])}
        managing = sorted(granted & KEY_MANAGEMENT_PERMISSIONS)
        if managing and not context.config.is_key_owner(principal):
            violations[principal] = managing
    return violations


def _assignments_by_scope(inventory: Inventory) -> dict[str, list[dict[str, Any]]]:
    """Role assignments keyed by their lower-case scope."""
    by_scope: dict[str, list[dict[str, Any]]] = {}
    for assignment in inventory.of_type("Microsoft.Authorization/roleAssignments"):
        scope = str((assignment.get("properties") or {}).get("scope", "")).lower().rstrip("/")
        if scope:
            by_scope.setdefault(scope, []).append(assignment)
    return by_scope


def _role_assignments(vault: dict[str, Any], by_scope: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Role assignments at the vault's scope or any scope above it (resource group, subscription)."""
    segments = vault["id"].lower().rstrip("/").split("/")
    scopes = ["/".join(segments[:end]) for end in range(2, len(segments) + 1)]
    return [assignment for scope in scopes for assignment in by_scope.get(scope, [])]


def _rbac_violations(assignments: list[dict[str, Any]], context: ScanContext) -> dict[str, list[str]]:
    violations: dict[str, list[str]] = {}
    for assignment in assignments:
        props = assignment.get("properties") or {}
        role_guid = str(props.get("roleDefinitionId", "")).rstrip("/").rsplit("/", 1)[-1].lower()
        principal = str(props.get("principalId", ""))
        if role_guid in KEY_MANAGEMENT_ROLES and not context.config.is_key_owner(principal):
            violations.setdefault(principal, []).append(KEY_MANAGEMENT_ROLES[role_guid])
    return violations


def _unread_role_assignments(vault: dict[str, Any], inventory: Inventory) -> str | None:
    """Why role assignments in the vault's subscription could not be read, if a source recorded
    it: assignments read elsewhere must not make this vault look clean."""
    subscription = parse_scope(vault["id"])[0]
    record = next((c for c in inventory.coverage
                   if c.covers(subscription, "Microsoft.Authorization/roleAssignments")), None)
    return record.reason if record else None


@register("keyvault_key_owner_separation")
def key_owner_separation(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    by_scope = inventory.derived("role-assignments-by-scope", _assignments_by_scope)
    role_assignments_read = bool(by_scope)
    for vault in resources_for(rule, inventory):
        props = vault.get("properties") or {}
        rbac = props.get("enableRbacAuthorization") is True
        evidence: dict[str, Any] = {"properties.enableRbacAuthorization": props.get("enableRbacAuthorization")}
        if context.config.key_owners is None:
            yield finding_for(rule, vault, Status.UNKNOWN, f"cannot assess: {HOW_TO_DECLARE}", evidence)
            continue
        if rbac:
            unread = _unread_role_assignments(vault, inventory)
            if unread:
                yield finding_for(rule, vault, Status.UNKNOWN,
                                  f"cannot assess: the vault uses Azure RBAC and role assignments in its "
                                  f"subscription could not be read ({unread})", evidence)
                continue
            if not role_assignments_read:
                yield finding_for(rule, vault, Status.UNKNOWN,
                                  "cannot assess: the vault uses Azure RBAC and no role assignments were "
                                  "collected (Microsoft.Authorization/roleAssignments)", evidence)
                continue
            violations = _rbac_violations(_role_assignments(vault, by_scope), context)
            model = "role assignments"
        else:
            if "accessPolicies" not in props:
                yield finding_for(rule, vault, Status.UNKNOWN,
                                  "cannot assess: properties.accessPolicies absent from the resource data", evidence)
                continue
            violations = _policy_violations(vault, context)
            model = "access policies"
        evidence["principals with key-management rights who are not key owners"] = violations
        if violations:
            names = ", ".join(f"{p} ({', '.join(perms)})" for p, perms in sorted(violations.items()))
            yield finding_for(rule, vault, Status.FAIL,
                              f"{model} let principals that are not declared key owners change keys: {names}",
                              evidence)
        else:
            yield finding_for(rule, vault, Status.PASS,
                              f"only declared key owners can change keys ({model})", evidence)
