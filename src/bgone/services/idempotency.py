"""`Idempotency-Key`: a retried request gets the first answer again, and is charged once.

The call shape, for every front end that takes the header (the removal routes, the jobs
route):

1. `key = parse_key(header)`: None without the header (nothing below happens then);
2. `fingerprint(operation, fields, files)` of the *parsed* request: its fields, the sha256
   of each file's bytes and its URLs (which are fields), so that a retry whose multipart
   boundary differs is still the same request;
3. `outcome = await service.begin(account_id, key, fingerprint)`: a `StoredAnswer` to send
   again as it is, or a `Claim` to run the request under; a conflict raises 422
   (`idempotency_key_reused`), 409 (`idempotency_key_in_use`, with Retry-After) or 409
   (`idempotency_answer_too_large`);
4. with a claim, run the request, then `await service.finish(claim, answer)` with whatever
   was answered (errors too: `finish` keeps what is worth keeping and frees the key
   otherwise), or `await service.release(claim)` when it ended without an answer (an
   exception, a cancellation).

Which answers are kept (`is_kept`): successes and the client's own errors (4xx), as Stripe
does, but not 429 (the same request may pass later) and no 5xx (the server's failure: a retry
should run again). An answer over `max_answer_bytes` is not kept; the key is marked so that a
retry is refused (409 `idempotency_answer_too_large`) rather than run and charged twice.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

import anyio
import anyio.to_thread

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import idempotency
from bgone.domain.clock import utc_now
from bgone.domain.idempotency import Claim, KeyScope, StoredAnswer
from bgone.errors import InvalidIdempotencyKey

HEADER = "Idempotency-Key"
# Sent with a kept answer sent again (Stripe's name), so that a client can tell.
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Expired rows are deleted by whichever request begins first after this many seconds.
PURGE_EVERY_SECONDS = 60.0

__all__ = [
    "HEADER",
    "REPLAYED_HEADER",
    "Claim",
    "IdempotencyService",
    "StoredAnswer",
    "fingerprint",
    "is_kept",
    "parse_key",
]


def parse_key(header: str | None) -> str | None:
    """The key a request sent, or None; 400 `invalid_idempotency_key` for a bad one."""
    if header is None:
        return None
    key = header.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in key):
        raise InvalidIdempotencyKey(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, "
            "e.g. a random UUID."
        )
    return key


def fingerprint(operation: str, fields: Mapping[str, str], files: Mapping[str, bytes]) -> str:
    """The sha256 of what a request asks for: the operation (the endpoint and anything else
    that shapes the answer), its text fields and the sha256 of each file's bytes."""
    document = {
        "operation": operation,
        "fields": sorted(fields.items()),
        "files": sorted((name, hashlib.sha256(data).hexdigest()) for name, data in files.items()),
    }
    return hashlib.sha256(json.dumps(document, separators=(",", ":")).encode()).hexdigest()


def is_kept(status: int) -> bool:
    """Whether an answer with this status is kept for retries."""
    return status < 500 and status != 429


@dataclass
class IdempotencyService:
    sessions: SessionFactory
    max_answer_bytes: int  # BGONE_IDEMPOTENCY_MAX_BYTES
    clock: Callable[[], datetime] = utc_now  # tests move it past the 24 hours
    _next_purge: float = field(default=0.0, init=False)
    _purge_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    async def begin(
        self, account_id: int, key: str, request_fingerprint: str
    ) -> Claim | StoredAnswer:
        scope = KeyScope.of(account_id, key)
        return await anyio.to_thread.run_sync(partial(self._begin, scope, request_fingerprint))

    def _begin(self, scope: KeyScope, request_fingerprint: str) -> Claim | StoredAnswer:
        now = self.clock()
        self._purge_when_due(now)
        with transaction(self.sessions) as session:
            return idempotency.begin(session, scope, request_fingerprint, now)

    def _purge_when_due(self, now: datetime) -> None:
        with self._purge_lock:
            if time.monotonic() < self._next_purge:
                return
            self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS
        with transaction(self.sessions) as session:
            idempotency.purge_expired(session, now)

    async def finish(self, claim: Claim, answer: StoredAnswer) -> None:
        """Keep the answer of the claimed request, or free its key (see `is_kept`)."""
        if not is_kept(answer.status):
            await self.release(claim)
            return
        kept = answer if len(answer.body) <= self.max_answer_bytes else None
        await anyio.to_thread.run_sync(partial(self._complete, claim, kept))

    def _complete(self, claim: Claim, answer: StoredAnswer | None) -> None:
        with transaction(self.sessions) as session:
            idempotency.complete(session, claim, answer)

    async def release(self, claim: Claim) -> None:
        """Free the key of a request that ended without an answer; runs even when the caller
        is being cancelled (the client went away), so that the key is not held for nothing."""
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(partial(self._release, claim))

    def _release(self, claim: Claim) -> None:
        with transaction(self.sessions) as session:
            idempotency.release(session, claim)
