"""What `quality=best` will use (best_plan), as `/readyz` and `bgone models list` report it:
u2net-int8 and isnet join u2netp only when their files are installed and match their
sha256."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from bgone.inference import catalog, provision
from bgone.inference.best import best_plan
from bgone.inference.catalog import BUILTIN_MODELS


def with_isnet_sha256(monkeypatch: pytest.MonkeyPatch, digest: str) -> None:
    """The built-in isnet row, pinned to `digest` (a real isnet file is 88 MB)."""
    rows = tuple(
        dataclasses.replace(spec, sha256=digest) if spec.name == "isnet" else spec
        for spec in BUILTIN_MODELS
    )
    monkeypatch.setattr(catalog, "BUILTIN_MODELS", rows)


def test_u2netp_alone_without_the_others(tmp_path: Path) -> None:
    plan = best_plan(tmp_path)
    assert plan.models == ("u2netp",) and plan.missing == ("u2net-int8", "isnet")


def registered_int8(model_dir: Path, weights: bytes) -> Path:
    """What `bgone models quantize u2net` leaves: a local row with the copy's sha256."""
    made = model_dir / "made.onnx"
    made.write_bytes(weights)
    provision.add_local("u2net-int8", made, "u2net", model_dir)
    return model_dir / "u2net-int8.onnx"


def test_the_int8_copy_joins_once_made(tmp_path: Path) -> None:
    registered_int8(tmp_path, b"int8 weights")
    plan = best_plan(tmp_path)
    assert plan.models == ("u2netp", "u2net-int8") and plan.missing == ("isnet",)


def test_an_int8_copy_changed_after_it_was_made_is_not_used(tmp_path: Path) -> None:
    registered_int8(tmp_path, b"int8 weights").write_bytes(b"overwritten since")
    assert best_plan(tmp_path).models == ("u2netp",)


def test_all_three_in_their_fusion_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = b"isnet weights"
    with_isnet_sha256(monkeypatch, hashlib.sha256(weights).hexdigest())
    (tmp_path / "isnet.onnx").write_bytes(weights)
    registered_int8(tmp_path, b"int8 weights")
    plan = best_plan(tmp_path)
    assert plan.models == ("u2netp", "u2net-int8", "isnet") and plan.missing == ()


def test_isnet_joins_once_installed_and_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = b"isnet weights"
    with_isnet_sha256(monkeypatch, hashlib.sha256(weights).hexdigest())
    (tmp_path / "isnet.onnx").write_bytes(weights)
    assert best_plan(tmp_path).models == ("u2netp", "isnet")


def test_a_corrupt_isnet_file_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_isnet_sha256(monkeypatch, hashlib.sha256(b"the real weights").hexdigest())
    (tmp_path / "isnet.onnx").write_bytes(b"something else entirely")
    assert best_plan(tmp_path).models == ("u2netp",)
