"""Constants and types shared by the domain tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bgone.domain.accounts import Account

NOW = datetime(2025, 5, 14, 9, 30, tzinfo=UTC)

MakeAccount = Callable[..., Account]
