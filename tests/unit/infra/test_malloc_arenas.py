"""The malloc arena limit: applied on glibc, a no-op when turned off."""

from __future__ import annotations

import platform

import pytest

from bgone.infra.malloc_arenas import limit_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_limit() -> None:
    assert limit_malloc_arenas(8) is True  # what glibc allows a 1-core machine: harmless here


def test_zero_leaves_glibc_alone() -> None:
    assert limit_malloc_arenas(0) is False
