"""An account's images in process: counted in images while it is alone on the replica, by
weight (max(1, megapixels)) while another account is served too; one image always fits."""

from __future__ import annotations

import pytest

from bgone.errors import ConcurrencyLimitExceeded
from bgone.infra.account_slots import AccountSlots

HEAVY = 8.3  # the isolation bench's 25 MB upload: 2880 x 2880
LIGHT = 1.0


def test_alone_an_account_holds_its_share_in_images_however_heavy() -> None:
    slots = AccountSlots(share=2, retry_after=lambda: 1)
    with slots.holding("big", HEAVY), slots.holding("big", HEAVY):
        assert slots.held_by("big") == 2
        with pytest.raises(ConcurrencyLimitExceeded):
            slots.refuse_if_full("big", LIGHT)
    assert slots.held_by("big") == 0


def test_beside_another_account_a_heavy_image_takes_the_whole_share() -> None:
    slots = AccountSlots(share=2, retry_after=lambda: 3)
    with slots.holding("victim", LIGHT), slots.holding("big", HEAVY):
        with pytest.raises(ConcurrencyLimitExceeded) as refused:
            slots.refuse_if_full("big", HEAVY)
        assert refused.value.headers["Retry-After"] == "3"
        with pytest.raises(ConcurrencyLimitExceeded):
            slots.refuse_if_full("big", LIGHT)  # before its body is read: weight 1
        with slots.holding("victim", LIGHT):  # the light account keeps its two
            assert slots.held_by("victim") == 2
            with pytest.raises(ConcurrencyLimitExceeded):
                slots.refuse_if_full("victim", LIGHT)
    assert (slots.held_by("victim"), slots.held_by("big")) == (0, 0)


def test_light_images_fill_the_share_beside_another_account() -> None:
    slots = AccountSlots(share=2, retry_after=lambda: 1)
    with slots.holding("other", LIGHT), slots.holding("a", 1.5):
        assert not slots.fits("a", 1.0)  # 1.5 + 1 > 2
        assert slots.fits("other", 1.0)
    with slots.holding("other", LIGHT), slots.holding("a", LIGHT):
        assert slots.fits("a", LIGHT)
