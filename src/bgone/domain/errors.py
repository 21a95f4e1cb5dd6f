"""Errors raised by the business rules, each with the HTTP status and code it maps to."""

from __future__ import annotations

from bgone.errors import BgoneError


class MissingApiKey(BgoneError):
    status = 401
    code = "missing_api_key"
    title = "Missing API key"


class InvalidApiKey(BgoneError):
    status = 401
    code = "invalid_api_key"
    title = "Invalid API key"


class RevokedApiKey(BgoneError):
    status = 401
    code = "revoked_api_key"
    title = "Revoked API key"


class ExpiredApiKey(BgoneError):
    status = 401
    code = "expired_api_key"
    title = "Expired API key"


class InsufficientCredits(BgoneError):
    status = 402
    code = "insufficient_credits"
    title = "Insufficient credits"


class PlanWithoutApiAccess(BgoneError):
    status = 403
    code = "plan_without_api_access"
    title = "Plan without API access"


class AccountSuspended(BgoneError):
    status = 403
    code = "account_suspended"
    title = "Account suspended"


class KeyLimitReached(BgoneError):
    status = 403
    code = "key_limit_reached"
    title = "API key limit reached"


class NotFound(BgoneError):
    status = 404
    code = "not_found"
    title = "Not found"


class AccountExists(BgoneError):
    status = 409
    code = "account_exists"
    title = "Account already exists"


class KeyNotActive(BgoneError):
    """Rotating a key that is already revoked, expired or replaced."""

    status = 409
    code = "key_not_active"
    title = "API key not active"


class InvalidEnvironment(BgoneError):
    code = "invalid_environment"
    title = "Invalid environment"


class InvalidKeyName(BgoneError):
    code = "invalid_key_name"
    title = "Invalid key name"


class InvalidGracePeriod(BgoneError):
    code = "invalid_grace_period"
    title = "Invalid grace period"


class InvalidEmail(BgoneError):
    code = "invalid_email"
    title = "Invalid email"


class InvalidLimit(BgoneError):
    code = "invalid_limit"
    title = "Invalid limit"


class UnknownPlan(BgoneError):
    code = "unknown_plan"
    title = "Unknown plan"


class InvalidAccountStatus(BgoneError):
    code = "invalid_account_status"
    title = "Invalid account status"


class InvalidExpiry(BgoneError):
    code = "invalid_expiry"
    title = "Invalid expiry"


class InvalidOrigin(BgoneError):
    code = "invalid_origin"
    title = "Invalid origin"
