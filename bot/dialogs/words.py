"""Plain words for the codes stored in the database (DOMAIN.md: no jargon)."""

from __future__ import annotations

from bot.codes import Equipment, EventFormat, Field, PlaceType, StepFree
from bot.i18n import N_, Translator

PLACE_TYPE_WORDS: dict[str, str] = {
    PlaceType.WORKSHOP: N_("Open workshop"),
    PlaceType.REPAIR_CAFE: N_("Repair café"),
    PlaceType.DIGITAL_LEARNING: N_("Place to learn digital skills"),
    PlaceType.INFO_PLACE: N_("Information and meeting place"),
    PlaceType.COLAB: N_("Hands-on lab"),
    PlaceType.NETWORK: N_("Meeting point for business, science and town"),
    PlaceType.CRAFT_FIRM: N_("Craft business with an open workshop"),
}
EQUIPMENT_WORDS: dict[str, str] = {
    Equipment.PRINTER_3D: N_("3D printer"),
    Equipment.LASER_CUTTER: N_("Laser cutter"),
    Equipment.VINYL_CUTTER: N_("Vinyl cutter"),
    Equipment.CNC: N_("CNC mill"),
    Equipment.SEWING: N_("Sewing machines"),
    Equipment.WOOD: N_("Woodworking"),
    Equipment.METAL: N_("Metalworking"),
    Equipment.SOLDERING: N_("Soldering station"),
}
FIELD_WORDS: dict[str, str] = {
    Field.CRAFT: N_("Craft"),
    Field.DESIGN: N_("Design"),
    Field.DIGITAL: N_("Digital fabrication"),
    Field.OTHER: N_("Just looking"),
}
FORMAT_WORDS: dict[str, str] = {
    EventFormat.NETWORKING: N_("Networking meeting"),
    EventFormat.OPEN_WORKSHOP: N_("Open workshop day"),
    EventFormat.TRANSFER: N_("Transfer workshop"),
    EventFormat.PRO2PRO: N_("Pro2Pro training"),
    EventFormat.OTHER: N_("Event"),
}
# The organiser's choice of format: the plain word, then the study's term in brackets.
ORGANISER_FORMAT_WORDS: dict[str, str] = {
    **FORMAT_WORDS,
    EventFormat.TRANSFER: N_("Small-group workshop (transfer workshop)"),
    EventFormat.PRO2PRO: N_("Training among experts (Pro2Pro)"),
}
STEP_FREE_WORDS: dict[str, str] = {
    StepFree.YES: N_("step-free"),
    StepFree.LIMITED: N_("partly step-free"),
    StepFree.NO: N_("not step-free"),
}
# The language choices, each in its own language, never translated. German comes
# twice: spoken to as "du" or as "Sie" (the locale "de@sie", see bot.i18n).
LANGUAGE_NAMES = {"de": "Deutsch (du)", "de@sie": "Deutsch (Sie)", "en": "English"}


def word(t: Translator, table: dict[str, str], code: str | None) -> str:
    """The member's word for a code; the code itself if it is not in the table."""
    if code is None:
        return ""
    return t._(table[code]) if code in table else code
