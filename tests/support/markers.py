"""Marks each collected test with the real parts it uses, from the fixtures it requests.

    pytest -m model --collect-only -q | tail -1      # how many tests use the real model

The fixtures that stand for a real part are listed here; a test reaching one through a
fixture that looks it up at run time (request.getfixturevalue) is marked by hand.
"""

from __future__ import annotations

import pytest

FIXTURE_PARTS = {
    "model_dir": "model",  # every real server, CLI run and Remover goes through it
    "postgres_admin": "postgres",
    "redis_url": "redis",
    "private_redis": "redis",
    "playwright_instance": "browser",
    "page": "browser",
}
REAL_PARTS = ("model", "postgres", "redis", "browser")


def real_parts(item: pytest.Item) -> set[str]:
    names = getattr(item, "fixturenames", ())
    used = {FIXTURE_PARTS[name] for name in names if name in FIXTURE_PARTS}
    return used | {part for part in REAL_PARTS if item.get_closest_marker(part) is not None}


def mark_real_parts(items: list[pytest.Item]) -> None:
    for item in items:
        for part in real_parts(item):
            if item.get_closest_marker(part) is None:
                item.add_marker(getattr(pytest.mark, part))
