"""Reading the console's form fields: numbers typed by an operator, empty meaning 'no change'."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from bgone.domain.credits import credits_to_milli
from bgone.domain.plan_limits import USE_PLAN_DEFAULT, LimitChanges
from bgone.domain.plans import PlanChanges
from bgone.errors import InvalidLimit

# Beyond any real limit, and within the 32-bit columns the limits are stored in.
LARGEST = 1_000_000_000


def _number(text: str, what: str) -> Decimal | None:
    cleaned = text.strip()
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation as error:
        raise InvalidLimit(f"{what} must be a number, got {cleaned[:40]!r}") from error
    if not value.is_finite() or value < 0 or value > LARGEST:
        raise InvalidLimit(f"{what} must be from 0 to {LARGEST:,}, got {cleaned[:40]!r}")
    return value


def whole(text: str, what: str) -> int | None:
    value = _number(text, what)
    if value is None:
        return None
    if value != value.to_integral_value():
        raise InvalidLimit(f"{what} must be a whole number, got {text.strip()[:40]!r}")
    return int(value)


def decimal_number(text: str, what: str) -> float | None:
    value = _number(text, what)
    return None if value is None else float(value)


def credits_milli(text: str, what: str) -> int | None:
    value = _number(text, what)
    if value is None:
        return None
    try:
        return credits_to_milli(value)
    except ValueError as error:
        raise InvalidLimit(str(error)) from error


def limit_changes(
    rate_per_minute: str, monthly_credits: str, max_megapixels: str, max_keys: str, reset: bool
) -> LimitChanges:
    if reset:
        return LimitChanges(USE_PLAN_DEFAULT, USE_PLAN_DEFAULT, USE_PLAN_DEFAULT, USE_PLAN_DEFAULT)
    return LimitChanges(
        rate_per_minute=whole(rate_per_minute, "the rate"),
        monthly_credits_milli=credits_milli(monthly_credits, "the monthly credits"),
        max_megapixels=decimal_number(max_megapixels, "the max megapixels"),
        max_keys=whole(max_keys, "the max keys"),
    )


def plan_changes(fields: dict[str, str], api_access: bool) -> PlanChanges:
    return PlanChanges(
        api_access=api_access,
        rate_per_minute=whole(fields["rate_per_minute"], "the rate"),
        staging_rate_per_minute=whole(fields["staging_rate_per_minute"], "the staging rate"),
        monthly_credits_milli=credits_milli(fields["monthly_credits"], "the monthly credits"),
        max_megapixels=decimal_number(fields["max_megapixels"], "the max megapixels"),
        max_keys=whole(fields["max_keys"], "the max keys"),
    )
