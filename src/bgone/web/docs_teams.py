"""/docs/teams' permission table, read from THE table (bgone.domain.roles.GRANTS), so the
page cannot say one thing while the server enforces another."""

from __future__ import annotations

from dataclasses import dataclass

from bgone.domain.roles import GRANTS, Caller, KeyScope, Permission, Role

# What each permission lets a caller do, in the customer's words.
PERMISSION_TEXT: dict[Permission, str] = {
    Permission.VIEW_ACCOUNT: "See plan, usage and credits",
    Permission.VIEW_AUDIT_LOG: "Read the audit log",
    Permission.VIEW_KEYS: "See the key list (every key's metadata, never a secret)",
    Permission.CREATE_KEY: "Create remove keys",
    Permission.CREATE_MANAGE_KEY: "Create manage keys",
    Permission.MANAGE_OWN_KEYS: "Rotate and revoke the keys one created",
    Permission.MANAGE_ANY_KEY: "Rotate and revoke any key of the account",
    Permission.SET_ORIGINS: "Allow browser origins",
    Permission.VIEW_MEMBERS: "See the members",
    Permission.MANAGE_MEMBERS: "Invite, change and remove members up to admin",
    Permission.MANAGE_OWNERS: "Make or unmake owners, transfer ownership",
    Permission.VIEW_LEAK_REPORTS: "See and dismiss leaked-key banners",
    Permission.SET_LEAK_ACTION: "Choose 'warn only' for leaked keys",
    Permission.SET_TWO_FACTOR_POLICY: "Require two-factor of every member",
    Permission.RESET_MEMBER_TWO_FACTOR: "Reset a member's second factor",
    Permission.DELETE_ACCOUNT: "Delete the account",
    Permission.REQUEST_PLAN: "Ask the operator for another plan (API access)",
    Permission.MANAGE_WEBHOOKS: "Register, change and remove webhook endpoints",
}

COLUMNS: tuple[tuple[Caller, str], ...] = (
    (Role.OWNER, "owner"),
    (Role.ADMIN, "admin"),
    (Role.DEVELOPER, "developer"),
    (Role.VIEWER, "viewer"),
    (KeyScope.MANAGE, "manage key"),
    (KeyScope.REMOVE, "remove key"),
)


@dataclass(frozen=True)
class PermissionRow:
    text: str
    allowed: tuple[bool, ...]  # in the order of COLUMNS


def permission_rows() -> list[PermissionRow]:
    return [
        PermissionRow(
            PERMISSION_TEXT[permission], tuple(permission in GRANTS[c] for c, _ in COLUMNS)
        )
        for permission in Permission
    ]
