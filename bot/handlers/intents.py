"""What a member meant: one incoming message becomes one typed intent.

Pure functions, no I/O: the runner dispatches on the intent's type. The rules every
screen obeys live here:
- a bare number on a screen with numbered options is that option; a value of its own
  is typed with its unit ("30 km"), or bare where the channel shows no numbers
  (Telegram) and the screen takes typed input;
- "Menü", "Zurück", "Hilfe", commands, and the words that leave a question ("stop",
  "abbrechen") are never an answer;
- a word that is part of exactly one button's label presses it, except where typed
  text is an answer;
- other words on a screen of buttons are read for a request ("termine morgen",
  `bot.understanding`); where typed text is an answer, only a greeting, thanks or
  goodbye on its own is taken as such.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace

from bot.dialogs.base import BACK, HELP, MENU, NAV_PAYLOADS, Input, Target
from bot.i18n import DEFAULT_LOCALE
from bot.messages import Button, Incoming, Kind
from bot.understanding import Action, understand

# Longer text is cut before a dialog sees it: the most one Telegram message holds.
# Dialogs set their own, lower limits and ask for a shorter text beyond them.
MAX_TEXT = 4096


class Nav(enum.Enum):
    """Moves that are the same on every screen."""

    START = "start"
    MENU = MENU.payload
    BACK = BACK.payload
    HELP = HELP.payload
    SETTINGS = "settings"
    WHOAMI = "whoami"
    LEAVE = "leave"  # "stop", "abbrechen": leave the question, never its answer


class Refusal(enum.Enum):
    """Input no screen asked for: a short hint, and the same screen (or the menu)."""

    NOT_TEXT = "not_text"  # voice, files, stickers
    STALE = "stale"  # a button that is not on the last screen
    UNKNOWN_COMMAND = "unknown_command"
    NO_SUCH_OPTION = "no_such_option"  # a bare number beyond the options
    NOT_UNDERSTOOD = "not_understood"  # text on a buttons-only screen
    NO_LOCATION = "no_location"  # a location where none was asked for


@dataclass(frozen=True)
class Navigate:
    to: Nav


@dataclass(frozen=True)
class Command:
    """A command that opens a screen from anywhere (the dialog checks who may see it)."""

    to: Target


@dataclass(frozen=True)
class Refuse:
    why: Refusal
    typed: str = ""


@dataclass(frozen=True)
class Answer:
    """Input for the dialog: a button press (typed numbers and labels become one) or text."""

    msg: Incoming


@dataclass(frozen=True)
class Guessed:
    """Typed words that ask for something no button on screen says: one action, or
    two or three likely ones to ask about."""

    actions: tuple[Action, ...]


Intent = Navigate | Command | Refuse | Answer | Guessed

# Where typed text is an answer, these alone are still taken for what they are: no
# town, number or title is "Moin" (a free text may well be "Danke!", so only greetings).
_SOCIAL_ANSWERS = {
    Input.PLACE: (Action.GREETING, Action.THANKS, Action.BYE),
    Input.NUMBER: (Action.GREETING, Action.THANKS, Action.BYE),
    Input.TEXT: (Action.GREETING,),
}
# A greeting, thanks or goodbye is a few words; a longer text is an answer.
_SOCIAL_WORDS = 3

NAV_WORDS = {
    Nav.MENU: {"menü", "menue", "menu", "hauptmenü", "start"},
    Nav.BACK: {"zurück", "zurueck", "back"},
    Nav.HELP: {"hilfe", "help", "?"},
    Nav.LEAVE: {"stop", "stopp", "abbrechen", "abbruch", "beenden", "cancel", "quit", "exit"},
    # Plain words too: Element takes an unknown "/id" for a client command.
    Nav.WHOAMI: {"kennung", "meine kennung", "my id", "my account"},
}
_COMMANDS: dict[str, Nav | Target] = {
    "/start": Nav.START,
    "/menu": Nav.MENU,
    "/menue": Nav.MENU,
    "/menü": Nav.MENU,
    "/back": Nav.BACK,
    "/zurueck": Nav.BACK,
    "/help": Nav.HELP,
    "/hilfe": Nav.HELP,
    "/stop": Nav.LEAVE,
    "/abbrechen": Nav.LEAVE,
    "/cancel": Nav.LEAVE,
    "/settings": Nav.SETTINGS,
    "/einstellungen": Nav.SETTINGS,
    "/id": Nav.WHOAMI,
    "/kennung": Nav.WHOAMI,
    "/anmeldungen": Target("registrations", "list"),
    "/signups": Target("registrations", "list"),
    "/veranstalten": Target("new_event", "format"),
    "/new_event": Target("new_event", "format"),
}
_EMOJI_OR_MARKS = re.compile(r"[^\w\s/?-]", re.UNICODE)
# ASCII digits only: "²" is a digit to str.isdigit() but not to int().
_BARE_NUMBER = re.compile(r"[0-9]{1,4}")


def plain(text: str) -> str:
    """Lowercase, no emoji or punctuation: how labels and typed words are compared."""
    return " ".join(_EMOJI_OR_MARKS.sub(" ", text).lower().split())


def classify(
    msg: Incoming,
    offered: list[Button],
    accepts: Input,
    numbered: bool,
    locale: str = DEFAULT_LOCALE,
) -> Intent:
    """What `msg` means on a screen that offered `offered` and takes `accepts`.

    `numbered`: the channel showed the buttons with numbers (console, Matrix);
    `locale`: the member's language, for reading typed requests."""
    if msg.kind == Kind.BUTTON:
        if msg.payload in NAV_PAYLOADS:
            return Navigate(Nav(msg.payload))
        if msg.payload not in {b.payload for b in offered}:
            return Refuse(Refusal.STALE)
        return Answer(msg)
    if msg.kind in (Kind.VOICE, Kind.FILE, Kind.OTHER):
        return Refuse(Refusal.NOT_TEXT)
    if msg.kind == Kind.LOCATION:
        return Answer(msg) if accepts == Input.PLACE else Refuse(Refusal.NO_LOCATION)
    text = msg.text[:MAX_TEXT].strip()
    if msg.kind == Kind.COMMAND or text.startswith("/"):
        word = text.split()[0].split("@")[0].lower() if text else ""
        command = _COMMANDS.get(word)
        if command is None:
            return Refuse(Refusal.UNKNOWN_COMMAND)
        return Navigate(command) if isinstance(command, Nav) else Command(command)
    if not text:
        return Refuse(Refusal.NOT_UNDERSTOOD)
    return _typed(replace(msg, text=text), plain(text), offered, accepts, numbered, locale)


def _typed(
    msg: Incoming,
    typed: str,
    offered: list[Button],
    accepts: Input,
    numbered: bool,
    locale: str,
) -> Intent:
    if _BARE_NUMBER.fullmatch(typed) and offered:
        number = int(typed)
        if numbered or accepts == Input.NOTHING:
            if 1 <= number <= len(offered):
                return _press(msg, offered[number - 1])
            if accepts in (Input.NOTHING, Input.NUMBER):
                return Refuse(Refusal.NO_SUCH_OPTION, typed)
    for button in offered:
        if typed and typed == plain(button.label):
            return _press(msg, button)
    for nav, words in NAV_WORDS.items():
        if typed in words:
            return Navigate(nav)
    if accepts == Input.NOTHING:
        # "warteliste" for "Auf die Warteliste", "abmelden" for "Ja, abmelden": words that
        # are part of exactly one button's label press it. Not where typed text is an
        # answer: a town typed into a search must not pick a listed place.
        partly = [b for b in offered if _contains_words(plain(b.label), typed)]
        if len(partly) == 1:
            return _press(msg, partly[0])
        guessed = understand(msg.text, locale).actions
        return Guessed(guessed) if guessed else Refuse(Refusal.NOT_UNDERSTOOD, typed)
    if len(typed.split()) <= _SOCIAL_WORDS:
        understood = understand(msg.text, locale)
        social = understood.clear
        if social in _SOCIAL_ANSWERS.get(accepts, ()) and not understood.unmatched:
            return Guessed((social,))
    return Answer(msg)


def _press(msg: Incoming, button: Button) -> Intent:
    if button.payload in NAV_PAYLOADS:
        return Navigate(Nav(button.payload))
    return Answer(replace(msg, kind=Kind.BUTTON, payload=button.payload, text=""))


def _contains_words(label: str, typed: str) -> bool:
    """Whether `typed` (at least 4 letters) is a run of whole words of `label`."""
    return len(typed) >= 4 and f" {typed} " in f" {label} "
