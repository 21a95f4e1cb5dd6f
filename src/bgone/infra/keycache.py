"""A per-process cache of authenticated keys, invalidated across replicas through Redis.

Authenticating from memory keeps the database off the hot path. Correctness comes from
invalidation, not from a long lifetime: revoking or rotating a key publishes its id on a
Redis channel and every replica drops it at once. Without Redis (one replica) or while
Redis is unreachable, entries live only `LOCAL_TTL_SECONDS`, so a change made by another
process (the CLI, say) still takes effect within that time.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

import redis

from bgone.infra import metrics

log = logging.getLogger(__name__)

REDIS_TTL_SECONDS = 30.0
LOCAL_TTL_SECONDS = 1.0
ALL = "*"  # published to drop every entry (e.g. a plan changed)

V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    value: V
    key_id: str
    account_id: int
    stored_at: float


class KeyCache(Generic[V]):
    def __init__(self, redis_url: str = "", redis_key_prefix: str = "bgone") -> None:
        self._entries: dict[str, _Entry[V]] = {}
        self._lock = threading.Lock()
        self._redis_url = redis_url
        self._channel = channel_name(redis_key_prefix)
        self._listening = threading.Event()  # set while the subscription is live
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        if self._redis_url and self._thread is None:
            self._thread = threading.Thread(
                target=self._listen, name="bgone-key-invalidation", daemon=True
            )
            self._thread.start()
            self._listening.wait(timeout=2.0)

    def stop(self) -> None:
        self._stop.set()

    @property
    def ttl(self) -> float:
        return REDIS_TTL_SECONDS if self._listening.is_set() else LOCAL_TTL_SECONDS

    # -- cache -----------------------------------------------------------------------
    def get(self, digest: str) -> V | None:
        entry = self._entries.get(digest)
        if entry is None or time.monotonic() - entry.stored_at > self.ttl:
            return None
        return entry.value

    def put(self, digest: str, value: V, key_id: str, account_id: int) -> None:
        with self._lock:
            self._entries[digest] = _Entry(value, key_id, account_id, time.monotonic())

    def drop(self, key_id: str) -> None:
        with self._lock:
            if key_id == ALL:
                self._entries.clear()
                return
            for digest in [d for d, e in self._entries.items() if e.key_id == key_id]:
                del self._entries[digest]

    def drop_account(self, account_id: int) -> None:
        with self._lock:
            for digest in [d for d, e in self._entries.items() if e.account_id == account_id]:
                del self._entries[digest]

    # -- cross-replica ---------------------------------------------------------------
    def invalidate(self, key_id: str) -> None:
        """Drop here and tell every other replica to drop too."""
        self.drop(key_id)
        publish_invalidation(self._redis_url, self._channel, key_id)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                client = redis.Redis.from_url(
                    self._redis_url,
                    socket_connect_timeout=1.0,
                    socket_keepalive=True,
                    health_check_interval=5,
                )
                pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
                pubsub.subscribe(self._channel)
                self._listening.set()
                # Anything may have changed while we were not listening.
                self.drop(ALL)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message["type"] == "message":
                        self.drop(message["data"].decode())
                pubsub.close()
            except redis.RedisError as error:
                metrics.count_redis_error("keycache")
                if self._listening.is_set():
                    metrics.count_redis_fallback("keycache")  # entries now live 1 s
                    log.warning("key invalidation channel lost, short cache lifetime: %s", error)
                self._listening.clear()
                self._stop.wait(1.0)


def channel_name(redis_key_prefix: str) -> str:
    return f"{redis_key_prefix}:keys:invalidate"


def publish_invalidation(redis_url: str, channel: str, key_id: str) -> None:
    """Best effort: without Redis, other processes catch up within LOCAL_TTL_SECONDS."""
    if not redis_url:
        return
    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=1.0, socket_timeout=1.0)
        client.publish(channel, key_id)
        client.close()
    except redis.RedisError as error:
        metrics.count_redis_error("keycache")
        log.warning("could not publish key invalidation for %s: %s", key_id, error)
