"""First contact: language → where are you → what interests you → the menu."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from bot.codes import Field
from bot.dialogs.actions import ValueAction, code, one_of
from bot.dialogs.base import (
    AFTER_ONBOARDING,
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
from bot.dialogs.location import location_screens
from bot.dialogs.menu import ASK_NEWS
from bot.dialogs.privacy import AGREE, DECLINE, consent_screen, declined
from bot.dialogs.words import FIELD_WORDS, LANGUAGE_NAMES
from bot.i18n import FORMAL_LOCALES, N_, SUPPORTED_LOCALES, translator
from bot.messages import Button, Incoming, OutMessage

LANGUAGE = ValueAction("lang", one_of(*LANGUAGE_NAMES))
FIELD = ValueAction("field", code(Field))
# What people type instead of tapping a language.
LANGUAGE_WORDS = {
    "de": "de",
    "deutsch": "de",
    "german": "de",
    "du": "de",
    "sie": "de@sie",
    "en": "en",
    "english": "en",
    "englisch": "en",
}
HOME = Target("menu", "main")


ADDRESS_QUESTION = N_("Shall we say “du” or “Sie” to you?")


def language_buttons() -> tuple[tuple[Button, ...], ...]:
    """One tap says the language and, for German, "du" or "Sie"."""
    return (tuple(Button(name, LANGUAGE(code)) for code, name in LANGUAGE_NAMES.items()),)


def field_buttons(ctx: Context) -> tuple[tuple[Button, ...], ...]:
    return tuple((Button(ctx._(label), FIELD(Field(c))),) for c, label in FIELD_WORDS.items())


class State(enum.StrEnum):
    LANGUAGE = "language"
    CONSENT = "consent"
    LOCATION = "location"
    CHOOSE_TOWN = "choose_town"
    FIELD = "field"


class Onboarding(Dialog):
    """Language → location → interests; someone who came through a link skips the interests."""

    name = "onboarding"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        location, choose_town = location_screens(self.go(State.FIELD), then=self._after_link)
        return {
            State.LANGUAGE: Screen(
                self._ask_language, (on(LANGUAGE, self._language),), self._typed_language
            ),
            State.CONSENT: Screen(
                self._ask_consent, (on(AGREE, self._agree), on(DECLINE, declined))
            ),
            State.LOCATION: location,
            State.CHOOSE_TOWN: choose_town,
            State.FIELD: Screen(self._ask_field, (on(FIELD, self._field),)),
        }

    async def _ask_language(self, ctx: Context) -> Screenful:
        # Every shipped language at once: the member has not chosen one yet.
        greeting = N_(
            "Welcome to Werkbank! I show you open workshops and events near you. "
            "Which language would you like?"
        )
        text = "\n\n".join(
            translator(code)._(greeting)
            + (" " + translator(code)._(ADDRESS_QUESTION) if code in FORMAL_LOCALES else "")
            for code in SUPPORTED_LOCALES
        )
        return (OutMessage(text, buttons=language_buttons()),)

    async def _language(self, ctx: Context, code: str) -> Step:
        await ctx.services.members.set_locale(ctx.member.id, code)
        return self.go(State.CONSENT)

    async def _ask_consent(self, ctx: Context) -> Screenful:
        return consent_screen(ctx)

    async def _agree(self, ctx: Context) -> Step:
        await ctx.services.members.agree_to_privacy(ctx.member.id, ctx.now, ctx.account_name)
        if ctx.member.onboarded:  # asked again (a new version of the text): back to the menu
            return Go(HOME, note(ctx._("Thank you!")), remember=False)
        if ctx.member.home is not None:  # caught by a new text after saying where they are
            return self.go(State.FIELD)
        return self.go(State.LOCATION)

    async def _typed_language(self, ctx: Context, msg: Incoming) -> Step:
        code = LANGUAGE_WORDS.get(msg.text.lower().strip(" .!"))
        if code is None:
            return Stay(say=note(" / ".join(LANGUAGE_NAMES.values()) + "?"))
        return await self._language(ctx, code)

    async def _after_link(self, ctx: Context, step: Step) -> Step:
        """Came through a poster's link: show what it points to now; interests can wait
        for the settings."""
        link = Target.from_list(ctx.data.get(AFTER_ONBOARDING))
        if link is None or not isinstance(step, Go) or step.to.state != State.FIELD:
            return step
        await ctx.services.members.finish_onboarding(ctx.member.id)
        to = Target(link.flow, link.state, {**link.data, AFTER_ONBOARDING: None})
        return Go(to, step.say, remember=False)

    async def _ask_field(self, ctx: Context) -> Screenful:
        text = ctx._("What interests you most? You can change this later in the settings.")
        return (say(text, *field_buttons(ctx), nav_row(ctx)),)

    async def _field(self, ctx: Context, field: Field) -> Step:
        await ctx.services.members.set_field(ctx.member.id, field)
        await ctx.services.members.finish_onboarding(ctx.member.id)
        done = ctx._("Done! Here is what I can do for you.")
        # The menu asks once whether they want news from near them (default: no).
        to = Target(HOME.flow, HOME.state, {ASK_NEWS: True})
        return Go(to, say=note(done), remember=False)
