"""The main menu and help."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from bot.dialogs.actions import ValueAction, one_of
from bot.dialogs.base import (
    HELP,
    Context,
    Dialog,
    Go,
    Screen,
    Screenful,
    Step,
    Target,
    nav_row,
    on,
    say,
)
from bot.messages import Button

# Where the menu leads; each opens its first screen with a fresh search.
DESTINATIONS: Mapping[str, Target] = {
    "places": Target("places", "list"),
    "events": Target("events", "when"),
    "registrations": Target("registrations", "list"),
    "new_event": Target("new_event", "format"),
    "my_events": Target("my_events", "list"),
    "announce": Target("announce", "audience"),
    "topics": Target("topics", "list"),
    "propose": Target("propose_topic", "title"),
    "settings": Target("settings", "main"),
}
OPEN = ValueAction("go", one_of(*DESTINATIONS))
FRESH: Mapping[str, object] = {
    "offset": 0,
    "filters": None,
    "window": None,
    "draft": {},
    "event_id": None,
    "proposal": {},
    "topic_id": None,
    "announcement_draft": None,
    "broadcast_id": None,
}


def menu_buttons(ctx: Context) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = [
        (Button(ctx._("Open workshops nearby"), OPEN("places")),),
        (Button(ctx._("Events"), OPEN("events")),),
        (Button(ctx._("My sign-ups"), OPEN("registrations")),),
        (
            Button(ctx._("Topics nearby"), OPEN("topics")),
            Button(ctx._("Propose a topic"), OPEN("propose")),
        ),
    ]
    if ctx.member.is_organiser:
        rows.append(
            (
                Button(ctx._("Create an event"), OPEN("new_event")),
                Button(ctx._("My events"), OPEN("my_events")),
            )
        )
        rows.append((Button(ctx._("Send an announcement"), OPEN("announce")),))
    rows.append((Button(ctx._("Settings"), OPEN("settings")), Button(ctx._("Help"), HELP.payload)))
    return tuple(rows)


class State(enum.StrEnum):
    MAIN = "main"


class Menu(Dialog):
    name = "menu"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        return {State.MAIN: Screen(self._main, (on(OPEN, _open),))}

    async def _main(self, ctx: Context) -> Screenful:
        return (say(ctx._("What would you like to do?"), *menu_buttons(ctx)),)


async def _open(ctx: Context, destination: str) -> Step:
    to = DESTINATIONS[destination]
    # A fresh search each time the member comes from the menu.
    return Go(Target(to.flow, to.state, FRESH))


class HelpState(enum.StrEnum):
    MAIN = "main"


class Help(Dialog):
    name = "help"
    states = HelpState

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        return {HelpState.MAIN: Screen(self._main)}

    async def _main(self, ctx: Context) -> Screenful:
        lines = [
            ctx._("Werkbank helps you find open workshops and events near you."),
            ctx._(
                "• “Open workshops nearby”: "
                "places with their opening hours, equipment and distance."
            ),
            ctx._("• “Events”: meetings and workshops this week, next weekend or later."),
            ctx._("• “My sign-ups”: the events you signed up for; cancel there if you can't come."),
            ctx._("• “Settings”: language, your town, how far you would travel, your interests."),
            ctx._(
                "Tap a button or type its number. “Menu”, “Back”, “Help” and “Stop” "
                "work at every step."
            ),
            ctx._("Want to organise events? Send “my ID” and pass the answer to the operator."),
        ]
        return (say("\n".join(lines), nav_row(ctx)),)
