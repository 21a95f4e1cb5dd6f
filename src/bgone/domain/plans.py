"""Plans: the default limits an account gets unless the operator overrides them."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from bgone.db.tables import PlanRow
from bgone.errors import InvalidLimit, UnknownPlan, quoted


@dataclass(frozen=True)
class Plan:
    name: str
    display_name: str
    api_access: bool
    rate_per_minute: int
    staging_rate_per_minute: int
    monthly_credits_milli: int
    max_megapixels: float
    max_keys: int


@dataclass(frozen=True)
class PlanChanges:
    """An operator's edit of a plan; None leaves that field as it is.

    Field names match the `plans` columns, which `update_plan` relies on.
    """

    display_name: str | None = None
    api_access: bool | None = None
    rate_per_minute: int | None = None
    staging_rate_per_minute: int | None = None
    monthly_credits_milli: int | None = None
    max_megapixels: float | None = None
    max_keys: int | None = None


NUMERIC_FIELDS = frozenset(
    {
        "rate_per_minute",
        "staging_rate_per_minute",
        "monthly_credits_milli",
        "max_megapixels",
        "max_keys",
    }
)


def plan_from_row(row: PlanRow) -> Plan:
    return Plan(
        name=row.name,
        display_name=row.display_name,
        api_access=row.api_access,
        rate_per_minute=row.rate_per_minute,
        staging_rate_per_minute=row.staging_rate_per_minute,
        monthly_credits_milli=row.monthly_credits_milli,
        max_megapixels=row.max_megapixels,
        max_keys=row.max_keys,
    )


def require_non_negative(field: str, value: float | None) -> None:
    if value is not None and value < 0:
        raise InvalidLimit(f"{field} must be zero or more, got {value}")


def get_plan(session: Session, name: str) -> Plan:
    row = session.get(PlanRow, name)
    if row is None:
        raise UnknownPlan(f"no plan named {quoted(name)}")
    return plan_from_row(row)


def list_plans(session: Session) -> list[Plan]:
    # Cheapest first reads naturally in listings and pricing pages.
    rows = session.scalars(select(PlanRow).order_by(PlanRow.monthly_credits_milli, PlanRow.name))
    return [plan_from_row(row) for row in rows]


def update_plan(session: Session, name: str, changes: PlanChanges) -> Plan:
    """Change a plan's defaults; every account on it without an override follows."""
    row = session.get(PlanRow, name, with_for_update=True)
    if row is None:
        raise UnknownPlan(f"no plan named {quoted(name)}")
    for field in fields(changes):
        value = getattr(changes, field.name)
        if value is None:
            continue
        if field.name in NUMERIC_FIELDS:
            require_non_negative(field.name, value)
        setattr(row, field.name, value)
    session.flush()
    return plan_from_row(row)
