"""Plain words for the codes stored in the database (DOMAIN.md: no jargon)."""

from __future__ import annotations

from bot.i18n import N_, Translator

PLACE_TYPE_WORDS = {
    "workshop": N_("Open workshop"),
    "repair_cafe": N_("Repair café"),
    "digital_learning": N_("Place to learn digital skills"),
    "info_place": N_("Information and meeting place"),
    "colab": N_("Hands-on lab"),
    "network": N_("Meeting point for business, science and town"),
    "craft_firm": N_("Craft business with an open workshop"),
}
EQUIPMENT_WORDS = {
    "3d_printer": N_("3D printer"),
    "laser_cutter": N_("Laser cutter"),
    "vinyl_cutter": N_("Vinyl cutter"),
    "cnc": N_("CNC mill"),
    "sewing": N_("Sewing machines"),
    "wood": N_("Woodworking"),
    "metal": N_("Metalworking"),
    "soldering": N_("Soldering station"),
}
FIELD_WORDS = {
    "craft": N_("Craft"),
    "design": N_("Design"),
    "digital": N_("Digital fabrication"),
    "other": N_("Just looking"),
}
FORMAT_WORDS = {
    "networking": N_("Networking meeting"),
    "open_workshop": N_("Open workshop day"),
    "transfer": N_("Transfer workshop"),
    "pro2pro": N_("Pro2Pro training"),
    "other": N_("Event"),
}
STEP_FREE_WORDS = {
    "yes": N_("step-free"),
    "limited": N_("partly step-free"),
    "no": N_("not step-free"),
}
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}  # each in its own language, never translated


def word(t: Translator, table: dict[str, str], code: str | None) -> str:
    """The member's word for a code; the code itself if it is not in the table."""
    if code is None:
        return ""
    return t._(table[code]) if code in table else code
