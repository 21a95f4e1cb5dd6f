"""The `bgone` command as a user runs it: a real process, real files, the real model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.support.imagegen import encode, gradient_rgb, open_bytes


@pytest.fixture()
def env(model_dir: Path, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BGONE_MODEL_DIR": str(model_dir),
        "BGONE_DATA_DIR": str(tmp_path / "data"),
        "BGONE_INTRA_OP_THREADS": "2",
    }


def bgone(
    env: dict[str, str],
    *args: str,
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bgone", *args],
        env=env,
        input=stdin,
        capture_output=True,
        timeout=300,
        check=False,
    )


def test_remove_one_file_gives_an_rgba_png_of_the_photo_size(
    env: dict[str, str], tmp_path: Path, person_jpeg: bytes
) -> None:
    source = tmp_path / "photo.jpg"
    source.write_bytes(person_jpeg)
    completed = bgone(env, "remove", str(source), str(tmp_path / "out.png"))
    assert completed.returncode == 0, completed.stderr.decode()
    image = Image.open(tmp_path / "out.png")
    assert image.format == "PNG" and image.mode == "RGBA" and image.size == (267, 400)


def test_output_format_follows_the_extension_and_options(
    env: dict[str, str], tmp_path: Path, person_jpeg: bytes
) -> None:
    source = tmp_path / "photo.jpg"
    source.write_bytes(person_jpeg)
    completed = bgone(
        env, "remove", str(source), str(tmp_path / "out.webp"), "--crop", "--size", "preview"
    )
    assert completed.returncode == 0, completed.stderr.decode()
    image = Image.open(tmp_path / "out.webp")
    assert image.format == "WEBP" and image.width < 267


def test_stdin_to_stdout(env: dict[str, str], person_jpeg: bytes) -> None:
    completed = bgone(env, "remove", "-", "-", "--channels", "alpha", stdin=person_jpeg)
    assert completed.returncode == 0, completed.stderr.decode()
    image = open_bytes(completed.stdout)
    assert image.mode == "L" and image.size == (267, 400)


def test_bad_option_is_a_clear_error(
    env: dict[str, str], tmp_path: Path, person_jpeg: bytes
) -> None:
    source = tmp_path / "photo.jpg"
    source.write_bytes(person_jpeg)
    completed = bgone(env, "remove", str(source), str(tmp_path / "o.png"), "--size", "giant")
    assert completed.returncode == 1
    assert b"invalid_size" in completed.stderr
    assert not (tmp_path / "o.png").exists()


def test_batch_keeps_going_past_bad_files(
    env: dict[str, str], tmp_path: Path, person_jpeg: bytes
) -> None:
    inputs = tmp_path / "in"
    (inputs / "nested").mkdir(parents=True)
    (inputs / "a.jpg").write_bytes(person_jpeg)
    (inputs / "nested" / "b.png").write_bytes(encode(gradient_rgb(), "PNG"))
    (inputs / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (inputs / "notes.txt").write_text("ignored: not an image extension")
    out = tmp_path / "out"
    completed = bgone(env, "remove", str(inputs), "--out", str(out))
    assert completed.returncode == 1
    stderr = completed.stderr.decode()
    assert "2 of 3 done, 1 failed" in stderr
    assert "broken.jpg" in stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]


def test_missing_model_names_the_pull_command(tmp_path: Path, person_jpeg: bytes) -> None:
    env = {**os.environ, "BGONE_MODEL_DIR": str(tmp_path / "empty")}
    source = tmp_path / "photo.jpg"
    source.write_bytes(person_jpeg)
    completed = bgone(env, "remove", str(source), str(tmp_path / "o.png"))
    assert completed.returncode == 1
    assert b"bgone models pull u2netp" in completed.stderr


def test_models_list_shows_installed_state(env: dict[str, str]) -> None:
    completed = bgone(env, "models", "list")
    assert completed.returncode == 0
    text = completed.stdout.decode()
    assert "u2netp" in text and "isnet" in text and "yes" in text
    assert "quality=best uses: u2netp" in text  # and isnet, where the suite pulled it
    # The suite's own model dir never holds the int8 copy (test_best makes its own).
    assert "it would add u2net-int8: bgone models pull u2net, then bgone models quantize" in text


def test_models_add_then_use(
    env: dict[str, str], model_dir: Path, tmp_path: Path, person_jpeg: bytes
) -> None:
    store = tmp_path / "store"
    env = {**env, "BGONE_MODEL_DIR": str(store)}
    added = bgone(env, "models", "add", "mine", str(model_dir / "u2netp.onnx"), "--family", "u2net")
    assert added.returncode == 0, added.stderr.decode()
    source = tmp_path / "photo.jpg"
    source.write_bytes(person_jpeg)
    used = bgone(env, "remove", str(source), str(tmp_path / "o.png"), "--model", "mine")
    assert used.returncode == 0, used.stderr.decode()


def test_models_quantize_then_use(
    env: dict[str, str], model_dir: Path, tmp_path: Path, person_jpeg: bytes
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "u2netp.onnx").write_bytes((model_dir / "u2netp.onnx").read_bytes())
    env = {**env, "BGONE_MODEL_DIR": str(store)}
    made = bgone(env, "models", "quantize", "u2netp")
    assert made.returncode == 0, made.stderr.decode()
    assert b"u2netp-int8" in made.stdout and b"calibrated on 3 photos" in made.stdout
    source = tmp_path / "photo.jpg"
    source.write_bytes(person_jpeg)
    used = bgone(env, "remove", str(source), str(tmp_path / "o.png"), "--model", "u2netp-int8")
    assert used.returncode == 0, used.stderr.decode()
    assert Image.open(tmp_path / "o.png").mode == "RGBA"
    again = bgone(env, "models", "quantize", "u2netp-int8")
    assert again.returncode == 1 and b"quantised already" in again.stderr
