"""What an account may do: its plan's values, each overridable per account."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from bgone.domain.plans import Plan


class UsePlanDefault(Enum):
    """Marker for "remove the override", distinct from None ("leave as it is")."""

    USE_PLAN_DEFAULT = "use_plan_default"


USE_PLAN_DEFAULT = UsePlanDefault.USE_PLAN_DEFAULT
T = TypeVar("T", int, float)


@dataclass(frozen=True)
class LimitOverrides:
    """An account's own limits as stored; None means "the plan's value"."""

    rate_per_minute: int | None = None
    monthly_credits_milli: int | None = None
    max_megapixels: float | None = None
    max_keys: int | None = None


@dataclass(frozen=True)
class LimitChanges:
    """An operator's edit of an account's overrides.

    None keeps the current override, USE_PLAN_DEFAULT removes it, a number sets it. Field
    names match LimitOverrides and the `accounts` columns.
    """

    rate_per_minute: int | UsePlanDefault | None = None
    monthly_credits_milli: int | UsePlanDefault | None = None
    max_megapixels: float | UsePlanDefault | None = None
    max_keys: int | UsePlanDefault | None = None


@dataclass(frozen=True)
class Limits:
    """The limits in force for an account: override if set, else the plan's value."""

    api_access: bool
    rate_per_minute: int
    staging_rate_per_minute: int
    monthly_credits_milli: int
    max_megapixels: float
    max_keys: int


def _pick(override: T | None, default: T) -> T:
    return default if override is None else override


def resolve_limits(plan: Plan, overrides: LimitOverrides) -> Limits:
    rate_per_minute = _pick(overrides.rate_per_minute, plan.rate_per_minute)
    return Limits(
        api_access=plan.api_access,
        rate_per_minute=rate_per_minute,
        # Staging traffic is throttled by plan (it is for integration tests), but never
        # above the account's own production rate: an account held to 5 a minute, or a
        # plan edited with a staging rate above its rate, must not get more through staging.
        staging_rate_per_minute=min(plan.staging_rate_per_minute, rate_per_minute),
        monthly_credits_milli=_pick(overrides.monthly_credits_milli, plan.monthly_credits_milli),
        max_megapixels=_pick(overrides.max_megapixels, plan.max_megapixels),
        max_keys=_pick(overrides.max_keys, plan.max_keys),
    )
