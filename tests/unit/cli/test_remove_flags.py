"""`bgone remove`'s flags come from the option table: the same flags as ever, the table's
help, and each flag reaching the options the engine gets (a fake engine, no model)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.testing import CliRunner

from bgone.cli import app
from bgone.cli import remove as remove_module
from bgone.inference.option_table import ENGINE_OPTIONS
from bgone.inference.options import Channels, OutputFormat, Quality, RemovalOptions, Size
from bgone.settings import Settings
from tests.support.imagegen import encode, gradient_rgb
from tests.unit.fakes import FakeRemover

# The public surface, as it was before the table: a later test pins it for good.
FLAGS = [
    ["--out", "-o"],
    ["--size"],
    ["--format"],
    ["--channels"],
    ["--crop"],
    ["--crop-margin"],
    ["--bg-color"],
    ["--bg-image"],
    ["--roi"],
    ["--scale"],
    ["--position"],
    ["--model"],
    ["--refinement"],
    ["--quality"],
]


def command() -> TyperCommand:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    remove = group.commands["remove"]
    assert isinstance(remove, TyperCommand)
    return remove


def test_the_flags_are_the_same_and_in_the_same_order() -> None:
    options = [param for param in command().params if isinstance(param, TyperOption)]
    assert [param.opts for param in options] == FLAGS
    assert [param.secondary_opts for param in options] == [[]] * len(FLAGS)
    crop = next(param for param in options if param.opts == ["--crop"])
    assert crop.is_flag and crop.default is False


def test_each_flags_help_is_the_tables() -> None:
    options = [param for param in command().params if isinstance(param, TyperOption)]
    helps = {param.opts[0]: param.help or "" for param in options}
    for row in ENGINE_OPTIONS:
        flag = "--" + row.name.replace("_", "-")
        assert helps[flag].startswith(row.help.replace("`", "")), flag


def test_the_flags_become_the_engines_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeRemover()

    def remover(settings: Settings) -> FakeRemover:
        return fake

    monkeypatch.setattr(remove_module, "Remover", remover)
    source, background = tmp_path / "in.png", tmp_path / "bg.png"
    source.write_bytes(encode(gradient_rgb(64, 48), "PNG"))
    background.write_bytes(encode(gradient_rgb(8, 8), "PNG"))
    arguments = [str(source), str(tmp_path / "out.webp"), "--size", "hd", "--crop"]
    arguments += ["--channels", "alpha", "--bg-image", str(background), "--scale", "80%"]
    result = CliRunner().invoke(app, ["remove", *arguments])
    assert result.exit_code == 0, result.output
    [options] = fake.calls
    assert (options.size, options.channels, options.crop) == (Size.HD, Channels.ALPHA, True)
    assert options.format is OutputFormat.WEBP  # from OUT's extension
    assert options.bg_image == background.read_bytes()
    assert (options.scale, options.position) == (0.8, (0.5, 0.5))
    assert options.refinement is RemovalOptions().refinement


def test_a_bad_flag_value_answers_the_tables_code(tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(encode(gradient_rgb(64, 48), "PNG"))
    result = CliRunner().invoke(app, ["remove", str(source), "out.png", "--size", "giant"])
    assert result.exit_code == 1
    assert "invalid_size" in result.output


def fake_engine(monkeypatch: pytest.MonkeyPatch) -> FakeRemover:
    fake = FakeRemover()
    monkeypatch.setattr(remove_module, "Remover", lambda settings: fake)
    return fake


def photo(tmp_path: Path) -> str:
    source = tmp_path / "in.png"
    source.write_bytes(encode(gradient_rgb(64, 48), "PNG"))
    return str(source)


def test_quality_best_reaches_the_engine_and_conflicts_with_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, out = fake_engine(monkeypatch), str(tmp_path / "out.png")
    result = CliRunner().invoke(app, ["remove", photo(tmp_path), out, "--quality", "best"])
    assert result.exit_code == 0, result.output
    assert [options.quality for options in fake.calls] == [Quality.BEST]
    arguments = ["remove", photo(tmp_path), out, "--quality", "best", "--model", "u2netp"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 1 and "invalid_quality" in result.output
    assert "model=u2netp" in result.output and len(fake.calls) == 1


def test_the_operators_default_quality_applies_unless_a_refinement_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, out = fake_engine(monkeypatch), str(tmp_path / "out.png")
    monkeypatch.setenv("BGONE_DEFAULT_QUALITY", "best")
    for extra in ([], ["--refinement", "raw"], ["--quality", "fast"]):
        result = CliRunner().invoke(app, ["remove", photo(tmp_path), out, *extra])
        assert result.exit_code == 0, result.output
    assert [options.quality for options in fake.calls] == [
        Quality.BEST,
        Quality.FAST,
        Quality.FAST,
    ]
