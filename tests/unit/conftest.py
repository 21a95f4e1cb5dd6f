"""The unit tier: no child process, no model, no server but the app in this process.

Its PostgreSQL variants (marked `postgres`) run in `make test`; `make test-fast` leaves
them out. A unit test that asks for a real-model or real-server fixture fails collection.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.inprocess import InProcess, in_process_app

UNIT = Path(__file__).parent
NOT_IN_UNIT_TESTS = {"model_dir", "engine_settings", "remover", "stack", "server", "redis_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if UNIT not in Path(str(item.path)).parents:
            continue
        real = NOT_IN_UNIT_TESTS & set(getattr(item, "fixturenames", ()))
        if real:
            raise pytest.UsageError(
                f"{item.nodeid} uses {sorted(real)}: real parts belong in tests/integration"
            )


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    with in_process_app(tmp_path_factory.mktemp("in-process")) as running:
        yield running


@pytest.fixture
def key(app: InProcess) -> str:
    return app.stack.key(app.stack.account("business"))
