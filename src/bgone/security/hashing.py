"""API keys are stored as HMAC-SHA256 digests under a server secret, never in clear.

A keyed hash rather than a plain one means a leaked database alone cannot be used to test
guesses offline. The secret can be rotated: keys hashed under an older secret still match
through `candidate_digests`, and the caller re-hashes them under the current one on use.

Version convention: `previous_secret_keys` lists older secrets oldest first and is numbered
1..n; the current secret is n+1. Rotating means appending the current secret to the list and
setting a new one, which keeps every existing number stable. Versions are only a hint for
re-hashing; lookups try every known secret, so a mis-numbered ring still authenticates.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from bgone.settings import Settings

SECRET_FILE_NAME = "secret_key"
GENERATED_SECRET_BYTES = 48


@dataclass(frozen=True)
class ServerSecret:
    version: int
    secret: bytes

    def __repr__(self) -> str:  # never print the secret itself
        return f"ServerSecret(version={self.version}, secret=<hidden>)"


@dataclass(frozen=True)
class KeyHash:
    version: int
    digest: str


@dataclass(frozen=True)
class SecretRing:
    current: ServerSecret
    previous: tuple[ServerSecret, ...] = ()

    @classmethod
    def from_secrets(cls, current: str, previous: list[str] | tuple[str, ...] = ()) -> SecretRing:
        """Number secrets by the module's convention: previous 1..n, current n+1."""
        if not current:
            raise ValueError("the current server secret must not be empty")
        numbered = tuple(
            ServerSecret(version=index, secret=text.encode("utf-8"))
            for index, text in enumerate(previous, start=1)
        )
        return cls(
            current=ServerSecret(version=len(numbered) + 1, secret=current.encode("utf-8")),
            previous=numbered,
        )

    @property
    def all_secrets(self) -> tuple[ServerSecret, ...]:
        """Current first: it is the one most keys are hashed under."""
        return (self.current, *reversed(self.previous))

    def hash_key(self, key: str) -> KeyHash:
        return KeyHash(version=self.current.version, digest=_digest(self.current, key))

    def candidate_digests(self, key: str) -> list[str]:
        return [_digest(server_secret, key) for server_secret in self.all_secrets]


def _digest(server_secret: ServerSecret, key: str) -> str:
    return hmac.new(server_secret.secret, key.encode("utf-8"), hashlib.sha256).hexdigest()


def load_secret_ring(settings: Settings) -> SecretRing:
    """The ring from settings, generating `data_dir/secret_key` when no secret is set."""
    current = settings.secret_key or read_or_create_secret_file(
        settings.data_dir / SECRET_FILE_NAME
    )
    return SecretRing.from_secrets(current, settings.previous_secret_keys)


def read_or_create_secret_file(path: Path) -> str:
    """Read the secret at `path`, creating it (mode 0600) on first start.

    Several workers may start at once: the secret is written to a private temporary file and
    then hard-linked into place, which fails if another worker won the race. No reader can
    therefore ever see a half-written file, and everyone ends up with the same secret.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_urlsafe(GENERATED_SECRET_BYTES) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise ValueError(f"{path} is empty; delete it to generate a new server secret")
    return secret
