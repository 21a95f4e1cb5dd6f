"""The removal use case and `quality`: the operator's default, the price of `best` (with the
fake engine and a real SQLite database), and the conflict refused before any side effect."""

from __future__ import annotations

import pytest

from bgone.errors import InvalidOption
from bgone.inference.options import Quality, Size
from tests.unit.fakes import Ledger
from tests.unit.services.test_removal import MakeCaller, MakeParts, figures, request, run


@pytest.mark.parametrize(
    ("size", "multiple", "milli"),
    [("full", 1.0, 1000), ("full", 2.5, 2500), ("preview", 2.5, 625), ("preview", 1.0, 250)],
)
def test_a_best_result_costs_the_operators_multiple(
    make_parts: MakeParts, make_caller: MakeCaller, size: str, multiple: float, milli: int
) -> None:
    parts, caller, ledger = make_parts(best_quality_credits=multiple), make_caller(), Ledger()
    outcome = run(parts, request(caller, size=size, quality="best"), ledger)
    assert outcome.credits_milli == ledger.credits_milli == milli
    assert outcome.result.quality is Quality.BEST
    assert figures(parts.sessions, caller) == (0, milli)
    # The same result at `fast` keeps the plain price.
    fast = run(parts, request(caller, size=size), Ledger())
    assert fast.credits_milli == (250 if size == "preview" else 1000)


def test_auto_falls_back_to_a_best_preview_at_the_best_price(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts, ledger = make_parts(best_quality_credits=2.0), Ledger()
    caller = make_caller(credits_milli=1500)  # less than a best full result (2000)
    outcome = run(parts, request(caller, size="auto", quality="best"), ledger)
    assert outcome.credits_milli == 500
    assert [(call.size, call.quality) for call in parts.remover.calls] == [
        (Size.PREVIEW, Quality.BEST)
    ]


@pytest.mark.parametrize(
    ("fields", "ran"),
    [
        ({}, Quality.BEST),
        ({"quality": "fast"}, Quality.FAST),
        ({"model": "u2netp"}, Quality.FAST),
        ({"refinement": "raw"}, Quality.FAST),
    ],
)
def test_the_operators_default_quality_applies_to_requests_that_name_none(
    make_parts: MakeParts, make_caller: MakeCaller, fields: dict[str, str], ran: Quality
) -> None:
    parts, caller = make_parts(default_quality=Quality.BEST), make_caller()
    run(parts, request(caller, **fields), Ledger())
    assert [call.quality for call in parts.remover.calls] == [ran]


def test_best_with_an_explicit_model_is_refused_before_any_side_effect(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts, caller, ledger = make_parts(), make_caller(), Ledger()
    with pytest.raises(InvalidOption) as raised:
        run(parts, request(caller, quality="best", model="isnet"), ledger)
    assert raised.value.code == "invalid_quality"
    assert ledger.rate is None and ledger.reservation is None and parts.queue.runs == 0
