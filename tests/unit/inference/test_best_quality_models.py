"""What `quality=best` will use (best_plan), as `/readyz` and `bgone models list` report it:
isnet joins u2netp only when its file is installed and matches its sha256."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from bgone.inference import catalog
from bgone.inference.best import best_plan
from bgone.inference.catalog import BUILTIN_MODELS


def with_isnet_sha256(monkeypatch: pytest.MonkeyPatch, digest: str) -> None:
    """The built-in isnet row, pinned to `digest` (a real isnet file is 88 MB)."""
    rows = tuple(
        dataclasses.replace(spec, sha256=digest) if spec.name == "isnet" else spec
        for spec in BUILTIN_MODELS
    )
    monkeypatch.setattr(catalog, "BUILTIN_MODELS", rows)


def test_u2netp_alone_without_isnet(tmp_path: Path) -> None:
    assert best_plan(tmp_path).models == ("u2netp",)


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
