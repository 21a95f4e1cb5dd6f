from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from bgone.db.engine import make_engine
from bgone.db.migrate import alembic_config, current_revision, head_revision, upgrade
from bgone.db.tables import Base, PlanRow

EXPECTED_TABLES = {
    "plans",
    "accounts",
    "api_keys",
    "audit_events",
    "credit_periods",
    "usage_records",
    "users",
    "memberships",
    "invitations",
    "web_sessions",
}


def test_upgrade_from_empty_to_head(empty_database_url: str) -> None:
    assert current_revision(empty_database_url) is None

    upgrade(empty_database_url)

    assert current_revision(empty_database_url) == head_revision() == "0015"
    engine = make_engine(empty_database_url)
    try:
        assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)

    assert current_revision(empty_database_url) == head_revision()


def test_migrated_schema_matches_the_models(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_initial_migration_seeds_the_default_plans(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            plans = {row.name: row for row in connection.execute(select(PlanRow.__table__))}
    finally:
        engine.dispose()

    assert set(plans) == {"starter", "business", "enterprise"}
    starter, business, enterprise = plans["starter"], plans["business"], plans["enterprise"]
    assert (starter.api_access, starter.rate_per_minute, starter.monthly_credits_milli) == (
        False,
        0,
        0,
    )
    assert (
        business.api_access,
        business.rate_per_minute,
        business.staging_rate_per_minute,
        business.monthly_credits_milli,
        business.max_megapixels,
        business.max_keys,
    ) == (True, 500, 20, 1_000_000, 25.0, 10)
    assert (
        enterprise.api_access,
        enterprise.rate_per_minute,
        enterprise.staging_rate_per_minute,
        enterprise.monthly_credits_milli,
        enterprise.max_megapixels,
        enterprise.max_keys,
    ) == (True, 2000, 60, 10_000_000, 50.0, 50)


def test_downgrade_to_base_removes_every_table(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            config = alembic_config(empty_database_url)
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
            connection.commit()
        assert not EXPECTED_TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert current_revision(empty_database_url) is None
