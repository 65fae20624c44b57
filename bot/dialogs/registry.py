"""Every flow by name, where a member starts, and where older saved screens now live."""

from __future__ import annotations

from bot.dialogs.announce import Announce
from bot.dialogs.announcements import Announcements
from bot.dialogs.base import Dialog, Target
from bot.dialogs.checkins import Checkins
from bot.dialogs.events import Events
from bot.dialogs.guess import Guess
from bot.dialogs.menu import Help, Menu
from bot.dialogs.my_events import MyEvents
from bot.dialogs.new_event import NewEvent
from bot.dialogs.onboarding import Onboarding
from bot.dialogs.places import Places
from bot.dialogs.privacy import MyData
from bot.dialogs.registrations import Registrations
from bot.dialogs.settings import Settings
from bot.dialogs.topic_care import TopicCare
from bot.dialogs.topic_proposal import TopicProposal
from bot.dialogs.topics import Topics
from bot.services.contracts import MemberView

FLOWS: dict[str, Dialog] = {
    dialog.name: dialog
    for dialog in (
        Onboarding(),
        Menu(),
        Help(),
        Guess(),
        Settings(),
        Places(),
        Events(),
        Registrations(),
        NewEvent(),
        MyEvents(),
        Topics(),
        TopicProposal(),
        TopicCare(),
        Checkins(),
        Announce(),
        Announcements(),
        MyData(),
    )
}
START = Target("onboarding", "language")
CONSENT = Target("onboarding", "consent")
HOME = Target("menu", "main")

# The organiser dialog was one flow ("organiser") until Dec 2026; a conversation saved
# then continues on the same screen of the flow that has it now.
_OLD_ORGANISER = {"mine": ("my_events", "list")} | {
    state: (dialog.name, state)
    for dialog in (FLOWS["new_event"], FLOWS["my_events"])
    for state in dialog.screens
}


def first_screen(member: MemberView) -> Target:
    """Where a conversation with no saved state begins."""
    return HOME if member.onboarded else START


def current(flow: str | None, state: str | None) -> tuple[str, str] | None:
    """The (flow, state) a saved position names today; None if no dialog has it."""
    if flow == "organiser" and state in _OLD_ORGANISER:
        return _OLD_ORGANISER[state]
    if flow in FLOWS and state is not None and state in FLOWS[flow].screens:
        return flow, state
    return None
