"""The schema, as SQLAlchemy 2 declarative tables.

Migrations under `migrations/versions` are the source of truth for existing databases; a
test compares a migrated database against these classes so the two cannot drift apart.
Credits are integer milli-credits (1 credit = 1000) so that sums are exact.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bgone.db.types import BigIntegerId, UtcDateTime

# Deterministic constraint names: Alembic needs names to alter constraints later, and
# SQLite's batch mode rebuilds tables by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

EMAIL_LENGTH = 320
# Who changed a key, as stored: "dashboard:" and an email of EMAIL_LENGTH is the longest
# today ("key:key_…", "operator (cli)", "api" are short); the rest leaves room for a prefix.
ACTOR_LENGTH = EMAIL_LENGTH + 32
IP_LENGTH = 45  # the longest textual IPv6 address
KEY_ID_LENGTH = 20  # "key_" + 16 base62 characters
KEY_NAME_LENGTH = 100
IMPROVE_ID_LENGTH = 20  # "imp_" + 16 base62 characters
IMPROVE_TEXT_LENGTH = 255  # an improve submission's tag and file name
USER_AGENT_LENGTH = 255  # longer User-Agent headers are cut, not refused


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PlanRow(Base):
    __tablename__ = "plans"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    api_access: Mapped[bool]
    rate_per_minute: Mapped[int] = mapped_column(Integer)
    staging_rate_per_minute: Mapped[int] = mapped_column(Integer)
    monthly_credits_milli: Mapped[int] = mapped_column(BigInteger)
    max_megapixels: Mapped[float] = mapped_column(Float)
    max_keys: Mapped[int] = mapped_column(Integer)


class AccountRow(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended')", name="status"),
        # Uniqueness is only meaningful if every writer stores the same case.
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("leaked_key_action IN ('revoke', 'warn')", name="leaked_key_action"),
    )
    # Server defaults (leaked_key_action's) are not read back after an INSERT.
    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012 - SQLAlchemy's own dict

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The founding owner's email: how operators name the account. People log in as users.
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    # Unused since migration 0007 (emptied there): passwords belong to users now.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    plan: Mapped[str] = mapped_column(ForeignKey("plans.name"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # NULL means "the plan's value"; a number is a per-account override.
    rate_per_minute: Mapped[int | None] = mapped_column(Integer)
    monthly_credits_milli: Mapped[int | None] = mapped_column(BigInteger)
    max_megapixels: Mapped[float | None] = mapped_column(Float)
    max_keys: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Browser origins allowed to send this account's keys, space-separated; NULL for none.
    allowed_origins: Mapped[str | None] = mapped_column(Text)
    # What a key reported as leaked gets (bgone.domain.leaks): "revoke" at once, or "warn"
    # (flagged on the account page, still working). Deferred, with only a server default:
    # read where it matters, never loaded or inserted with the rest of the row.
    leaked_key_action: Mapped[str] = mapped_column(
        String(16), server_default="revoke", deferred=True
    )
    # 'Members must use two-factor' (0010, bgone.domain.two_factor): deferred like the above.
    require_two_factor: Mapped[bool] = mapped_column(
        Boolean, server_default=text("false"), deferred=True
    )
    # Pay-as-you-go credits (0012, bgone.domain.credits): granted, never reset monthly, spent
    # after the month's. Only ever changed by conditional UPDATEs, never through the ORM.
    payg_milli: Mapped[int] = mapped_column(BigInteger, server_default=text("0"), deferred=True)
    # Why the operator suspended the account, shown to the customer (0012). Deferred: read
    # only for a suspended account.
    # A server default (NULL), so that inserts leave it out, as for the columns above.
    status_reason: Mapped[str | None] = mapped_column(
        Text, server_default=text("NULL"), deferred=True
    )


class UserRow(Base):
    """A person with a login; belongs to accounts through memberships."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MembershipRow(Base):
    """A person's role in an account (bgone.domain.members.Role)."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint("role IN ('owner', 'admin', 'developer', 'viewer')", name="role"),
        Index("ix_memberships_user_id", "user_id"),
    )

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InvitationRow(Base):
    """An invitation to join an account: a single-use link (only its SHA-256 is kept)."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("role IN ('owner', 'admin', 'developer', 'viewer')", name="role"),
        Index("ix_invitations_account_id", "account_id"),
    )

    id: Mapped[str] = mapped_column(String(KEY_ID_LENGTH), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("environment IN ('production', 'staging')", name="environment"),
        Index("ix_api_keys_account_id_created_at", "account_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(KEY_ID_LENGTH), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(KEY_NAME_LENGTH))
    environment: Mapped[str] = mapped_column(String(16))
    display: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash_version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    # The member who created it (not a foreign key: keys outlive memberships); NULL for
    # keys made by the operator or by another key.
    created_by_user_id: Mapped[int | None] = mapped_column(Integer)
    # "remove" (removals and /v1/account) or "manage" (also key management).
    scope: Mapped[str] = mapped_column(String(16), default="remove", server_default="remove")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_ip: Mapped[str | None] = mapped_column(String(IP_LENGTH))
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    replaced_by: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_account_id_at", "account_id", "at"),
        Index("ix_audit_events_key_id_at", "key_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntegerId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    action: Mapped[str] = mapped_column(String(32))
    # Deliberately not a foreign key: the audit trail must outlive whatever it mentions.
    key_id: Mapped[str | None] = mapped_column(String(KEY_ID_LENGTH))
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    ip: Mapped[str | None] = mapped_column(String(IP_LENGTH))
    detail: Mapped[str] = mapped_column(Text, default="")


class CreditPeriodRow(Base):
    __tablename__ = "credit_periods"
    __table_args__ = (
        CheckConstraint("used_milli >= 0", name="used_not_negative"),
        CheckConstraint("reserved_milli >= 0", name="reserved_not_negative"),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # "YYYY-MM", UTC
    included_milli: Mapped[int] = mapped_column(BigInteger)
    used_milli: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_milli: Mapped[int] = mapped_column(BigInteger, default=0)


class UsageRecordRow(Base):
    __tablename__ = "usage_records"
    __table_args__ = (
        Index("ix_usage_records_account_id_at", "account_id", "at"),
        # Pending rows (status 0, see domain/metering.py) are swept for stale ones every
        # minute: a partial index keeps that sweep off the whole table.
        Index(
            "ix_usage_records_pending_at",
            "at",
            sqlite_where=text("status = 0"),
            postgresql_where=text("status = 0"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntegerId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    # Nullable: requests that fail authentication are recorded too, against no account.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    key_id: Mapped[str | None] = mapped_column(String(KEY_ID_LENGTH))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    endpoint: Mapped[str] = mapped_column(String(100))
    status: Mapped[int] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(64))
    credits_milli: Mapped[int] = mapped_column(BigInteger, default=0)
    megapixels: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    # A pending row's reservation: how much of it came from pay-as-you-go credits (0012).
    payg_milli: Mapped[int] = mapped_column(BigInteger, server_default=text("0"), deferred=True)


class UsageRollupRow(Base):
    """Final usage rows summed per account, key, UTC day, endpoint and status (0011).

    Kept by the usage writer in the transaction that writes the rows (domain/usage_rollup.py),
    so that `GET /v1/usage` reads a month in a few thousand rows instead of a million.
    Pending rows (requests still running) are left out until their final row settles them.
    `key_id` is '' for rows without a key: a NULL would defeat the unique key's upsert.
    """

    __tablename__ = "usage_rollup"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(KEY_ID_LENGTH), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    requests: Mapped[int] = mapped_column(BigInteger)
    credits_milli: Mapped[int] = mapped_column(BigInteger)
    megapixels: Mapped[float] = mapped_column(Float)


class WebSessionRow(Base):
    """A signed-in dashboard session. The cookie holds a random token; only its hash is kept.
    It belongs to a person and is, at any moment, in one of their accounts."""

    __tablename__ = "web_sessions"
    __table_args__ = (
        Index("ix_web_sessions_account_id", "account_id"),
        Index("ix_web_sessions_user_id", "user_id"),
    )

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ip: Mapped[str | None] = mapped_column(String(IP_LENGTH))
    # For the owner's sessions list (0008): the browser as it named itself, and when the
    # session was last used (updated at most every few minutes).
    user_agent: Mapped[str | None] = mapped_column(String(USER_AGENT_LENGTH))
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ShownOnceSecretRow(Base):
    """A new key's secret waiting to be shown once, on the page after the generate or rotate
    form (0013): bound to the web session, sealed with its token (bgone.security.sealing),
    deleted when shown, useless after `expires_at`."""

    __tablename__ = "shown_once_secrets"

    token_hash: Mapped[str] = mapped_column(
        ForeignKey("web_sessions.token_hash", ondelete="CASCADE"), primary_key=True
    )
    sealed: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(KEY_ID_LENGTH))
    environment: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(KEY_NAME_LENGTH))
    # Set after a rotation: the key replaced and how long it keeps working (the form's text).
    rotated_from: Mapped[str | None] = mapped_column(String(KEY_ID_LENGTH))
    rotated_grace: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ImproveSubmissionRow(Base):
    """An image submitted to remove.bg's `/v1.0/improve`, kept for the operator to look at.

    The file lies under the data directory as `stored_name`; the row says whose it is.
    """

    __tablename__ = "improve_submissions"
    # The daily limit counts an account's submissions since midnight (UTC).
    __table_args__ = (Index("ix_improve_submissions_account_id_at", "account_id", "at"),)

    id: Mapped[str] = mapped_column(String(IMPROVE_ID_LENGTH), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    key_id: Mapped[str] = mapped_column(String(KEY_ID_LENGTH))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    tag: Mapped[str | None] = mapped_column(String(IMPROVE_TEXT_LENGTH))
    filename: Mapped[str | None] = mapped_column(String(IMPROVE_TEXT_LENGTH))
    stored_name: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))


class LeakReportRow(Base):
    """A real key reported as leaked (POST /v1/keys/leaked): the account page's banner.

    Reports of unknown or malformed keys leave no row; the audit log has the event too.
    """

    __tablename__ = "leak_reports"
    __table_args__ = (
        CheckConstraint("outcome IN ('revoked', 'flagged', 'already_revoked')", name="outcome"),
        Index("ix_leak_reports_account_id_reported_at", "account_id", "reported_at"),
    )

    id: Mapped[int] = mapped_column(BigIntegerId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    # Not a foreign key, like the audit log's: the report outlives the key.
    key_id: Mapped[str] = mapped_column(String(KEY_ID_LENGTH))
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Where the reporter found the key (GitHub's `url`); NULL when none was given.
    source_url: Mapped[str | None] = mapped_column(Text)
    # Who reported, as the reporter said: e.g. "github:content", "plain".
    source: Mapped[str] = mapped_column(String(64))
    reporter_ip: Mapped[str | None] = mapped_column(String(IP_LENGTH))
    outcome: Mapped[str] = mapped_column(String(16))
    dismissed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OneTimeTokenRow(Base):
    """A single-use link's token (password reset, email verification) for a person; only its
    hash is kept."""

    __tablename__ = "one_time_tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('password_reset', 'email_verification')", name="purpose"),
        Index("ix_one_time_tokens_user_id", "user_id"),
    )

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The address the link was sent to: a verification proves that address, no other.
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UnverifiedEmailRow(Base):
    """A person whose email is not yet proven (signed up while the server sends mail).

    No row means nothing to prove: people made before 0008, by the operator, or while
    no mailer was configured."""

    __tablename__ = "unverified_emails"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    since: Mapped[datetime] = mapped_column(UtcDateTime)


class TwoFactorSecretRow(Base):
    """A TOTP secret (bgone.domain.two_factor); `confirmed_at` NULL while still enrolling.

    Keyed by person (users.id): the second factor is theirs in every account. The secret is
    stored as is: no encryption key setting exists yet (see the module's notes)."""

    __tablename__ = "two_factor_secrets"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The last time step whose code was accepted: no code of that step or before is again.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCodeRow(Base):
    """A one-time recovery code; only its SHA-256 is kept (the codes carry 80 random bits)."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigIntegerId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TwoFactorChallengeRow(Base):
    """The half-signed-in state between the password and the code: short-lived, bound to a
    cookie whose token is kept here only as its hash."""

    __tablename__ = "two_factor_challenges"
    __table_args__ = (Index("ix_two_factor_challenges_user_id", "user_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    next_path: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CreditGrantRow(Base):
    """Pay-as-you-go credits given to an account (0012): the ledger behind `payg_milli`."""

    __tablename__ = "credit_grants"
    __table_args__ = (
        CheckConstraint("kind IN ('grant', 'trial')", name="kind"),
        Index("ix_credit_grants_account_id_at", "account_id", "at"),
        Index(
            "ix_credit_grants_trial_once",
            "account_id",
            unique=True,
            sqlite_where=text("kind = 'trial'"),
            postgresql_where=text("kind = 'trial'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntegerId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    milli: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    reason: Mapped[str] = mapped_column(Text)


class ReplicaHeartbeatRow(Base):
    """One row per server process, rewritten every few seconds (0012, bgone.domain.fleet)."""

    __tablename__ = "replica_heartbeats"

    replica_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    hostname: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    queue_depth: Mapped[int] = mapped_column(Integer)
    pool_use: Mapped[str] = mapped_column(Text)  # JSON: each pool's use
    models: Mapped[str] = mapped_column(Text)  # the models loaded, space-separated


class PeriodicClaimRow(Base):
    """Which consumer ran a periodic task's slot (0014, bgone.domain.periodic_claims).

    Every Huey consumer enqueues its periodic tasks; the first to insert the slot's row runs
    it, so a task fires once per slot however many consumers are up.
    """

    __tablename__ = "periodic_claims"

    task_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    slot: Mapped[str] = mapped_column(String(40), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdempotencyKeyRow(Base):
    """An `Idempotency-Key` an account sent and the first answer to it (0017,
    bgone.domain.idempotency): a retry with the key gets that answer again until
    `expires_at`, and is never run (or charged) a second time."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        CheckConstraint("state IN ('running', 'answered', 'too_large')", name="state"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the key
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the parsed request
    state: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(32))  # the running request's claim token
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[str | None] = mapped_column(Text)  # JSON: [[name, value], ...]
    body: Mapped[bytes | None] = mapped_column(LargeBinary)


class OperatorRow(Base):
    """A person with the operator flag (0018): every /admin page and action needs it."""

    __tablename__ = "operators"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    added_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))


class OperatorActionRow(Base):
    """The global audit log (0018): every operator action, from the console or the CLI.

    Its own table rather than audit_events with a nullable account: plan edits and operator
    changes concern no account, and each account's log stays what its customers see. No
    foreign key on `account_id`: the log outlives what it mentions."""

    __tablename__ = "operator_actions"
    __table_args__ = (
        Index("ix_operator_actions_at", "at"),
        Index("ix_operator_actions_account_id_at", "account_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntegerId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    action: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str | None] = mapped_column(String(IP_LENGTH))
    detail: Mapped[str] = mapped_column(Text, default="")


class PlanRequestRow(Base):
    """A customer's request to move to a plan (0018), answered by an operator."""

    __tablename__ = "plan_requests"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'approved', 'declined')", name="state"),
        Index("ix_plan_requests_account_id_requested_at", "account_id", "requested_at"),
        Index("ix_plan_requests_state_requested_at", "state", "requested_at"),
        # One request waits per account, however many members ask at once.
        Index(
            "ix_plan_requests_one_pending",
            "account_id",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntegerId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    plan: Mapped[str] = mapped_column(ForeignKey("plans.name"))
    purpose: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


WEBHOOK_ID_LENGTH = 20  # "whe_" + 16 base62 characters
WEBHOOK_URL_LENGTH = 2048


class WebhookEndpointRow(Base):
    """Where an account's events are posted (0016, bgone.domain.webhook_endpoints)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_account_id", "account_id"),)

    id: Mapped[str] = mapped_column(String(WEBHOOK_ID_LENGTH), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    url: Mapped[str] = mapped_column(String(WEBHOOK_URL_LENGTH))
    event_types: Mapped[str] = mapped_column(Text)  # space-separated
    enabled: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The first failed attempt since the last success: 3 days of failures disable it.
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebhookSecretRow(Base):
    """An endpoint's signing secret, sealed under the server secret (never in clear).

    A rotation gives the old secret an end (`expires_at`); until then deliveries carry a
    signature by each, so receivers can switch without a gap."""

    __tablename__ = "webhook_secrets"
    __table_args__ = (Index("ix_webhook_secrets_endpoint_id", "endpoint_id"),)

    id: Mapped[int] = mapped_column(BigIntegerId, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebhookDeliveryRow(Base):
    """One event for one endpoint, and how its attempts went (the endpoint's delivery log)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'succeeded', 'failed', 'cancelled')", name="state"),
        Index("ix_webhook_deliveries_endpoint_id_created_at", "endpoint_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntegerId, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(40))  # the webhook-id header
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # the JSON body, exactly as signed
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)  # HTTP status; None: no answer
    last_error: Mapped[str | None] = mapped_column(String(255))
    response_ms: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)  # at most 1 KB


class WebhookMarkerRow(Base):
    """An event already sent for its period ("credits.low:2026-12", a key's 7-day notice):
    the primary key makes "once" hold across replicas and consumers."""

    __tablename__ = "webhook_markers"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    marker: Mapped[str] = mapped_column(String(120), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class CreditsLowThresholdRow(Base):
    """The balance under which the account gets `credits.low` (0016); no row: never."""

    __tablename__ = "credits_low_thresholds"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    threshold_milli: Mapped[int] = mapped_column(BigInteger)


JOB_ID_LENGTH = 28  # "job_" + 24 hex characters
WEBHOOK_URL_LENGTH = 2048


class JobRow(Base):
    """A batch job (0015, bgone.domain.jobs): a set of items run by task-queue workers."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_account_id_created_at", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(JOB_ID_LENGTH), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key_id: Mapped[str] = mapped_column(String(KEY_ID_LENGTH))
    # queued, running, completed, failed, cancelled (bgone.domain.jobs.JobState)
    state: Mapped[str] = mapped_column(String(16))
    options: Mapped[str] = mapped_column(Text)  # the removal options as JSON, name -> text
    webhook_url: Mapped[str | None] = mapped_column(String(WEBHOOK_URL_LENGTH))
    item_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When retention deletes the job, its files and results.
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JobItemRow(Base):
    """One image of a job (0015): numbered from 0 in submission order, leased while it runs.

    `request_id` is the item's usage row: the pending row holds its reservation, and the
    final row, written once (guarded by the pending status), charges it once.
    """

    __tablename__ = "job_items"
    __table_args__ = (
        Index("ix_job_items_job_id_state", "job_id", "state"),
        Index("ix_job_items_state_lease_expires_at", "state", "lease_expires_at"),
    )

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))  # the file's stem, for the ZIP's entries
    source: Mapped[str] = mapped_column(Text)  # the stored upload's path, or the image URL
    source_is_url: Mapped[bool] = mapped_column(Boolean, default=False)
    # queued, running, succeeded, failed, cancelled (bgone.domain.jobs.ItemState)
    state: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_detail: Mapped[str | None] = mapped_column(Text)
    result_path: Mapped[str | None] = mapped_column(Text)
    result_format: Mapped[str | None] = mapped_column(String(8))
    credits_reserved_milli: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_charged_milli: Mapped[int] = mapped_column(BigInteger, default=0)
    # Set once the item's final usage row is written: the charge happened (or was released).
    charged: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    queued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
