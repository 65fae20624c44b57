"""First contact: language → where are you → what interests you → the menu."""

from __future__ import annotations

from bot.dialogs.base import AFTER_ONBOARDING, Context, Dialog, Go, Stay, Step, nav_row, say
from bot.dialogs.location import answer_location, answer_which_town, ask_location, ask_which_town
from bot.dialogs.words import FIELD_WORDS, LANGUAGE_NAMES
from bot.i18n import N_, SUPPORTED_LOCALES, translator
from bot.messages import Button, Incoming, OutMessage

# What people type instead of tapping a language.
LANGUAGE_WORDS = {
    "de": "de",
    "deutsch": "de",
    "german": "de",
    "en": "en",
    "english": "en",
    "englisch": "en",
}


def language_buttons() -> tuple[tuple[Button, ...], ...]:
    return (tuple(Button(LANGUAGE_NAMES[code], f"lang:{code}") for code in SUPPORTED_LOCALES),)


def field_buttons(ctx: Context) -> tuple[tuple[Button, ...], ...]:
    return tuple((Button(ctx._(label), f"field:{code}"),) for code, label in FIELD_WORDS.items())


class Onboarding(Dialog):
    """Language → location → interests; someone who came through a link skips the interests."""

    name = "onboarding"
    text_states = frozenset({"language", "location", "choose_town"})

    async def show(self, ctx: Context, state: str) -> tuple[OutMessage, ...]:
        if state == "language":
            # Every shipped language at once: the member has not chosen one yet.
            greeting = N_(
                "Welcome to Werkbank! I show you open workshops and events near you. "
                "Which language would you like?"
            )
            text = "\n\n".join(translator(code)._(greeting) for code in SUPPORTED_LOCALES)
            return (OutMessage(text, buttons=language_buttons()),)
        if state == "location":
            return ask_location(ctx)
        if state == "choose_town":
            return ask_which_town(ctx)
        if state == "field":
            text = ctx._("What interests you most? You can change this later in the settings.")
            return (say(text, *field_buttons(ctx), nav_row(ctx)),)
        raise ValueError(f"unknown onboarding state {state!r}")

    async def handle(self, ctx: Context, state: str, msg: Incoming) -> Step:
        if state == "language":
            code = msg.payload.removeprefix("lang:") or LANGUAGE_WORDS.get(msg.text.lower(), "")
            if code not in SUPPORTED_LOCALES:
                return Stay(say=(OutMessage("Deutsch / English?"),))
            await ctx.services.members.set_locale(ctx.member.id, code)
            return Go(self.name, "location")
        if state in ("location", "choose_town"):
            answer = answer_location if state == "location" else answer_which_town
            step = await answer(ctx, msg, self.name, Go(self.name, "field"))
            link = ctx.data.get(AFTER_ONBOARDING)
            if link and isinstance(step, Go) and step.state == "field":
                # They came through a poster's link: show what it points to now;
                # interests can wait for the settings.
                await ctx.services.members.finish_onboarding(ctx.member.id)
                flow, target, data = link
                return Go(flow, target, {**data, AFTER_ONBOARDING: None}, step.say, remember=False)
            return step
        if state == "field":
            code = msg.payload.removeprefix("field:")
            if code not in FIELD_WORDS:
                return Stay()
            await ctx.services.members.set_field(ctx.member.id, code)
            await ctx.services.members.finish_onboarding(ctx.member.id)
            done = ctx._("Done! Here is what I can do for you.")
            return Go("menu", "main", say=(OutMessage(done),), remember=False)
        return Stay()
