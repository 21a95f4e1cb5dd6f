"""The whole app in this process: `create_app` with a fake remover and a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from bgone.errors import CATALOGUE
from bgone.server.app import create_app
from bgone.settings import Settings
from tests.support.error_bodies import answered_status, error_of
from tests.support.stack import Stack
from tests.unit.fakes import FakeRemover


@dataclass
class InProcess:
    client: TestClient  # started: the app's lifespan (Services.open) has run
    stack: Stack  # accounts and keys on the same database, through the domain layer
    remover: FakeRemover


@contextmanager
def in_process_app(data_dir: Path, **changes: Any) -> Iterator[InProcess]:
    """The app on a fresh SQLite file in `data_dir`; `changes`: Settings fields to override."""
    stack = Stack("unit", data_dir, data_dir / "models", f"sqlite:///{data_dir / 'bgone.db'}")
    chosen = Settings(
        data_dir=data_dir,
        model_dir=stack.model_dir,
        database_url=stack.database_url,
        redis_url="",
        intra_op_threads=1,
    ).model_copy(update=changes)
    remover = FakeRemover(chosen)
    with TestClient(create_app(chosen, remover=remover)) as client:
        try:
            yield InProcess(client, stack, remover)
        finally:
            # Before the app's shutdown checkpoint, which needs no other connection open.
            stack.sessions.kw["bind"].dispose()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The catalogue's code and title in the path's dialect (its body shape and status), the
    request id echoed; returns the error as bgone spells it (`detail`, not `message`)."""
    assert response.status_code == status, response.text
    seen = error_of(response)
    assert seen.request_id == response.headers["x-request-id"]
    assert seen.code == code
    if seen.title is not None:
        assert seen.title == CATALOGUE[code].title
    assert answered_status(code, response.request.url.path) == status
    assert seen.detail
    return {"title": seen.title, "code": seen.code, "detail": seen.detail}
