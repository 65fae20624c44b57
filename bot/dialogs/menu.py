"""The main menu and help."""

from __future__ import annotations

from bot.dialogs.base import Context, Dialog, Go, Stay, Step, nav_row, say
from bot.messages import Button, Incoming, OutMessage


def menu_buttons(ctx: Context) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = [
        (Button(ctx._("Open workshops nearby"), "go:places"),),
        (Button(ctx._("Events"), "go:events"),),
        (Button(ctx._("My sign-ups"), "go:registrations"),),
    ]
    if ctx.member.is_organiser:
        rows.append(
            (
                Button(ctx._("Create an event"), "go:new_event"),
                Button(ctx._("My events"), "go:my_events"),
            )
        )
    rows.append((Button(ctx._("Settings"), "go:settings"), Button(ctx._("Help"), "help")))
    return tuple(rows)


class Menu(Dialog):
    name = "menu"

    async def show(self, ctx: Context, state: str) -> tuple[OutMessage, ...]:
        return (say(ctx._("What would you like to do?"), *menu_buttons(ctx)),)

    async def handle(self, ctx: Context, state: str, msg: Incoming) -> Step:
        target = {
            "go:places": ("places", "list"),
            "go:events": ("events", "when"),
            "go:registrations": ("registrations", "list"),
            "go:new_event": ("organiser", "format"),
            "go:my_events": ("organiser", "mine"),
            "go:settings": ("settings", "main"),
        }
        if msg.payload not in target:
            return Stay()
        flow, next_state = target[msg.payload]
        # A fresh search each time the member comes from the menu.
        return Go(
            flow,
            next_state,
            data={"offset": 0, "filters": None, "window": None, "draft": {}, "event_id": None},
        )


class Help(Dialog):
    name = "help"

    async def show(self, ctx: Context, state: str) -> tuple[OutMessage, ...]:
        lines = [
            ctx._("Werkbank helps you find open workshops and events near you."),
            ctx._(
                "• “Open workshops nearby”: "
                "places with their opening hours, equipment and distance."
            ),
            ctx._("• “Events”: meetings and workshops this week, next weekend or later."),
            ctx._("• “My sign-ups”: the events you signed up for; cancel there if you can't come."),
            ctx._("• “Settings”: language, your town, how far you would travel, your interests."),
            ctx._("Tap a button or type its number. “Menu”, “Back” and “Help” work at every step."),
            ctx._("Want to organise events? Send “my ID” and pass the answer to the operator."),
        ]
        return (say("\n".join(lines), nav_row(ctx)),)

    async def handle(self, ctx: Context, state: str, msg: Incoming) -> Step:
        return Stay()
