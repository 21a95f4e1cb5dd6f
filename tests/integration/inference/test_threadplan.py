"""The thread plan: who gets which cores, and when a run goes narrow.

The scheduling rules are checked with real threads and events (no sleeps decide an
outcome); the real model then checks that a narrow run gives the same mask as a wide one
and that side-by-side runs really happen in the engine.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from bgone.inference.catalog import find_model
from bgone.inference.engine_config import EngineConfig
from bgone.inference.pipeline import Remover
from bgone.inference.session import ModelSession, RuntimeConfig
from bgone.inference.threadplan import CorePlan, InFlight
from bgone.settings import Settings
from tests.support.imagegen import open_bytes

WAIT = 10.0  # seconds; only reached when a rule is broken


def started_holding(plan: CorePlan, narrow: bool) -> tuple[threading.Event, threading.Event]:
    """Starts a thread that takes a grant and holds it until `release` is set."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with plan.run(narrow):
            holding.set()
            release.wait(WAIT)

    threading.Thread(target=hold, daemon=True).start()
    return holding, release


def test_a_wide_run_takes_every_core_and_a_narrow_run_one() -> None:
    plan = CorePlan(threads_per_run=2, total=2)
    with plan.run(narrow=False) as grant:
        assert (grant.cores, grant.single_threaded) == (2, False)
    with plan.run(narrow=True) as grant:
        assert (grant.cores, grant.single_threaded) == (1, True)


def test_narrow_runs_sit_side_by_side_up_to_the_core_count() -> None:
    plan = CorePlan(threads_per_run=2, total=2)
    first, release_first = started_holding(plan, narrow=True)
    second, release_second = started_holding(plan, narrow=True)
    assert first.wait(WAIT) and second.wait(WAIT)
    assert plan.running == 2
    third, release_third = started_holding(plan, narrow=True)
    assert not third.wait(0.3)  # no core left for a third
    release_first.set()
    assert third.wait(WAIT)
    release_second.set()
    release_third.set()


def test_a_waiting_wide_run_is_not_starved_by_new_narrow_runs() -> None:
    plan = CorePlan(threads_per_run=2, total=2)
    narrow, release_narrow = started_holding(plan, narrow=True)
    assert narrow.wait(WAIT)
    wide, release_wide = started_holding(plan, narrow=False)
    assert not wide.wait(0.3)  # one core is still taken
    late, release_late = started_holding(plan, narrow=True)
    assert not late.wait(0.3)  # a free core, but the wide run asked first
    release_narrow.set()
    assert wide.wait(WAIT)
    assert not late.is_set()
    release_wide.set()
    assert late.wait(WAIT)
    release_late.set()


def test_with_one_thread_per_run_every_run_is_a_plain_slot() -> None:
    plan = CorePlan(threads_per_run=1, total=2)
    with plan.run(narrow=True) as grant:
        assert (grant.cores, grant.single_threaded) == (1, False)


def test_in_flight_overlaps_only_several_decoded_photos_within_the_budget() -> None:
    flight = InFlight(max_overlap_pixels=4_000_000)
    with flight.entered() as declare_first:
        declare_first(1_000_000)
        assert not flight.overlap()  # alone: wide
        with flight.entered() as declare_second:
            assert not flight.overlap()  # the second photo's size is not known yet
            declare_second(2_000_000)
            assert flight.overlap()
            with flight.entered() as declare_third:
                declare_third(2_000_000)
                assert not flight.overlap()  # 5 MP in process: over the budget
        assert not flight.overlap()
    with flight.entered():  # a photo that failed before its size was known leaves no trace
        pass
    with flight.entered() as declare, flight.entered() as declare_other:
        declare(1)
        declare_other(1)
        assert flight.overlap()


def test_an_overlap_budget_of_zero_keeps_every_run_wide() -> None:
    flight = InFlight(max_overlap_pixels=0)
    with flight.entered() as first, flight.entered() as second:
        first(1)
        second(1)
        assert not flight.overlap()


@pytest.fixture(scope="module")
def session(model_dir: object, engine_settings: Settings) -> ModelSession:
    config = RuntimeConfig(model_dir=engine_settings.models_path, intra_op_threads=2)
    return ModelSession(find_model("u2netp", engine_settings.models_path), config)


def test_the_single_threaded_copy_is_loaded_by_the_first_narrow_run(
    engine_settings: Settings, person_jpeg: bytes
) -> None:
    config = RuntimeConfig(model_dir=engine_settings.models_path, intra_op_threads=2)
    lone = ModelSession(find_model("u2netp", engine_settings.models_path), config)
    photo = open_bytes(person_jpeg).convert("RGB")
    lone.predict(photo)
    assert lone._narrow is None  # never overlapped: one copy of the weights
    lone.predict(photo, narrow=True)
    assert lone._narrow is not None


def test_a_run_that_hands_its_memory_back_gives_the_same_mask(
    session: ModelSession, person_jpeg: bytes
) -> None:
    photo = open_bytes(person_jpeg).convert("RGB")
    assert np.array_equal(session.predict(photo), session.predict(photo, release=True))


def test_a_narrow_run_gives_the_mask_a_wide_run_gives(
    session: ModelSession, person_jpeg: bytes
) -> None:
    photo = open_bytes(person_jpeg).convert("RGB")
    wide = session.predict(photo)
    narrow = session.predict(photo, narrow=True)
    assert wide.shape == narrow.shape == (320, 320)
    # Only the order of floating-point sums differs between one thread and two.
    assert float(np.abs(wide - narrow).max()) < 1e-4


def test_side_by_side_runs_happen_and_the_next_wide_run_hands_memory_back(
    session: ModelSession, person_jpeg: bytes
) -> None:
    photo = open_bytes(person_jpeg).convert("RGB")
    expected = session.predict(photo)
    barrier = threading.Barrier(2)

    def narrow_run(_: int) -> np.ndarray:
        barrier.wait(WAIT)
        return session.predict(photo, narrow=True)

    # Retried a few times: whether two runs overlap depends on the scheduler.
    for _ in range(5):
        with ThreadPoolExecutor(2) as pool:
            masks = list(pool.map(narrow_run, range(2)))
        if session._arena_grew:
            break
    assert session._arena_grew, "two narrow runs never overlapped"
    for mask in masks:
        assert float(np.abs(mask - expected).max()) < 1e-4
    session.predict(photo)  # wide, with the arena shrunk afterwards
    assert not session._arena_grew


def test_the_engine_goes_narrow_only_with_company(
    engine_settings: Settings, person_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    remover = Remover(EngineConfig.from_settings(engine_settings))
    model = remover.pool.get(engine_settings.default_model)
    seen: list[bool] = []
    original = ModelSession.predict

    def recording(
        self: ModelSession, image: Image.Image, narrow: bool = False, release: bool = False
    ) -> np.ndarray:
        seen.append(narrow)
        return original(self, image, narrow, release)

    monkeypatch.setattr(ModelSession, "predict", recording)
    remover.remove(person_jpeg)
    assert seen == [False]
    # A second photo in process (entered and decoded) sends the next run narrow.
    with remover.in_flight.entered() as declare:
        declare(1_000_000)
        remover.remove(person_jpeg)
    assert seen == [False, True]
    assert model is remover.pool.get(engine_settings.default_model)
