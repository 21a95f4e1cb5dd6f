"""One group commit of usage rows: a transaction for the batch, spooled while the database
is away, and row by row when a row in it is bad.

A failure that is not the database's absence (a constraint, a value too long for its
column) belongs to one row, and must not take a batch of other requests (other accounts')
down with it. So the batch is retried one row at a time: only the bad row fails, and it is
logged by its request id. A row whose only fault is where its key was last used from is kept
without that: the usage row is what the request is charged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bgone.db.engine import SessionFactory, transaction
from bgone.domain.authentication import touch_key_usage
from bgone.domain.metering import FinalRow, write_final_rows
from bgone.infra import metrics
from bgone.infra.usage_journal import Journal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UsageWrite:
    """One request's usage row, and whether to record that (and where from) its key was used."""

    row: FinalRow
    ip: str | None = None
    touch_key: bool = False


def first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def database_unreachable(error: BaseException) -> bool:
    """Connection-level failures (worth spooling for), as opposed to bugs in the rows."""
    if isinstance(error, OperationalError | PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def commit_batch(
    sessions: SessionFactory, journal: Journal, writes: list[UsageWrite]
) -> list[BaseException | None]:
    """Commit `writes` in one transaction, or spool them; one outcome (None: kept) per write.

    A failure that is not the database's absence is a bad row, and one bad row must not
    take a batch of other requests (other accounts') down with it: the batch is then
    retried row by row, so that only the bad row fails.
    """
    rows = [write.row for write in writes]
    try:
        _write(sessions, writes)
    except Exception as error:
        if not database_unreachable(error):
            log.warning(
                "a batch of %d usage rows failed, retrying them one by one: %s",
                len(writes),
                first_line(error),
            )
            return _commit_one_by_one(sessions, journal, writes)
        spooled = _spool(journal, rows, error)
        if spooled is not None:
            return [spooled] * len(writes)
    journal.forget_reservations([row.entry.request_id for row in rows])
    return [None] * len(writes)


def _write(sessions: SessionFactory, writes: list[UsageWrite]) -> None:
    with transaction(sessions) as session:
        write_final_rows(session, [write.row for write in writes])
        touched = sorted(
            (write.row.entry.key_id, write.ip, write.row.entry.at)
            for write in writes
            if write.touch_key and write.row.entry.key_id
        )
        for key_id, ip, at in touched:
            touch_key_usage(session, key_id, ip, at)


def _commit_one_by_one(
    sessions: SessionFactory, journal: Journal, writes: list[UsageWrite]
) -> list[BaseException | None]:
    outcomes: list[BaseException | None] = []
    for index, write in enumerate(writes):
        request_id = write.row.entry.request_id
        try:
            try:
                _write(sessions, [write])
            except Exception as error:
                if database_unreachable(error) or not write.touch_key:
                    raise
                # The usage row (what the request is charged) matters more than when and
                # where from its key was last used: keep the row without that.
                log.error("could not record where key use came from (%s): %s", request_id, error)
                _write(sessions, [replace(write, touch_key=False)])
        except Exception as error:
            if database_unreachable(error):  # gone mid-way: spool this row and the rest
                rest = [later.row for later in writes[index:]]
                spooled = _spool(journal, rest, error)
                if spooled is None:
                    journal.forget_reservations([row.entry.request_id for row in rest])
                return outcomes + [spooled] * len(rest)
            log.error("could not record the usage row of %s: %s", request_id, error)
            outcomes.append(error)
            continue
        journal.forget_reservations([request_id])
        outcomes.append(None)
    return outcomes


def replay_rows(sessions: SessionFactory, rows: list[FinalRow]) -> int:
    """Write spooled `rows`, one by one if one of them is bad; returns how many were bad.

    Raises when the database is unreachable: the spool is kept for the next try (rows
    already written are skipped then, by request id). A bad row is logged and dropped, or
    it would hold back every row behind it for ever.
    """
    try:
        with transaction(sessions) as session:
            write_final_rows(session, rows)
        return 0
    except Exception as error:
        if database_unreachable(error):
            raise
        log.warning("replaying %d spooled rows one by one: %s", len(rows), first_line(error))
    bad = 0
    for row in rows:
        try:
            with transaction(sessions) as session:
                write_final_rows(session, [row])
        except Exception as error:
            if database_unreachable(error):
                raise
            log.error("dropped the spooled usage row of %s: %s", row.entry.request_id, error)
            bad += 1
    return bad


def _spool(journal: Journal, rows: list[FinalRow], error: BaseException) -> OSError | None:
    """Keep `rows` in the journal while the database is away; the error if even that fails."""
    metrics.count_database_error("usage_write")
    try:
        journal.spool(rows)
    except OSError as spool_error:  # reported to every waiting request
        log.error("could not spool %d usage rows: %s", len(rows), spool_error)
        return spool_error
    log.warning("database unreachable, %d usage rows spooled: %s", len(rows), first_line(error))
    return None
