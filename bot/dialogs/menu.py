"""The main menu and help."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from bot.codes import NEWS as NEWS_CONSENT
from bot.dialogs.actions import NEWS, ValueAction, one_of
from bot.dialogs.base import (
    HELP,
    Context,
    Dialog,
    Go,
    Screen,
    Screenful,
    Stay,
    Step,
    Target,
    nav_row,
    note,
    on,
    say,
)
from bot.i18n import N_, Translator
from bot.messages import Button, OutMessage

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
    "my_data": Target("my_data", "main"),
}
OPEN = ValueAction("go", one_of(*DESTINATIONS))
FRESH: Mapping[str, object] = {
    "offset": 0,
    "filters": None,
    "radius": None,  # a wider look ("Weiter suchen") lasts one visit of a list
    "window": None,
    "draft": {},
    "event_id": None,
    "proposal": {},
    "topic_id": None,
    "announcement_draft": None,
    "broadcast_id": None,
    "ask_news": None,
}
# State data key: the menu asks "Neuigkeiten aus deiner Nähe bekommen?" until answered
# or left (set as onboarding ends).
ASK_NEWS = "ask_news"


# The menu's words for where it leads (`DESTINATIONS`, and help); typed requests offer
# the same words (`dialogs/guess.py`).
LABELS: Mapping[str, str] = {
    "places": N_("Open workshops nearby"),
    "events": N_("Events"),
    "registrations": N_("My sign-ups"),
    "topics": N_("Topics nearby"),
    "propose": N_("Propose a topic"),
    "new_event": N_("Create an event"),
    "my_events": N_("My events"),
    "announce": N_("Send an announcement"),
    "settings": N_("Settings"),
    "my_data": N_("My data"),
    "help": N_("Help"),
}


def menu_buttons(ctx: Context) -> tuple[tuple[Button, ...], ...]:
    def go(destination: str) -> Button:
        return Button(ctx._(LABELS[destination]), OPEN(destination))

    rows: list[tuple[Button, ...]] = [
        (go("places"),),
        (go("events"),),
        (go("registrations"),),
        (go("topics"), go("propose")),
    ]
    if ctx.member.is_organiser:
        rows.append((go("new_event"), go("my_events")))
        rows.append((go("announce"),))
    rows.append((go("settings"), go("my_data"), Button(ctx._(LABELS["help"]), HELP.payload)))
    return tuple(rows)


class State(enum.StrEnum):
    MAIN = "main"


class Menu(Dialog):
    name = "menu"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        return {State.MAIN: Screen(self._main, (on(OPEN, _open), on(NEWS, self._news)))}

    async def _main(self, ctx: Context) -> Screenful:
        question = ctx._("What would you like to do?")
        if not ctx.data.get(ASK_NEWS):
            return (say(question, *menu_buttons(ctx)),)
        # One message, the answers last: the menu's numbers stay the menu's, and on
        # Telegram the menu's keyboard stays on the last message.
        news = news_question(ctx)
        return (say(f"{question}\n\n{news.text}", *menu_buttons(ctx), *news.buttons),)

    async def _news(self, ctx: Context, yes: bool) -> Step:
        await ctx.services.members.set_consent(ctx.member.id, NEWS_CONSENT, yes)
        to = Target(self.name, State.MAIN, {ASK_NEWS: None})
        return Go(to, note(news_line(ctx, yes)), remember=False)


async def _open(ctx: Context, destination: str) -> Step:
    to = DESTINATIONS[destination]
    # A fresh search each time the member comes from the menu.
    return Go(Target(to.flow, to.state, FRESH))


def news_question(ctx: Context) -> OutMessage:
    """Asked once, as onboarding ends (the menu answers it); the settings change it."""
    text = ctx._(
        "Would you like news from near you? Organisers near you can then tell you "
        "about new workshops, at most one message a day."
    )
    row = (Button(ctx._("Yes, please"), NEWS(True)), Button(ctx._("No, thanks"), NEWS(False)))
    return say(text, row)


async def news_answer(ctx: Context, yes: bool) -> Step:
    await ctx.services.members.set_consent(ctx.member.id, NEWS_CONSENT, yes)
    return Stay(say=note(news_line(ctx, yes)))


def news_line(ctx: Context, yes: bool) -> str:
    return ctx._("News from near you: {value}").format(value=ctx._("yes") if yes else ctx._("no"))


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


def busy_reply(t: Translator) -> OutMessage:
    """The answer when the database stayed locked by another writer: the step was undone
    as a whole, so nothing is lost, and the same message a moment later goes through."""
    return OutMessage(t._("One moment, please. I have a lot to do right now. Try again shortly."))
