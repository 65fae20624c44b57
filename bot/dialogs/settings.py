"""Settings: language, location, radius, interests, reminders."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping

from bot.codes import CHECKINS, INVITATIONS, NAME_TO_ORGANISER, Field
from bot.dialogs.actions import FLAG, NEWS, POSITIVE, Action, ValueAction, one_of
from bot.dialogs.announcements import announcement_service
from bot.dialogs.base import (
    Context,
    Dialog,
    Go,
    Screen,
    Screenful,
    Stay,
    Step,
    nav_row,
    note,
    on,
    say,
)
from bot.dialogs.location import location_screens
from bot.dialogs.menu import news_answer, news_line
from bot.dialogs.onboarding import FIELD, LANGUAGE, field_buttons, language_buttons
from bot.dialogs.privacy import MY_DATA
from bot.dialogs.topics import invitations_line
from bot.dialogs.words import FIELD_WORDS, LANGUAGE_NAMES, word
from bot.messages import Button, Incoming
from bot.services.contracts import RADIUS_CHOICES_KM

MAX_RADIUS_KM = 500
# "30 km", "30km", "30 Kilometer" (ASCII digits: "³" is no number of kilometres). A bare
# number is an option where options are shown; it reaches this only from the runner
# when a screen has none.
_KILOMETRES = re.compile(r"([0-9]{1,4})\s*(?:km|kilometer|kilometern|kilometres|kilometers)?")

CHANGE = ValueAction("set", one_of("language", "location", "radius", "field"))
MY_DATA_BUTTON = Action("my_data")
RADIUS = ValueAction("radius", POSITIVE)
DAY_BEFORE = ValueAction("day_before", FLAG)
TWO_HOURS = ValueAction("two_hours", FLAG)
INVITE = ValueAction("invitations", FLAG)
CHECKIN_ASKS = ValueAction("checkins", FLAG)
ANNOUNCEMENTS_AGAIN = Action("announcements_again")
NAME_SHOWN = ValueAction("name_to_organiser", FLAG)


class State(enum.StrEnum):
    MAIN = "main"
    LANGUAGE = "language"
    LOCATION = "location"
    CHOOSE_TOWN = "choose_town"
    RADIUS = "radius"
    FIELD = "field"


class Settings(Dialog):
    name = "settings"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        location, choose_town = location_screens(self._back_to_main())
        return {
            State.MAIN: Screen(
                self._main,
                (
                    on(CHANGE, self._change),
                    on(DAY_BEFORE, self._day_before),
                    on(TWO_HOURS, self._two_hours),
                    on(INVITE, self._invitations),
                    on(CHECKIN_ASKS, self._checkins),
                    on(NEWS, news_answer),
                    on(ANNOUNCEMENTS_AGAIN, self._announcements_again),
                    on(NAME_SHOWN, self._name_shown),
                    on(MY_DATA_BUTTON, self._my_data),
                ),
            ),
            State.LANGUAGE: Screen(self._ask_language, (on(LANGUAGE, self._language),)),
            State.LOCATION: location,
            State.CHOOSE_TOWN: choose_town,
            State.RADIUS: Screen(
                self._ask_radius,
                (on(RADIUS, self._radius),),
                answer=self._typed_radius,
                unit=lambda t, km: t.distance(km),
            ),
            State.FIELD: Screen(self._ask_field, (on(FIELD, self._field),)),
        }

    def _back_to_main(self, *said: str) -> Go:
        return self.go(State.MAIN, say=tuple(note(s)[0] for s in said), remember=False)

    async def _main(self, ctx: Context) -> Screenful:
        m = ctx.member
        lines = [
            ctx._("Your settings:"),
            ctx._("Language: {value}").format(value=LANGUAGE_NAMES.get(m.locale, m.locale)),
            ctx._("Location: {value}").format(value=m.home_label or ctx._("not set")),
            _radius_line(ctx, m.radius_km),
            _field_line(ctx, m.field),
            ctx._("Reminder the day before: {value}").format(
                value=_on_off(ctx, m.remind_day_before)
            ),
            ctx._("Reminder 2 hours before: {value}").format(
                value=_on_off(ctx, m.remind_two_hours)
            ),
            invitations_line(ctx, bool(m.invitations)),
            _checkins_line(ctx, m.checkins),
            _name_line(ctx, bool(m.name_to_organiser)),
            news_line(ctx, m.news),
        ]
        if not m.announcements:
            lines.append(ctx._("Announcements: none (you said “No more announcements”)"))
        rows = (
            (Button(ctx._("Change language"), CHANGE("language")),),
            (Button(ctx._("Change location"), CHANGE("location")),),
            (Button(ctx._("Change radius"), CHANGE("radius")),),
            (Button(ctx._("Change interests"), CHANGE("field")),),
            (
                Button(ctx._("Reminder the day before"), DAY_BEFORE(not m.remind_day_before)),
                Button(ctx._("Reminder 2 hours before"), TWO_HOURS(not m.remind_two_hours)),
            ),
            (
                Button(ctx._("Personal invitations"), INVITE(not m.invitations)),
                Button(ctx._("Check-ins"), CHECKIN_ASKS(not m.checkins)),
            ),
            (Button(ctx._("My name beside my answers"), NAME_SHOWN(not m.name_to_organiser)),),
            (Button(ctx._("News from near you"), NEWS(not m.news)),),
            *(
                ((Button(ctx._("Get announcements again"), ANNOUNCEMENTS_AGAIN.payload),),)
                if not m.announcements
                else ()
            ),
            (Button(ctx._("My data and deleting it"), MY_DATA_BUTTON.payload),),
            nav_row(ctx),
        )
        return (say("\n".join(lines), *rows),)

    async def _my_data(self, ctx: Context) -> Step:
        return Go(MY_DATA)

    async def _change(self, ctx: Context, what: str) -> Step:
        return self.go(State(what))

    # Toggles carry the value they set, so a double tap does not undo itself.
    async def _day_before(self, ctx: Context, on: bool) -> Step:
        await ctx.services.members.set_reminders(ctx.member.id, day_before=on)
        return Stay(say=note(_switched(ctx, on)))

    async def _two_hours(self, ctx: Context, on: bool) -> Step:
        await ctx.services.members.set_reminders(ctx.member.id, two_hours=on)
        return Stay(say=note(_switched(ctx, on)))

    async def _invitations(self, ctx: Context, yes: bool) -> Step:
        await ctx.services.members.set_consent(ctx.member.id, INVITATIONS, yes)
        return Stay(say=note(invitations_line(ctx, yes)))

    async def _announcements_again(self, ctx: Context) -> Step:
        # The announcement's own undo: the same consent, and its change in the audit log.
        await announcement_service(ctx).opt_in(ctx.member.id, None)
        return Stay(say=note(ctx._("Undone: you will get announcements again.")))

    async def _checkins(self, ctx: Context, on: bool) -> Step:
        await ctx.services.members.set_consent(ctx.member.id, CHECKINS, on)
        return Stay(say=note(_checkins_line(ctx, on)))

    async def _name_shown(self, ctx: Context, yes: bool) -> Step:
        await ctx.services.members.set_consent(ctx.member.id, NAME_TO_ORGANISER, yes)
        return Stay(say=note(_name_line(ctx, yes)))

    async def _ask_language(self, ctx: Context) -> Screenful:
        return (say(ctx._("Which language would you like?"), *language_buttons(), nav_row(ctx)),)

    async def _language(self, ctx: Context, code: str) -> Step:
        await ctx.services.members.set_locale(ctx.member.id, code)
        # The next screen speaks the new language; the language's own name confirms it.
        return self._back_to_main(f"✓ {LANGUAGE_NAMES[code]}")

    async def _ask_radius(self, ctx: Context) -> Screenful:
        text = ctx._("How far would you travel? Choose a distance.")
        text += "\n" + ctx._("Another distance? Type it with “km”, for example “30 km”.")
        choices = tuple(Button(ctx.t.distance(km), RADIUS(km)) for km in RADIUS_CHOICES_KM)
        return (say(text, choices, nav_row(ctx)),)

    async def _radius(self, ctx: Context, km: int) -> Step:
        if not 1 <= km <= MAX_RADIUS_KM:
            hint = ctx._("Please choose a distance or type one from 1 to {max} km.")
            return Stay(say=note(hint.format(max=MAX_RADIUS_KM)))
        await ctx.services.members.set_radius(ctx.member.id, km)
        return self._back_to_main(_radius_line(ctx, km))

    async def _typed_radius(self, ctx: Context, msg: Incoming) -> Step:
        typed = _KILOMETRES.fullmatch(msg.text.lower())
        return await self._radius(ctx, int(typed[1]) if typed else 0)

    async def _ask_field(self, ctx: Context) -> Screenful:
        return (say(ctx._("What interests you most?"), *field_buttons(ctx), nav_row(ctx)),)

    async def _field(self, ctx: Context, field: Field) -> Step:
        await ctx.services.members.set_field(ctx.member.id, field)
        return self._back_to_main(_field_line(ctx, field))


def _radius_line(ctx: Context, km: int) -> str:
    return ctx._("Radius: {value}").format(value=ctx.t.distance(km))


def _field_line(ctx: Context, code: str | None) -> str:
    return ctx._("Interest: {value}").format(
        value=word(ctx.t, FIELD_WORDS, code) or ctx._("not set")
    )


def _checkins_line(ctx: Context, on: bool) -> str:
    return ctx._("Check-ins after workshops: {value}").format(value=_on_off(ctx, on))


def _name_line(ctx: Context, yes: bool) -> str:
    return ctx._("Organisers see my first name beside my check-in answers: {value}").format(
        value=ctx._("yes") if yes else ctx._("no")
    )


def _on_off(ctx: Context, on: bool) -> str:
    return ctx._("on") if on else ctx._("off")


def _switched(ctx: Context, on: bool) -> str:
    return ctx._("Reminder switched on.") if on else ctx._("Reminder switched off.")
