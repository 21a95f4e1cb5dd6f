"""Real databases for the persistence and domain tests: SQLite files and PostgreSQL.

Loaded as a plugin from tests/conftest.py (`pytest_plugins`).
Tests that take `sessions` or `empty_database_url` run once per backend. PostgreSQL is
reached at BGONE_TEST_POSTGRES_URL (default: postgres@127.0.0.1:5432, trust auth); each test
session works in databases of its own, named bgone_test_<random>, dropped at the end.
Unreachable PostgreSQL skips those tests locally and fails them when CI=true.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, delete, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from bgone.db.engine import SessionFactory, make_engine, make_session_factory
from bgone.db.migrate import upgrade
from bgone.db.tables import (
    AccountRow,
    ApiKeyRow,
    AuditEventRow,
    CreditGrantRow,
    CreditPeriodRow,
    CreditsLowThresholdRow,
    IdempotencyKeyRow,
    ImproveSubmissionRow,
    InvitationRow,
    JobItemRow,
    JobRow,
    LeakReportRow,
    MembershipRow,
    OneTimeTokenRow,
    OperatorActionRow,
    OperatorRow,
    PeriodicClaimRow,
    PlanRequestRow,
    PlanRow,
    RecoveryCodeRow,
    ReplicaHeartbeatRow,
    TwoFactorChallengeRow,
    TwoFactorSecretRow,
    UnverifiedEmailRow,
    UsageRecordRow,
    UsageRollupRow,
    UserRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
    WebhookMarkerRow,
    WebhookSecretRow,
    WebSessionRow,
)
from tests.support.environment import require

POSTGRES_ADMIN_URL = os.environ.get(
    "BGONE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SQLITE = "sqlite"
POSTGRES = "postgresql"
# Children before parents, so foreign keys never block the clean-up between tests.
TABLES_TO_EMPTY = (
    PlanRequestRow,
    OperatorActionRow,
    WebhookDeliveryRow,
    WebhookSecretRow,
    WebhookEndpointRow,
    WebhookMarkerRow,
    CreditsLowThresholdRow,
    JobItemRow,
    JobRow,
    UsageRollupRow,
    UsageRecordRow,
    CreditPeriodRow,
    CreditGrantRow,
    AuditEventRow,
    ApiKeyRow,
    WebSessionRow,
    ImproveSubmissionRow,
    LeakReportRow,
    IdempotencyKeyRow,
    # A person's rows (users.id): emptied with the people, after the accounts.
    OneTimeTokenRow,
    UnverifiedEmailRow,
    TwoFactorChallengeRow,
    RecoveryCodeRow,
    TwoFactorSecretRow,
    InvitationRow,
    OperatorRow,
    JobItemRow,
    JobRow,
    MembershipRow,
    AccountRow,
    ReplicaHeartbeatRow,
    PeriodicClaimRow,
    UserRow,
)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """A connection to the server's maintenance database, for CREATE/DROP DATABASE."""
    engine = create_engine(
        POSTGRES_ADMIN_URL,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 3},
    )
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        engine.dispose()
        require(False, f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error.orig}")
    yield engine
    engine.dispose()


@contextmanager
def scratch_postgres_database(admin: Engine) -> Iterator[str]:
    name = f"bgone_test_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            # FORCE ends connections a failed test may have left open.
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(
    scope="session", params=[SQLITE, pytest.param(POSTGRES, marks=pytest.mark.postgres)]
)
def database_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


@pytest.fixture
def empty_database_url(
    database_backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A database with no tables at all, for migration tests."""
    if database_backend == SQLITE:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with scratch_postgres_database(request.getfixturevalue("postgres_admin")) as url:
        yield url


@pytest.fixture(scope="session")
def database_url(
    database_backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[str]:
    """One migrated database per backend for the whole test session."""
    with ExitStack() as stack:
        if database_backend == SQLITE:
            url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'bgone.db'}"
        else:
            admin = request.getfixturevalue("postgres_admin")
            url = stack.enter_context(scratch_postgres_database(admin))
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def seeded_plans(migrated_engine: Engine) -> list[dict[str, object]]:
    """The plans as the migration left them, to undo what a test changed."""
    with migrated_engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(PlanRow.__table__)).mappings()]


@pytest.fixture
def sessions(migrated_engine: Engine, seeded_plans: list[dict[str, object]]) -> SessionFactory:
    """A session factory on a migrated database holding only the seeded plans.

    Emptied before each test rather than rolled back after it, because the concurrency
    tests need really committed data across connections.
    """
    with migrated_engine.begin() as connection:
        for table in TABLES_TO_EMPTY:
            connection.execute(delete(table))
        connection.execute(delete(PlanRow))
        connection.execute(insert(PlanRow), seeded_plans)
    return make_session_factory(migrated_engine)
