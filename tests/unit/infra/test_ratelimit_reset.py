"""The rate limit's reset time is when the window really frees a request, not the next
hundredth of an image (issue 14: X-RateLimit-Reset was always about 1 s ahead)."""

from __future__ import annotations

import time

import pytest

from bgone.infra.ratelimit import LimitsRateLimiter, seconds_until_freed


def test_a_fresh_window_frees_nothing_and_resets_now() -> None:
    decision = LimitsRateLimiter("memory://").peek("fresh", 60)
    assert decision.remaining == 60
    assert decision.reset_in == 0


def test_the_first_request_of_a_window_is_freed_when_it_leaves_the_window() -> None:
    limiter = LimitsRateLimiter("memory://")
    decision = limiter.hit("one", 500)
    assert decision.allowed and decision.remaining == 499
    # Counted in the current window: nothing of it leaves before that window ends, so the
    # request is freed in more than a second, and at most two windows ahead.
    assert 1 < decision.reset_at - time.time() <= 2 * decision.window_seconds
    assert decision.reset_in == limiter.peek("one", 500).reset_in


def test_requests_of_the_previous_window_free_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """10 images last minute, half of that window still inside the sliding one: the next
    image frees up when a tenth of them has left, 6 s on, not in the next hundredth of one."""
    middle_of_a_window = 60.0 * 30_000_000 + 30
    clock = [middle_of_a_window - 60]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    limiter = LimitsRateLimiter("memory://")
    for _ in range(10):
        assert limiter.hit("earlier", 500).allowed
    clock[0] = middle_of_a_window
    decision = limiter.peek("earlier", 500)
    assert decision.remaining == 495
    assert decision.reset_at - clock[0] == pytest.approx(6.0)
    assert decision.reset_in == 6


def test_a_refused_request_is_told_when_it_would_fit() -> None:
    limiter = LimitsRateLimiter("memory://")
    assert limiter.hit("full", 2).allowed and limiter.hit("full", 2).allowed
    refused = limiter.hit("full", 2)
    assert not refused.allowed and refused.remaining == 0
    assert refused.retry_after > 1


@pytest.mark.parametrize(
    ("needed", "previous", "current", "left", "expected"),
    [
        (0, 500, 0, 30, 0.0),
        # The previous window's 600 units leave at 10 a second: 100 of them in 10 s.
        (100, 600, 0, 30, 10.0),
        # 300 leave before the window ends (30 s); the other 100 of the current window's
        # 200 leave at 200/60 a second after that.
        (400, 600, 200, 30, 30 + 100 * 60 / 200),
        # More than is counted: everything has left two windows on.
        (900, 0, 200, 30, 90.0),
    ],
)
def test_seconds_until_freed(
    needed: float, previous: float, current: float, left: float, expected: float
) -> None:
    assert seconds_until_freed(needed, previous, current, left, 60.0) == pytest.approx(expected)
