"""The public surface stays as it is: CLI commands and flags, BGONE_* variables, imports.

An intended change rewrites tests/golden/cli.txt and variables.txt
(`python -m tests.unit.surface`) and says so in its note.
"""

from __future__ import annotations

import dataclasses
import inspect

import bgone
import bgone.inference
from bgone.inference.option_table import ENGINE_OPTIONS
from bgone.inference.options import RemovalOptions
from tests.support.environment import REPO
from tests.unit.surface import (
    CLI_FILE,
    VARIABLES_FILE,
    cli_lines,
    readme_variables,
    settings_variables,
)

# BGONE_* names the README shows that are not server settings: the examples' key variable
# and the test suite's model directory.
README_ONLY = {"BGONE_API_KEY", "BGONE_TEST_MODEL_DIR"}
OPTION_FIELDS = [
    "size",
    "format",
    "channels",
    "crop",
    "crop_margin",
    "bg_color",
    "bg_image",
    "roi",
    "scale",
    "position",
    "model",
    "refinement",
    "quality",
]


def test_cli_commands_and_flags_are_unchanged() -> None:
    assert cli_lines() == CLI_FILE.read_text().splitlines()


def test_settings_variables_are_unchanged() -> None:
    assert settings_variables() == VARIABLES_FILE.read_text().splitlines()


def test_readme_documents_every_variable_and_no_other() -> None:
    documented = set(readme_variables())
    assert set(settings_variables()) - documented == set()
    assert documented - set(settings_variables()) - README_ONLY == set()


def test_library_entry_point() -> None:
    from bgone import remove

    assert list(inspect.signature(remove).parameters) == ["source", "options", "settings"]
    assert bgone.__all__ == ["remove"]


def test_removal_options_are_importable_from_inference() -> None:
    assert bgone.inference.RemovalOptions is RemovalOptions
    assert [field.name for field in dataclasses.fields(RemovalOptions)] == OPTION_FIELDS


def test_the_readmes_option_table_names_every_option_of_the_table() -> None:
    """The README lists the removal options by hand; this keeps it in step with the table."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("| option | values |") :]
    section = section[: section.index("\n\n")]
    for row in ENGINE_OPTIONS:
        assert f"`{row.name}`" in section, row.name
