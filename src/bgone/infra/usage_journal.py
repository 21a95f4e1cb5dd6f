"""A replica's local journal: what it must not forget when the database or the process goes.

Each process keeps, in `<data_dir>/journal/`, a lock file it holds (flock) for its whole life
and two append-only JSON-lines files named after it:

- `<id>.spool.jsonl`: final usage rows that could not be written because the database was
  unreachable. They are fsynced before the client gets its answer and replayed once the
  database is back; replays are idempotent by request id (see domain/metering.py).
- `<id>.reservations.jsonl`: the ids of requests about to reserve credits, written before
  the reservation. If the process dies, whoever next finds its lock free (another replica on
  this host, or the next start) releases every one of them still pending in the database.

A file left by a dead process is an *orphan*; `claim_orphans` hands them over with the lock
held, so that two processes never replay the same one at once.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from bgone.domain.credits import Reservation
from bgone.domain.metering import FinalRow
from bgone.domain.usage import UsageEntry
from bgone.infra import metrics

log = logging.getLogger(__name__)

# The reservations file is rewritten with only the requests still in flight past this size.
COMPACT_BYTES = 1 << 20


def encode_row(row: FinalRow) -> str:
    entry = row.entry
    document: dict[str, Any] = {
        "request_id": entry.request_id,
        "at": entry.at.isoformat(),
        "endpoint": entry.endpoint,
        "status": entry.status,
        "account_id": entry.account_id,
        "key_id": entry.key_id,
        "error_code": entry.error_code,
        "credits_milli": entry.credits_milli,
        "megapixels": entry.megapixels,
        "latency_ms": entry.latency_ms,
    }
    if row.reservation is not None:
        document["reservation"] = [
            row.reservation.account_id,
            row.reservation.period,
            row.reservation.milli,
        ]
    return json.dumps(document, separators=(",", ":"))


def decode_row(line: str) -> FinalRow:
    document = json.loads(line)
    reserved = document.pop("reservation", None)
    document["at"] = datetime.fromisoformat(document["at"])
    reservation = Reservation(*reserved) if reserved else None
    return FinalRow(UsageEntry(**document), reservation)


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    # A process killed mid-write leaves at most one torn last line, without its newline;
    # the request it belonged to never got an answer.
    return [line for line in text.split("\n")[:-1] if line]


def _read_rows(path: Path) -> list[FinalRow]:
    rows = []
    for line in _read_lines(path):
        try:
            rows.append(decode_row(line))
        except (ValueError, TypeError) as error:
            log.error("skipping an unreadable spooled usage row in %s: %s", path, error)
    return rows


@dataclass
class Orphan:
    """A dead process's journal, locked by the caller until `discard` or `release`."""

    name: str
    directory: Path
    handle: IO[str]
    rows: list[FinalRow] = field(default_factory=list)
    reserved_request_ids: list[str] = field(default_factory=list)

    def discard(self) -> None:
        for suffix in (".spool.jsonl", ".reservations.jsonl", ".lock"):
            (self.directory / f"{self.name}{suffix}").unlink(missing_ok=True)
        self.handle.close()

    def release(self) -> None:
        """Give the orphan back untouched (the database is still down, say)."""
        self.handle.close()


class Journal:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.name = f"{os.getpid()}-{secrets.token_hex(4)}"
        # Locked under a temporary name, then renamed: no other process can ever see this
        # lock file unlocked and take this live process for a dead one.
        temporary = directory / f"{self.name}.lock.new"
        self._lock_handle = temporary.open("w")
        fcntl.flock(self._lock_handle.fileno(), fcntl.LOCK_EX)
        temporary.rename(directory / f"{self.name}.lock")
        self._spool_path = directory / f"{self.name}.spool.jsonl"
        self._reservations_path = directory / f"{self.name}.reservations.jsonl"
        self._reservations = self._reservations_path.open("a")
        self._reservations_lock = threading.Lock()
        self._in_flight: set[str] = set()
        self._spooled = 0

    # -- reservations (request threads) ----------------------------------------------
    def note_reservation(self, request_id: str) -> None:
        """Before reserving: written to the OS, so it survives the process being killed."""
        with self._reservations_lock:
            self._reservations.write(json.dumps(request_id) + "\n")
            self._reservations.flush()
            self._in_flight.add(request_id)

    def forget_reservations(self, request_ids: list[str]) -> None:
        """Their final rows are in the database or the spool: nothing left to recover."""
        with self._reservations_lock:
            self._in_flight.difference_update(request_ids)
            if self._reservations.tell() > COMPACT_BYTES:
                self._compact()

    def _compact(self) -> None:
        replacement = self.directory / f"{self.name}.reservations.new"
        with replacement.open("w") as handle:
            handle.writelines(json.dumps(request_id) + "\n" for request_id in self._in_flight)
        replacement.replace(self._reservations_path)
        self._reservations.close()
        self._reservations = self._reservations_path.open("a")

    # -- spool (the usage writer's thread) -------------------------------------------
    @property
    def spooled(self) -> int:
        return self._spooled

    def spool(self, rows: list[FinalRow]) -> None:
        """Append and fsync: once this returns, the rows survive a crash of the machine."""
        with self._spool_path.open("a") as handle:
            handle.writelines(encode_row(row) + "\n" for row in rows)
            handle.flush()
            os.fsync(handle.fileno())
        self._spooled += len(rows)
        metrics.set_usage_spool_rows(self._spooled)

    def spooled_rows(self) -> list[FinalRow]:
        return _read_rows(self._spool_path)

    def clear_spool(self) -> None:
        self._spool_path.unlink(missing_ok=True)
        self._spooled = 0
        metrics.set_usage_spool_rows(0)

    # -- orphans ---------------------------------------------------------------------
    def claim_orphans(self) -> Iterator[Orphan]:
        """Journals of processes that are gone, each locked while the caller handles it."""
        for lock_path in sorted(self.directory.glob("*.lock")):
            name = lock_path.name.removesuffix(".lock")
            if name == self.name:
                continue
            try:
                handle = lock_path.open("r")
            except FileNotFoundError:
                continue  # claimed and discarded by another process meanwhile
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()  # its owner is alive
                continue
            if not lock_path.exists():
                handle.close()  # discarded by another process between glob and lock
                continue
            yield Orphan(
                name=name,
                directory=self.directory,
                handle=handle,
                rows=_read_rows(self.directory / f"{name}.spool.jsonl"),
                reserved_request_ids=[
                    str(json.loads(line))
                    for line in _read_lines(self.directory / f"{name}.reservations.jsonl")
                ],
            )

    def close(self) -> None:
        """At a clean exit: files with nothing left to recover go; the rest stay for later."""
        with self._reservations_lock:
            self._reservations.close()
            if not self._in_flight:
                self._reservations_path.unlink(missing_ok=True)
        if not self._spool_path.exists() and not self._reservations_path.exists():
            (self.directory / f"{self.name}.lock").unlink(missing_ok=True)
        self._lock_handle.close()
