"""The fleet: one heartbeat row per server process, rewritten every `HEARTBEAT_SECONDS`.

A replica whose row has not been rewritten for `GONE_AFTER` is shown as gone (it stopped, or
cannot reach the database); its row stays until the operator's listing is all that is left
of it. Works the same on SQLite and PostgreSQL: one upsert per beat.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bgone.db.tables import ReplicaHeartbeatRow
from bgone.db.upsert import dialect_insert
from bgone.domain.clock import now_or_default

HEARTBEAT_SECONDS = 10.0
GONE_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class Beat:
    """What a replica reports of itself."""

    replica_id: str
    version: str
    hostname: str
    started_at: datetime
    queue_depth: int
    pool_use: dict[str, int]
    models: tuple[str, ...]


@dataclass(frozen=True)
class Replica:
    beat: Beat
    last_seen: datetime
    gone: bool


def beat(session: Session, report: Beat, now: datetime | None = None) -> None:
    values = {
        "replica_id": report.replica_id,
        "version": report.version,
        "hostname": report.hostname,
        "started_at": report.started_at,
        "last_seen": now_or_default(now),
        "queue_depth": report.queue_depth,
        "pool_use": json.dumps(report.pool_use, sort_keys=True),
        "models": " ".join(report.models),
    }
    insert = dialect_insert(session, ReplicaHeartbeatRow).values(values)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[ReplicaHeartbeatRow.replica_id],
            set_={name: insert.excluded[name] for name in values if name != "replica_id"},
        )
    )


def list_replicas(session: Session, now: datetime | None = None) -> list[Replica]:
    moment = now_or_default(now)
    rows = session.scalars(
        select(ReplicaHeartbeatRow).order_by(
            ReplicaHeartbeatRow.started_at, ReplicaHeartbeatRow.replica_id
        )
    )
    return [
        Replica(
            beat=Beat(
                replica_id=row.replica_id,
                version=row.version,
                hostname=row.hostname,
                started_at=row.started_at,
                queue_depth=row.queue_depth,
                pool_use=json.loads(row.pool_use),
                models=tuple(row.models.split()),
            ),
            last_seen=row.last_seen,
            gone=moment - row.last_seen > GONE_AFTER,
        )
        for row in rows
    ]
