"""Where a typed request leads ("termine morgen" → tomorrow's events), and the
question "Meinst du …?" when it could mean two or three things.

`bot.understanding` says what a message asks for; the runner goes straight to a
clear one's screen (`TARGETS`) and opens this dialog for an unclear one, whose
buttons name the likely actions in plain words.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from bot.dialogs.actions import ValueAction, one_of
from bot.dialogs.base import Context, Dialog, Go, Screen, Screenful, Step, Target, nav_row, on, say
from bot.dialogs.menu import DESTINATIONS, FRESH, LABELS
from bot.i18n import N_
from bot.messages import Button
from bot.understanding import Action

# The screen each request opens, with a fresh search (as from the menu).
TARGETS: Mapping[Action, Target] = {
    Action.PLACES: DESTINATIONS["places"],
    Action.EVENTS: DESTINATIONS["events"],
    Action.EVENTS_TODAY: Target("events", "list", {"window": "today"}),
    Action.EVENTS_TOMORROW: Target("events", "list", {"window": "tomorrow"}),
    Action.EVENTS_WEEKEND: Target("events", "list", {"window": "weekend"}),
    Action.EVENTS_NEXT_WEEK: Target("events", "list", {"window": "next_week"}),
    # To sign up, one picks an event first: this week's, the other periods a tap away.
    Action.SIGN_UP: Target("events", "list", {"window": "week"}),
    Action.MY_SIGNUPS: DESTINATIONS["registrations"],
    Action.TOPICS: DESTINATIONS["topics"],
    Action.PROPOSE: DESTINATIONS["propose"],
    Action.SETTINGS: DESTINATIONS["settings"],
    Action.CHANGE_PLACE: Target("settings", "location"),
    Action.CHANGE_RADIUS: Target("settings", "radius"),
    Action.CHANGE_LANGUAGE: Target("settings", "language"),
    Action.MY_DATA: DESTINATIONS["my_data"],
    Action.ERASE: Target("my_data", "erase"),
    Action.HELP: Target("help", "main"),
    Action.MENU: Target("menu", "main"),
}
# A button's words for each request the bot may ask about: the menu's where it has them.
WORDS: Mapping[Action, str] = {
    Action.PLACES: LABELS["places"],
    Action.EVENTS: LABELS["events"],
    Action.EVENTS_TODAY: N_("Events today"),
    Action.EVENTS_TOMORROW: N_("Events tomorrow"),
    Action.EVENTS_WEEKEND: N_("Events at the weekend"),
    Action.EVENTS_NEXT_WEEK: N_("Events next week"),
    Action.SIGN_UP: N_("Sign up for an event"),
    Action.MY_SIGNUPS: LABELS["registrations"],
    Action.TOPICS: LABELS["topics"],
    Action.PROPOSE: LABELS["propose"],
    Action.SETTINGS: LABELS["settings"],
    Action.CHANGE_PLACE: N_("Change my town"),
    Action.CHANGE_RADIUS: N_("Change how far I travel"),
    Action.CHANGE_LANGUAGE: N_("Change the language"),
    Action.MY_DATA: LABELS["my_data"],
    Action.ERASE: N_("Delete everything"),
    Action.HELP: LABELS["help"],
    Action.MENU: N_("Menu"),
}
GUESS = ValueAction("guess", one_of(*TARGETS))
GUESSES = "guesses"  # state data: the actions offered, best first


def target(action: Action) -> Target:
    """Where `action` leads, with a fresh search."""
    to = TARGETS[action]
    return Target(to.flow, to.state, {**FRESH, **to.data})


class State(enum.StrEnum):
    CHOOSE = "choose"


class Guess(Dialog):
    name = "guess"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        return {State.CHOOSE: Screen(self._choose, (on(GUESS, self._go),))}

    async def _choose(self, ctx: Context) -> Screenful:
        offered = [Action(a) for a in ctx.data.get(GUESSES) or () if a in TARGETS]
        rows = [(Button(ctx._(WORDS[a]), GUESS(a.value)),) for a in offered]
        return (say(ctx._("Did you mean one of these?"), *rows, nav_row(ctx)),)

    async def _go(self, ctx: Context, action: str) -> Step:
        return Go(target(Action(action)))
