"""The price list: what a result costs, what an image weighs, who gets previews."""

from __future__ import annotations

import pytest

from bgone.domain import pricing
from bgone.inference.options import Quality, Size
from bgone.security.keys import Environment


def test_a_preview_costs_a_quarter_credit_and_every_larger_result_one() -> None:
    assert pricing.result_cost_milli(Size.PREVIEW) == pricing.PREVIEW_COST_MILLI == 250
    for size in (Size.MEDIUM, Size.HD, Size.FULL, Size.AUTO):
        assert pricing.result_cost_milli(size) == pricing.FULL_COST_MILLI == 1000


@pytest.mark.parametrize("size", list(Size))
def test_staging_keys_get_previews_and_production_keys_what_they_ask(size: Size) -> None:
    assert pricing.size_for_key(size, spends_credits=False) is Size.PREVIEW
    assert pricing.size_for_key(size, spends_credits=True) is size


def test_only_auto_falls_back_to_a_preview_when_credits_are_short() -> None:
    assert pricing.fallback_when_short(Size.AUTO) is Size.PREVIEW
    for size in (Size.PREVIEW, Size.MEDIUM, Size.HD, Size.FULL):
        assert pricing.fallback_when_short(size) is None
    # The fallback is cheaper, so trying it can succeed where the first reservation failed.
    assert pricing.result_cost_milli(Size.PREVIEW) < pricing.result_cost_milli(Size.AUTO)


@pytest.mark.parametrize(
    ("megapixels", "weight"), [(0.0, 1.0), (0.003, 1.0), (1.0, 1.0), (1.5, 1.5), (24.2, 24.2)]
)
def test_an_image_weighs_its_megapixels_and_at_least_one(megapixels: float, weight: float) -> None:
    assert pricing.rate_weight(megapixels) == weight


def test_an_accounts_keys_share_one_bucket_per_environment() -> None:
    assert pricing.rate_bucket(7, Environment.PRODUCTION) == "account:7:production"
    assert pricing.rate_bucket(7, Environment.STAGING) == "account:7:staging"
    assert pricing.rate_bucket(8, Environment.PRODUCTION) != pricing.rate_bucket(
        7, Environment.PRODUCTION
    )


@pytest.mark.parametrize(
    ("size", "multiple", "milli"),
    [
        (Size.FULL, 1.0, 1000),
        (Size.PREVIEW, 1.0, 250),
        (Size.HD, 3.0, 3000),
        (Size.PREVIEW, 3.0, 750),
        (Size.AUTO, 1.5, 1500),
        (Size.PREVIEW, 1.1, 275),
    ],
)
def test_a_best_result_costs_the_operators_multiple_of_the_fast_one(
    size: Size, multiple: float, milli: int
) -> None:
    assert pricing.result_cost_milli(size, Quality.BEST, best_quality_credits=multiple) == milli
    fast = pricing.result_cost_milli(size, Quality.FAST, best_quality_credits=multiple)
    assert fast == pricing.result_cost_milli(size)  # the multiple never touches `fast`


def test_by_default_best_costs_what_fast_costs() -> None:
    for size in Size:
        assert pricing.result_cost_milli(size, Quality.BEST) == pricing.result_cost_milli(size)
