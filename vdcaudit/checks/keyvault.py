"""Key Vault separation of duties: applications may use keys; only declared key owners may change them."""

from __future__ import annotations

from typing import Any

from vdcaudit.armdata import as_bool, dig, props
from vdcaudit.checks import register_each
from vdcaudit.context import ScanContext
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

MALFORMED = "\0malformed"  # by_scope key of role assignments whose properties are not an object

HOW_TO_DECLARE = ("key owners are not declared: list their Entra object ids under `key_owners:` in "
                  "vdcaudit.yaml and pass --config vdcaudit.yaml")


def _policy_violations(vault: dict[str, Any], context: ScanContext) -> dict[str, list[str]]:
    violations: dict[str, list[str]] = {}
    policies = props(vault).get("accessPolicies") or []
    if not isinstance(policies, list):
        raise TypeError("properties.accessPolicies is not an array")
    for policy in policies:
        principal = str(dig(policy, "objectId") or "")
        keys = dig(policy, "permissions.keys") or []
        if not isinstance(keys, list):
            raise TypeError(f"permissions.keys of access policy {principal or '?'} is not an array")
        # Az PowerShell prints permissions as "Get", "All"; ARM as "get", "all".
        granted = {str(p).lower() for p in keys}
        managing = sorted(granted & KEY_MANAGEMENT_PERMISSIONS)
        if managing and not context.config.is_key_owner(principal):
            violations[principal] = managing
    return violations


def _assignments_by_scope(inventory: Inventory) -> dict[str, list[dict[str, Any]]]:
    """Role assignments keyed by their lower-case scope."""
    by_scope: dict[str, list[dict[str, Any]]] = {}
    for assignment in inventory.of_type("Microsoft.Authorization/roleAssignments"):
        try:
            scope = str(dig(assignment, "properties.scope") or "").lower().rstrip("/")
        except TypeError:
            # A malformed assignment cannot be placed; the vaults it might cover must not look clean.
            scope = MALFORMED

        if scope:
            by_scope.setdefault(scope, []).append(assignment)
    return by_scope


def _role_assignments(vault: dict[str, Any], by_scope: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Role assignments at the vault's scope or any scope above it (resource group, subscription)."""
    segments = vault["id"].lower().rstrip("/").split("/")
    scopes = ["/".join(segments[:end]) for end in range(2, len(segments) + 1)]
    found = [assignment for scope in scopes for assignment in by_scope.get(scope, [])]
    if by_scope.get(MALFORMED):
        names = ", ".join(str(a.get("name") or a.get("id")) for a in by_scope[MALFORMED])
        raise TypeError(f"role assignment(s) with malformed properties could apply to this vault: {names}")
    return found


def _rbac_violations(assignments: list[dict[str, Any]], context: ScanContext) -> dict[str, list[str]]:
    violations: dict[str, list[str]] = {}
    for assignment in assignments:
        role_guid = str(dig(assignment, "properties.roleDefinitionId") or "").rstrip("/").rsplit("/", 1)[-1].lower()
        principal = str(dig(assignment, "properties.principalId") or "")
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


@register_each("keyvault_key_owner_separation")
def key_owner_separation(rule: Rule, vault: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding:
    by_scope = inventory.derived("role-assignments-by-scope", _assignments_by_scope)
    role_assignments_read = bool(by_scope)
    settings = props(vault)
    rbac = as_bool(settings.get("enableRbacAuthorization")) is True
    evidence: dict[str, Any] = {"properties.enableRbacAuthorization": settings.get("enableRbacAuthorization")}
    if context.config.key_owners is None:
        return finding_for(rule, vault, Status.UNKNOWN, f"cannot assess: {HOW_TO_DECLARE}", evidence)
    if rbac:
        unread = _unread_role_assignments(vault, inventory)
        if unread:
            return finding_for(rule, vault, Status.UNKNOWN,
                               f"cannot assess: the vault uses Azure RBAC and role assignments in its "
                               f"subscription could not be read ({unread})", evidence)
        if not role_assignments_read:
            return finding_for(rule, vault, Status.UNKNOWN,
                               "cannot assess: the vault uses Azure RBAC and no role assignments were "
                               "collected (Microsoft.Authorization/roleAssignments)", evidence)
        violations = _rbac_violations(_role_assignments(vault, by_scope), context)
        model = "role assignments"
    else:
        if "accessPolicies" not in settings:
            return finding_for(rule, vault, Status.UNKNOWN,
                               "cannot assess: properties.accessPolicies absent from the resource data", evidence)
        violations = _policy_violations(vault, context)
        model = "access policies"
    evidence["principals with key-management rights who are not key owners"] = violations
    if violations:
        names = ", ".join(f"{p} ({', '.join(perms)})" for p, perms in sorted(violations.items()))
        return finding_for(rule, vault, Status.FAIL,
                           f"{model} let principals that are not declared key owners change keys: {names}",
                           evidence)
    return finding_for(rule, vault, Status.PASS,
                       f"only declared key owners can change keys ({model})", evidence)
