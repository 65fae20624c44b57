"""Settings: language, location, radius, interests."""

from __future__ import annotations

import re

from bot.dialogs.base import Context, Dialog, Go, Stay, Step, nav_row, say
from bot.dialogs.location import answer_location, answer_which_town, ask_location, ask_which_town
from bot.dialogs.onboarding import field_buttons, language_buttons
from bot.dialogs.words import FIELD_WORDS, LANGUAGE_NAMES, word
from bot.messages import Button, Incoming, Kind, OutMessage
from bot.services.contracts import RADIUS_CHOICES_KM

MAX_RADIUS_KM = 500
# "30", "30 km", "30km", "30 Kilometer" (ASCII digits: "³" is no number of kilometres)
_KILOMETRES = re.compile(r"([0-9]{1,3})\s*(?:km|kilometer|kilometern|kilometres|kilometers)?")


class Settings(Dialog):
    name = "settings"
    text_states = frozenset({"location", "choose_town", "radius"})
    number_states = frozenset({"radius"})

    async def show(self, ctx: Context, state: str) -> tuple[OutMessage, ...]:
        m = ctx.member
        if state == "main":
            lines = [
                ctx._("Your settings:"),
                ctx._("Language: {value}").format(value=LANGUAGE_NAMES.get(m.locale, m.locale)),
                ctx._("Location: {value}").format(value=m.home_label or ctx._("not set")),
                ctx._("Radius: {value}").format(value=ctx.t.distance(m.radius_km)),
                ctx._("Interest: {value}").format(
                    value=word(ctx.t, FIELD_WORDS, m.field) or ctx._("not set")
                ),
                ctx._("Reminder the day before: {value}").format(
                    value=_on_off(ctx, m.remind_day_before)
                ),
                ctx._("Reminder 2 hours before: {value}").format(
                    value=_on_off(ctx, m.remind_two_hours)
                ),
            ]
            rows = (
                (Button(ctx._("Change language"), "set:language"),),
                (Button(ctx._("Change location"), "set:location"),),
                (Button(ctx._("Change radius"), "set:radius"),),
                (Button(ctx._("Change interests"), "set:field"),),
                (
                    Button(ctx._("Reminder the day before"), "toggle:day_before"),
                    Button(ctx._("Reminder 2 hours before"), "toggle:two_hours"),
                ),
                nav_row(ctx),
            )
            return (say("\n".join(lines), *rows),)
        if state == "language":
            return (
                say(ctx._("Which language would you like?"), *language_buttons(), nav_row(ctx)),
            )
        if state == "location":
            return ask_location(ctx)
        if state == "choose_town":
            return ask_which_town(ctx)
        if state == "radius":
            text = ctx._(
                "How far would you travel? Choose a distance or type a number of kilometres."
            )
            choices = tuple(Button(ctx.t.distance(km), f"radius:{km}") for km in RADIUS_CHOICES_KM)
            return (say(text, choices, nav_row(ctx)),)
        if state == "field":
            return (say(ctx._("What interests you most?"), *field_buttons(ctx), nav_row(ctx)),)
        raise ValueError(f"unknown settings state {state!r}")

    async def handle(self, ctx: Context, state: str, msg: Incoming) -> Step:
        saved = Go(self.name, "main", say=(OutMessage(ctx._("Saved.")),), remember=False)
        if state == "main":
            target = msg.payload.removeprefix("set:")
            if target in ("language", "location", "radius", "field"):
                return Go(self.name, target)
            if msg.payload == "toggle:day_before":
                on = not ctx.member.remind_day_before
                await ctx.services.members.set_reminders(ctx.member.id, day_before=on)
                return Stay(say=(OutMessage(_switched(ctx, on)),))
            if msg.payload == "toggle:two_hours":
                on = not ctx.member.remind_two_hours
                await ctx.services.members.set_reminders(ctx.member.id, two_hours=on)
                return Stay(say=(OutMessage(_switched(ctx, on)),))
            return Stay()
        if state == "language":
            code = msg.payload.removeprefix("lang:")
            if code not in LANGUAGE_NAMES:
                return Stay()
            await ctx.services.members.set_locale(ctx.member.id, code)
            # Said in the new language by the next screen; a short neutral tick here.
            return Go(self.name, "main", say=(OutMessage("✓"),), remember=False)
        if state == "location":
            return await answer_location(ctx, msg, self.name, saved)
        if state == "choose_town":
            return await answer_which_town(ctx, msg, self.name, saved)
        if state == "radius":
            value = msg.payload.removeprefix("radius:") if msg.kind == Kind.BUTTON else msg.text
            typed = _KILOMETRES.fullmatch(value.strip().lower())
            if typed is None or not 1 <= int(typed[1]) <= MAX_RADIUS_KM:
                hint = ctx._("Please choose a distance or type a number from 1 to {max}.").format(
                    max=MAX_RADIUS_KM
                )
                return Stay(say=(OutMessage(hint),))
            await ctx.services.members.set_radius(ctx.member.id, int(typed[1]))
            return saved
        if state == "field":
            code = msg.payload.removeprefix("field:")
            if code not in FIELD_WORDS:
                return Stay()
            await ctx.services.members.set_field(ctx.member.id, code)
            return saved
        return Stay()


def _on_off(ctx: Context, on: bool) -> str:
    return ctx._("on") if on else ctx._("off")


def _switched(ctx: Context, on: bool) -> str:
    return ctx._("Reminder switched on.") if on else ctx._("Reminder switched off.")
