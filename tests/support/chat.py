"""A chat partner for tests: it talks to the runner the way a channel would."""

from __future__ import annotations

from bot.handlers.console import render
from bot.handlers.runner import Runner
from bot.messages import AccountRef, Button, Incoming, Kind, OutMessage, numbered_options


class ChatUser:
    def __init__(
        self,
        runner: Runner,
        name: str,
        channel: str = "console",
        language: str | None = None,
        display_name: str | None = None,
    ):
        self.runner = runner
        self.account = AccountRef(
            channel, name, chat_id=name, display_name=display_name or name, language=language
        )
        self.last: list[OutMessage] = []
        self.sent = 0  # messages and taps so far: how many steps a task took
        self._update = 0

    # -- what the user does -------------------------------------------------
    async def send(self, text: str) -> str:
        kind = Kind.COMMAND if text.startswith("/") else Kind.TEXT
        # As on Telegram, where buttons show no numbers, or as on the console and Matrix.
        numbered = self.account.channel != "telegram"
        return await self._deliver(
            Incoming(self.account, kind, text=text, options_numbered=numbered)
        )

    async def tap(self, label: str) -> str:
        """Press the button whose label contains `label` (case-insensitive), like Telegram."""
        return await self.press(self.button(label).payload)

    async def press(self, payload: str, update_id: str | None = None) -> str:
        return await self._deliver(
            Incoming(self.account, Kind.BUTTON, payload=payload, update_id=update_id)
        )

    async def share_location(self, lat: float, lon: float) -> str:
        return await self._deliver(Incoming(self.account, Kind.LOCATION, lat=lat, lon=lon))

    async def send_kind(self, kind: Kind) -> str:
        return await self._deliver(Incoming(self.account, kind))

    async def open_chat(self) -> str:
        """Open the chat again (the console's start): the current screen, no input."""
        self.last = await self.runner.resume(self.account)
        return self.text

    async def _deliver(self, msg: Incoming) -> str:
        self.sent += 1
        self.last = await self.runner.handle(msg)
        return self.text

    # -- what the user sees -------------------------------------------------
    @property
    def text(self) -> str:
        return render(self.last)

    @property
    def buttons(self) -> list[Button]:
        return numbered_options(self.last)

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.buttons]

    def button(self, label: str) -> Button:
        matches = [b for b in self.buttons if label.lower() in b.label.lower()]
        assert matches, f"no button {label!r} in {self.labels}\n{self.text}"
        return matches[0]

    async def set_radius(self, km: str) -> str:
        """Settings → radius → type `km` → back to the menu (German screens)."""
        await self.send("/einstellungen")
        await self.tap("Umkreis ändern")
        # A radius of its own is typed with its unit: a bare number picks an option.
        await self.send(km if not km.isdigit() else f"{km} km")
        return await self.send("Menü")

    async def agree(self) -> str:
        """The privacy text's "Einverstanden" (or "I agree"), as the second step of all."""
        return await self.tap("Einverstanden" if "Einverstanden" in self.labels else "I agree")

    async def onboard(
        self, town: str = "Iserlohn", language: str = "Deutsch", field: str = "Handwerk"
    ) -> str:
        await self.send("/start")
        await self.tap(language)
        await self.agree()
        await self.send(town)
        return await self.tap(field)
