"""Real servers for the API tests: `bgone serve` processes on 127.0.0.1, real databases.

A `Stack` is one storage set-up (SQLite alone, or PostgreSQL + Redis); `Server` is one
`bgone serve` process on it. Accounts and keys are set up through the domain layer on the
same database, each test with fresh email addresses, so tests never share state.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import redis

from bgone.db.engine import SessionFactory, make_engine, make_session_factory, transaction
from bgone.domain import accounts, api_keys
from bgone.domain.plan_limits import LimitChanges
from bgone.domain.roles import KeyScope
from bgone.infra.keycache import ALL, LOCAL_TTL_SECONDS, KeyCache
from bgone.security.hashing import load_secret_ring
from bgone.settings import Settings
from tests.support.process import free_port, start_bgone_serve, start_bgone_worker, stop_process

__all__ = ["Server", "Stack", "free_port", "stop_process"]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def stop(self) -> None:
        stop_process(self.process)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class Stack:
    name: str
    data_dir: Path
    model_dir: Path
    database_url: str
    redis_url: str = ""
    redis_key_prefix: str = field(default_factory=lambda: f"bgone-test-{secrets.token_hex(4)}")
    _sessions: SessionFactory | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "BGONE_DATA_DIR": str(self.data_dir),
            "BGONE_MODEL_DIR": str(self.model_dir),
            "BGONE_DATABASE_URL": self.database_url,
            "BGONE_REDIS_URL": self.redis_url,
            "BGONE_REDIS_KEY_PREFIX": self.redis_key_prefix,
            "BGONE_INTRA_OP_THREADS": "1",
        }

    @property
    def settings(self) -> Settings:
        return Settings(
            data_dir=self.data_dir,
            model_dir=self.model_dir,
            database_url=self.database_url,
            redis_url=self.redis_url,
            redis_key_prefix=self.redis_key_prefix,
        )

    @property
    def sessions(self) -> SessionFactory:
        if self._sessions is None:
            self._sessions = make_session_factory(make_engine(self.database_url))
        return self._sessions

    def start_server(self, **settings: str) -> Server:
        port = free_port()
        return self.start_server_on(port, self.data_dir / f"server-{port}.log", settings)

    def start_server_on(self, port: int, log_path: Path, settings: Mapping[str, str]) -> Server:
        """`bgone serve` on `port` (again, after a kill) with BGONE_ `settings`, once ready.

        Its output is appended to `log_path`, so that a restart on the same port keeps the
        earlier run's log.
        """
        env = {**self.env, **{f"BGONE_{k.upper()}": v for k, v in settings.items()}}
        process = start_bgone_serve(env, port, log_path)
        return Server(process, f"http://127.0.0.1:{port}", log_path)

    def start_worker(self, **settings: str) -> Server:
        """`bgone worker` on this stack with BGONE_ `settings` (its `base_url` is empty)."""
        log_path = self.data_dir / f"worker-{secrets.token_hex(3)}.log"
        env = {**self.env, **{f"BGONE_{k.upper()}": v for k, v in settings.items()}}
        return Server(start_bgone_worker(env, log_path), "", log_path)

    # -- set-up through the domain layer --------------------------------------------
    def account(self, plan: str = "business", **limits: int) -> int:
        email = f"user-{secrets.token_hex(5)}@example.com"
        with transaction(self.sessions) as session:
            account = accounts.create_account(session, email, plan)
            if limits:
                accounts.set_limits(session, account.id, LimitChanges(**limits))
            return account.id

    def key(
        self,
        account_id: int,
        environment: str = "production",
        expires_at: datetime | None = None,
        scope: str = "manage",
        created_by_user_id: int | None = None,
    ) -> str:
        """A key as the tests of before teams (migration 0007) knew them: able to manage
        keys unless `scope` says "remove"."""
        with transaction(self.sessions) as session:
            issued = api_keys.create_key(
                session,
                account_id,
                "tests",
                environment,
                "tests",
                load_secret_ring(self.settings),
                expires_at=expires_at,
                scope=KeyScope(scope),
                created_by_user_id=created_by_user_id,
            )
        return issued.secret

    def changed_behind_the_servers_back(self) -> None:
        """After editing the database directly: make every server notice, as the CLI does."""
        if self.redis_url:
            # An unstarted cache only publishes, as the CLI's does.
            KeyCache[object](self.redis_url, self.settings.redis_key_prefix).invalidate(ALL)
            time.sleep(0.3)
        else:
            time.sleep(LOCAL_TTL_SECONDS + 0.2)

    def cleanup_redis(self) -> None:
        if not self.redis_url:
            return
        client = redis.Redis.from_url(self.redis_url)
        for name in client.scan_iter(f"*{self.redis_key_prefix}*"):
            client.delete(name)
        client.close()
