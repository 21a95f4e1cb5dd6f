"""The fusion of several models' masks (fusion.py): confidence decides, softening calibrates."""

from __future__ import annotations

import numpy as np
import pytest

from bgone.inference.fusion import confidence_fusion, soften


def test_softening_keeps_the_middle_and_the_order_and_pulls_the_ends_in() -> None:
    mask = np.array([0.0, 0.1, 0.5, 0.9, 0.99, 1.0], dtype=np.float32)
    softened = soften(mask, 2.0)
    assert softened[2] == pytest.approx(0.5)
    assert np.all(np.diff(softened) > 0)
    assert softened[4] == pytest.approx(0.9087, abs=1e-3)
    assert 0.9 < softened[-1] < 1.0 and 0.0 < softened[0] < 0.1
    assert softened[1] == pytest.approx(1.0 - softened[3], abs=1e-6)  # symmetric


def test_temperature_one_leaves_the_mask_as_it_is() -> None:
    mask = np.array([0.0, 0.3, 1.0], dtype=np.float32)
    assert soften(mask, 1.0) is mask


def test_a_temperature_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError):
        soften(np.zeros(3, dtype=np.float32), 0.0)


def test_the_sure_model_decides_where_the_other_hesitates() -> None:
    sure = np.array([0.95, 0.05], dtype=np.float32)
    unsure = np.array([0.45, 0.55], dtype=np.float32)
    fused = confidence_fusion([sure, unsure], [0.5, 0.5])
    assert fused[0] > 0.85 and fused[1] < 0.15


def test_a_softened_model_carries_less_weight_against_a_sure_one() -> None:
    first = np.array([0.9], dtype=np.float32)
    second = np.array([0.02], dtype=np.float32)
    as_is = confidence_fusion([first, second], [0.5, 0.5])
    softened = confidence_fusion([first, soften(second, 3.0)], [0.5, 0.5])
    assert softened[0] > as_is[0]


def test_one_weight_per_mask() -> None:
    with pytest.raises(ValueError):
        confidence_fusion([np.zeros(2, dtype=np.float32)], [0.5, 0.5])
