"""The codes of bot.codes, as members and operators meet them."""

from __future__ import annotations

from enum import StrEnum

import pytest

from bot.codes import (
    TRANSFER_SEATS,
    Equipment,
    EventFormat,
    Field,
    PlaceType,
    RegistrationStatus,
    Role,
    StepFree,
    known_code,
    known_codes,
)
from bot.dialogs.words import (
    EQUIPMENT_WORDS,
    FIELD_WORDS,
    FORMAT_WORDS,
    PLACE_TYPE_WORDS,
    STEP_FREE_WORDS,
)
from bot.services.contracts import EQUIPMENT, EVENT_FORMATS, FIELDS, PLACE_TYPES
from bot.services.demo_places import DEMO_PLACES
from bot.services.organising import CSV_STATUS


@pytest.mark.parametrize(
    ("codes", "words"),
    [
        (EventFormat, FORMAT_WORDS),
        (PlaceType, PLACE_TYPE_WORDS),
        (Equipment, EQUIPMENT_WORDS),
        (Field, FIELD_WORDS),
        (StepFree, STEP_FREE_WORDS),
    ],
    ids=["EventFormat", "PlaceType", "Equipment", "Field", "StepFree"],
)
def test_every_code_has_a_plain_word_and_every_word_a_code(
    codes: type[StrEnum], words: dict[str, str]
) -> None:
    values = sorted(code.value for code in codes)
    assert not set(values) - set(words), "codes a member would see raw"
    assert not set(words) - set(values), "words for codes that do not exist"


def test_the_menus_offer_every_code_in_the_enum_order() -> None:
    assert tuple(PlaceType) == PLACE_TYPES
    assert tuple(Equipment) == EQUIPMENT
    assert tuple(Field) == FIELDS
    assert tuple(EventFormat) == EVENT_FORMATS
    assert PLACE_TYPES[0] == "workshop"  # the study's "Offene Werkstatt" comes first


def test_members_are_asked_for_expectations_at_transfer_and_pro2pro_only() -> None:
    asking = {f for f in EventFormat if f.asks_expectation}
    assert asking == {EventFormat.TRANSFER, EventFormat.PRO2PRO}
    assert TRANSFER_SEATS == 5


def test_organisers_and_admins_may_organise() -> None:
    assert {r for r in Role if r.may_organise} == {Role.ORGANISER, Role.ADMIN}


def test_registered_attended_and_held_for_an_invitation_take_a_seat() -> None:
    holding = {s for s in RegistrationStatus if s.holds_seat}
    assert holding == {
        RegistrationStatus.REGISTERED,
        RegistrationStatus.ATTENDED,
        RegistrationStatus.HELD,
    }


def test_the_attendee_list_names_every_status() -> None:
    assert set(CSV_STATUS) == set(RegistrationStatus)


def test_demo_places_use_known_codes() -> None:
    for place in DEMO_PLACES:
        assert known_codes(PlaceType, place.types) == place.types, place.name
        assert known_codes(Equipment, place.equipment) == place.equipment, place.name
        if place.step_free is not None:
            assert known_code(StepFree, place.step_free) is not None, place.name


def test_unknown_codes_are_left_out_not_raised() -> None:
    assert known_codes(PlaceType, ["workshop", "spaceport", "colab"]) == (
        PlaceType.WORKSHOP,
        PlaceType.COLAB,
    )
    assert known_code(StepFree, "designated") is None
    assert known_code(StepFree, None) is None
    assert known_code(Field, Field.DESIGN) is Field.DESIGN


def test_every_notice_kind_has_its_words() -> None:
    from bot.codes import NoticeKind
    from bot.dialogs.notices import NOTICE_WORDS

    assert set(NOTICE_WORDS) == set(NoticeKind)
