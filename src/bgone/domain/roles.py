"""Who may do what in an account: THE permission table, for members and for API keys.

Every front end asks one question, `allows(caller, permission)`, where the caller is a
member's role or an API key's scope; the answers are this table, nowhere else. Two rules
need more than the table and live with the data they read: a developer rotates and revokes
only the keys they created (`bgone.services.keys`), and an admin manages members only up to
admin, while at least one owner always remains (`bgone.domain.members`).
"""

from __future__ import annotations

from enum import StrEnum

from bgone.errors import InsufficientRole, InvalidRole


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    DEVELOPER = "developer"
    VIEWER = "viewer"


class KeyScope(StrEnum):
    REMOVE = "remove"  # removal endpoints and /v1/account
    MANAGE = "manage"  # also key management (/api/keys, /api/audit-log)


class Permission(StrEnum):
    VIEW_ACCOUNT = "view_account"  # plan, usage, credits
    VIEW_AUDIT_LOG = "view_audit_log"
    VIEW_KEYS = "view_keys"  # every key's metadata
    CREATE_KEY = "create_key"  # a `remove` key
    CREATE_MANAGE_KEY = "create_manage_key"
    MANAGE_OWN_KEYS = "manage_own_keys"  # rotate and revoke the keys one created
    MANAGE_ANY_KEY = "manage_any_key"  # rotate and revoke all of the account's keys
    SET_ORIGINS = "set_origins"
    VIEW_MEMBERS = "view_members"
    MANAGE_MEMBERS = "manage_members"  # add, change and remove members up to admin
    MANAGE_OWNERS = "manage_owners"  # make or unmake owners (ownership transfer)
    VIEW_LEAK_REPORTS = "view_leak_reports"  # the leaked-key banner, and dismissing it
    SET_LEAK_ACTION = "set_leak_action"  # 'warn only' instead of revoking a leaked key
    SET_TWO_FACTOR_POLICY = "set_two_factor_policy"  # members must use two-factor
    RESET_MEMBER_TWO_FACTOR = "reset_member_two_factor"  # remove a member's second factor
    DELETE_ACCOUNT = "delete_account"  # close the account: keys revoked, members out
    REQUEST_PLAN = "request_plan"  # ask the operator for another plan (API access)
    MANAGE_WEBHOOKS = "manage_webhooks"  # endpoints, secrets, deliveries, credits.low


P = Permission
_EVERYONE = {P.VIEW_ACCOUNT, P.VIEW_AUDIT_LOG}
_DEVELOPER = _EVERYONE | {P.VIEW_KEYS, P.CREATE_KEY, P.MANAGE_OWN_KEYS, P.VIEW_MEMBERS}
_ADMIN = _DEVELOPER | {
    P.CREATE_MANAGE_KEY,
    P.MANAGE_ANY_KEY,
    P.SET_ORIGINS,
    P.MANAGE_MEMBERS,
    P.VIEW_LEAK_REPORTS,
    P.REQUEST_PLAN,
    P.MANAGE_WEBHOOKS,
}
# The account's security policies, and a member's second factor, are the owners' alone.
_OWNER = _ADMIN | {
    P.MANAGE_OWNERS,
    P.SET_LEAK_ACTION,
    P.SET_TWO_FACTOR_POLICY,
    P.RESET_MEMBER_TWO_FACTOR,
    P.DELETE_ACCOUNT,
}

Caller = Role | KeyScope

GRANTS: dict[Caller, frozenset[Permission]] = {
    Role.OWNER: frozenset(_OWNER),
    Role.ADMIN: frozenset(_ADMIN),
    Role.DEVELOPER: frozenset(_DEVELOPER),
    Role.VIEWER: frozenset(_EVERYONE | {P.VIEW_MEMBERS}),
    # A manage key is an owner's or admin's automation: keys and their audit log, webhooks, no
    # members.
    KeyScope.MANAGE: frozenset(
        {
            P.VIEW_ACCOUNT,
            P.VIEW_AUDIT_LOG,
            P.VIEW_KEYS,
            P.CREATE_KEY,
            P.CREATE_MANAGE_KEY,
            P.MANAGE_ANY_KEY,
            P.MANAGE_WEBHOOKS,
        }
    ),
    KeyScope.REMOVE: frozenset({P.VIEW_ACCOUNT}),
}

# The operator's CLI acts for the server's owner: everything.
EVERYTHING = frozenset(Permission)


def allows(caller: Caller, permission: Permission) -> bool:
    return permission in GRANTS[caller]


def require(granted: frozenset[Permission], permission: Permission, what: str) -> None:
    if permission not in granted:
        raise InsufficientRole(f"your role in this account does not allow {what}")


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError as error:
        choices = ", ".join(role.value for role in Role)
        raise InvalidRole(f"role must be one of: {choices}") from error


def parse_scope(value: str) -> KeyScope:
    try:
        return KeyScope(value.strip().lower())
    except ValueError as error:
        choices = ", ".join(scope.value for scope in KeyScope)
        raise InvalidRole(f"scope must be one of: {choices}") from error
