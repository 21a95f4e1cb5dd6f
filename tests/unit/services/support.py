"""A key cache that records what the services ask of it, behind KeyCache's interface."""

from __future__ import annotations

from bgone.domain.authentication import KeyContext
from bgone.infra.keycache import KeyCache


class RecordingKeyCache(KeyCache[KeyContext]):
    """The real in-process cache (no Redis), with every invalidation and store recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.invalidated: list[str] = []
        self.stored: list[str] = []  # key ids, in the order they were cached

    def invalidate(self, key_id: str) -> None:
        self.invalidated.append(key_id)
        super().invalidate(key_id)

    def put(self, digest: str, value: KeyContext, key_id: str, account_id: int) -> None:
        self.stored.append(key_id)
        super().put(digest, value, key_id, account_id)
