"""The option table against what it describes: RemovalOptions, the parser, the OpenAPI bodies.

A field added to RemovalOptions without its row (or a row without its field) fails here
first; so does a row whose parser disagrees with its allowed values or its error code.
"""

from __future__ import annotations

import typing
from dataclasses import fields
from enum import StrEnum

import pytest

from bgone.api.contracts import BACKGROUND_ERASE, BYBYBG, REMOVE_BG, Contract
from bgone.api.openapi.bodies import option_error_cases, option_fields
from bgone.errors import CATALOGUE, InvalidOption
from bgone.inference.option_table import (
    ACCEPTED_ONLY_OPTIONS,
    ENGINE_OPTIONS,
    OPTION_TABLE,
    OPTIONS_BY_NAME,
    OptionKind,
    OptionRow,
    option_error_codes,
    option_names,
    parse_fields,
    validate_accepted_only,
)
from bgone.inference.options import RemovalOptions, Size

FIELD_TYPES = typing.get_type_hints(RemovalOptions)
CONTRACTS = (BACKGROUND_ERASE, BYBYBG, REMOVE_BG)
NOT_A_VALUE = "not a valid value!"


def _enum_of(name: str) -> type[StrEnum] | None:
    kind = FIELD_TYPES[name]
    return kind if isinstance(kind, type) and issubclass(kind, StrEnum) else None


def test_every_field_of_removal_options_has_exactly_one_row_in_its_order() -> None:
    assert option_names() == tuple(field.name for field in fields(RemovalOptions))
    assert len(OPTIONS_BY_NAME) == len(OPTION_TABLE)  # no name twice


def test_compatibility_only_rows_set_nothing() -> None:
    names = {row.name for row in ACCEPTED_ONLY_OPTIONS}
    assert names == {"type", "type_level", "add_shadow", "semitransparency", "despill"}
    assert not names & {field.name for field in fields(RemovalOptions)}


@pytest.mark.parametrize("row", ENGINE_OPTIONS, ids=lambda row: row.name)
def test_a_rows_kind_matches_its_fields_type(row: OptionRow) -> None:
    kind = FIELD_TYPES[row.name]
    if row.kind is OptionKind.CHOICE:
        assert _enum_of(row.name) is not None
    elif row.kind is OptionKind.BOOLEAN:
        assert kind is bool
    elif row.kind is OptionKind.IMAGE:
        assert kind == bytes | None and row.parse is None
    else:
        assert _enum_of(row.name) is None and row.parse is not None


@pytest.mark.parametrize(
    "row",
    [row for row in ENGINE_OPTIONS if row.kind is OptionKind.CHOICE],
    ids=lambda row: row.name,
)
def test_a_choice_rows_values_are_its_enums_and_each_value_and_alias_parses(
    row: OptionRow,
) -> None:
    kind = _enum_of(row.name)
    assert kind is not None
    assert row.choices == tuple(member.value for member in kind)
    for text in row.accepted_values:
        parsed = getattr(RemovalOptions.from_fields({row.name: text.upper()}), row.name)
        assert parsed is kind(row.aliases.get(text, text))


@pytest.mark.parametrize("row", ENGINE_OPTIONS, ids=lambda row: row.name)
def test_every_example_and_default_parses(row: OptionRow) -> None:
    for text in (*row.examples, *filter(None, [row.default_text])):
        RemovalOptions.from_fields({row.name: text})
    if row.default_text is not None:
        parsed = RemovalOptions.from_fields({row.name: row.default_text})
        assert getattr(parsed, row.name) == getattr(RemovalOptions(), row.name)


@pytest.mark.parametrize("row", OPTION_TABLE, ids=lambda row: row.name)
def test_a_bad_value_answers_the_rows_code(row: OptionRow) -> None:
    if not row.checked or row.parse is None:
        assert row.error_code not in option_error_codes()
        return
    with pytest.raises(InvalidOption) as raised:
        parse_fields({row.name: NOT_A_VALUE}, bg_image=None, defaults=RemovalOptions())
        validate_accepted_only({row.name: NOT_A_VALUE})
    assert raised.value.code == row.error_code


def test_the_option_codes_are_the_tables_and_none_is_in_the_catalogue() -> None:
    codes = option_error_codes()
    assert codes == tuple(
        f"invalid_{row.name}" for row in OPTION_TABLE if row.name not in ("model", "bg_image")
    )
    # invalid_model is the catalogue's UnknownModel, raised by the engine, not by the table.
    assert not set(codes) & set(CATALOGUE) and "invalid_model" in CATALOGUE


def test_an_empty_form_is_the_defaults_and_names_are_case_insensitive() -> None:
    assert RemovalOptions.from_fields({}) == RemovalOptions()
    defaults = RemovalOptions(size=Size.PREVIEW)
    assert RemovalOptions.from_fields({"Crop": " ", "size": None}, defaults=defaults) == defaults
    assert RemovalOptions.from_fields({"SIZE": "HD"}).size is Size.HD


def test_scale_and_position_are_parsed_first_and_scale_implies_centring() -> None:
    with pytest.raises(InvalidOption) as raised:
        RemovalOptions.from_fields({"size": "giant", "position": "nowhere"})
    assert raised.value.code == "invalid_position"
    assert RemovalOptions.from_fields({"scale": "80%"}).position == (0.5, 0.5)
    assert RemovalOptions.from_fields({"scale": "80%", "position": "50% 100%"}).position == (
        0.5,
        1.0,
    )


def test_compatibility_only_values_are_checked_and_otherwise_ignored() -> None:
    validate_accepted_only({"type": "Person", "type_level": "latest", "despill": "YES"})
    for row in ACCEPTED_ONLY_OPTIONS:
        assert list(row.choices) == sorted(row.choices)  # the error message lists them sorted
    with pytest.raises(InvalidOption, match=r"^type must be one of animal, auto, car, "):
        validate_accepted_only({"type": "spaceship"})
    assert RemovalOptions.from_fields({"type": "spaceship"}) == RemovalOptions()


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda contract: contract.name)
def test_the_openapi_bodies_list_every_text_row_with_the_contracts_defaults(
    contract: Contract,
) -> None:
    documented = {doc.name: doc for doc in option_fields(contract)}
    texts = [row.name for row in OPTION_TABLE if row.kind is not OptionKind.IMAGE]
    assert list(documented) == texts
    for row in OPTION_TABLE:
        if row.name not in documented:
            continue
        doc = documented[row.name]
        assert doc.description.startswith(row.help)
        if row.kind is OptionKind.CHOICE:
            assert doc.schema["enum"] == list(row.accepted_values)
        if row.engine and row.kind is OptionKind.CHOICE:
            assert doc.schema["default"] == getattr(contract.defaults, row.name).value
    cases = {case.code for case in option_error_cases(contract)}
    assert set(option_error_codes()) <= cases
