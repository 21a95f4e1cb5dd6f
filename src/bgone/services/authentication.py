"""Who is calling: the one path from a key, as sent, to its KeyContext or a catalogue error.

The order is the point: the text is parsed once (a malformed key never reaches the
database), then the cache answers, then a read-only transaction, and only a key that needs
a write (an expired key's audit, a hash upgrade) takes a write transaction. A key refused as
invalid counts against the client's address, so guessing is throttled. When and from where a
key was last used is written later, off the request path, by bgone.infra.usage_writer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from anyio import to_thread

from bgone.db.engine import SessionFactory, transaction
from bgone.domain.authentication import (
    KeyContext,
    KeyVerdict,
    PresentedKey,
    look_up,
    record_expired_use,
    require_api_access,
    upgrade_hash,
)
from bgone.domain.clock import now_or_default
from bgone.errors import (
    ExpiredApiKey,
    InvalidApiKey,
    MissingApiKey,
    RevokedApiKey,
    TooManyInvalidKeys,
)
from bgone.infra.ratelimit import RateLimiter
from bgone.infra.refusal_pacing import RefusalPacer
from bgone.security.hashing import SecretRing
from bgone.security.keys import MalformedKey

T = TypeVar("T")
REVOKED_KEYS_REMEMBERED = 10_000
REVOKED_DETAIL = "this API key has been revoked"  # as bgone.domain.authentication says it


class ContextCache(Protocol):
    """The part of bgone.infra.keycache.KeyCache that authentication uses."""

    def get(self, digest: str) -> KeyContext | None: ...

    def put(self, digest: str, value: KeyContext, key_id: str, account_id: int) -> None: ...


async def call_limiter(limiter: RateLimiter, function: Callable[[], T]) -> T:
    """Run a limiter call on the event loop when it is in memory, in a thread when it is
    not (Redis): the hand-off would cost more than an in-memory count."""
    if limiter.blocking:
        return await to_thread.run_sync(function)
    return function()


class Authenticator:
    def __init__(
        self,
        sessions: SessionFactory,
        read_sessions: SessionFactory,
        secret_ring: SecretRing,
        key_cache: ContextCache,
        limiter: RateLimiter,
        invalid_keys_per_minute: int,
        pacer: RefusalPacer | None = None,
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.secret_ring = secret_ring
        self.key_cache = key_cache
        self.limiter = limiter
        self.invalid_keys_per_minute = invalid_keys_per_minute
        # Digests of keys found revoked: a revoked key never comes back, so a client that
        # keeps sending one (hundreds a second, say) is refused from memory, not the database.
        self._revoked: OrderedDict[str, None] = OrderedDict()
        self._revoked_lock = threading.Lock()
        # A client that keeps sending a revoked key after its 401s is paced as an account
        # past its limits is (bgone.infra.refusal_pacing): its answers wait, costing no CPU.
        self.pacer = pacer

    async def authenticate(self, secret: str, ip: str | None) -> KeyContext:
        """The caller behind `secret`, or the catalogue's error saying why not.

        A key seen in the last seconds is answered from memory on the event loop; only a
        cache miss takes a worker thread and the database.
        """
        try:
            key = self.present(secret)
            if key.current.digest in self._revoked:
                if self.pacer is not None:
                    delay = self.pacer.options.delay_seconds
                    await self.pacer.pace(("revoked key", key.current.digest), delay)
                raise RevokedApiKey(REVOKED_DETAIL)
            context = self.from_cache(key)
            if context is None:
                context = await to_thread.run_sync(self.from_database, key, ip)
        except InvalidApiKey:
            await call_limiter(self.limiter, lambda: self.count_invalid_key(ip))
            raise
        return context

    def present(self, secret: str) -> PresentedKey:
        """The key parsed and hashed, or a 401 saying what is wrong with its text."""
        if not secret:
            raise MissingApiKey("this endpoint needs an API key")
        try:
            return PresentedKey.from_text(secret, self.secret_ring)
        except MalformedKey as error:
            raise InvalidApiKey(
                f"The API key is malformed ({error.reason.value.replace('_', ' ')}). Check "
                "that it was copied whole; keys look like bgone_live_ followed by 38 letters "
                "and digits."
            ) from None

    def from_cache(self, key: PresentedKey, now: datetime | None = None) -> KeyContext | None:
        """The caller from memory, or None when the database must be asked. No I/O."""
        context = self.key_cache.get(key.current.digest)
        if context is None or context.is_expired_at(now_or_default(now)):
            return None
        require_api_access(context)
        return context

    def from_database(
        self, key: PresentedKey, ip: str | None, now: datetime | None = None
    ) -> KeyContext:
        """The cache-miss path (blocking): read-only first, the write path only if needed.

        An expired key's audit event is committed before its error is raised, so the
        refusal is on record even though the request fails.
        """
        moment = now_or_default(now)
        try:
            with transaction(self.read_sessions) as session:
                lookup = look_up(session, key, moment)
        except RevokedApiKey:
            self._remember_revoked(key.current.digest)
            raise
        if lookup.verdict is not KeyVerdict.USABLE:
            with transaction(self.sessions) as session:
                # Looked up again: the key may have changed between the two transactions.
                lookup = look_up(session, key, moment)
                if lookup.verdict is KeyVerdict.EXPIRED:
                    record_expired_use(session, lookup.context, ip, moment)
                elif lookup.verdict is KeyVerdict.STALE_HASH:
                    upgrade_hash(session, lookup.context.key_id, key.current)
            if lookup.verdict is KeyVerdict.EXPIRED:
                raise ExpiredApiKey(
                    "this API key has expired; use the key that replaced it"
                    if lookup.replaced
                    # A lapsed lifetime: nothing replaced it, so pointing there would mislead.
                    else "this API key has expired; create a new key on the account page"
                )
        context = lookup.context
        # Cached before the access check, so a suspended account is refused from memory too.
        self.key_cache.put(key.current.digest, context, context.key_id, context.account_id)
        require_api_access(context)
        return context

    def _remember_revoked(self, digest: str) -> None:
        with self._revoked_lock:
            self._revoked[digest] = None
            while len(self._revoked) > REVOKED_KEYS_REMEMBERED:
                self._revoked.popitem(last=False)

    def count_invalid_key(self, ip: str | None) -> None:
        """Count a refused key against the client's address; 429 once it sent too many.

        Only failures are counted, after the key was checked, so a valid key is never held
        back, even one sent from the same address as an attacker (behind one NAT, say).
        """
        per_minute = self.invalid_keys_per_minute
        decision = self.limiter.hit(f"invalid-keys:ip:{ip or 'unknown'}", per_minute)
        if not decision.allowed:
            raise TooManyInvalidKeys(
                f"More than {per_minute} requests with an invalid API key came from your "
                f"address this minute. Check the key you send; retry after "
                f"{decision.retry_after} s.",
                decision.retry_after,
            )
