"""Every flow by name, and where a member starts."""

from __future__ import annotations

from bot.dialogs.base import Dialog
from bot.dialogs.events import Events
from bot.dialogs.menu import Help, Menu
from bot.dialogs.onboarding import Onboarding
from bot.dialogs.organiser import Organiser
from bot.dialogs.places import Places
from bot.dialogs.registrations import Registrations
from bot.dialogs.settings import Settings
from bot.services.contracts import MemberView

FLOWS: dict[str, Dialog] = {
    dialog.name: dialog
    for dialog in (
        Onboarding(),
        Menu(),
        Help(),
        Settings(),
        Places(),
        Events(),
        Registrations(),
        Organiser(),
    )
}
START = ("onboarding", "language")


HOME = ("menu", "main")


def first_screen(member: MemberView) -> tuple[str, str]:
    """Where a conversation with no saved state begins."""
    return HOME if member.onboarded else START
