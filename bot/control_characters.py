"""Control characters in text from outside: dropped where text is stored, made visible
where it is echoed to a terminal.

A calendar file or a file name can carry NUL (PostgreSQL stores none in text), escape
sequences that move the cursor, recolour or retitle the operator's terminal, and
bidirectional overrides that make a line read differently from what it contains.
"""

from __future__ import annotations

import re
import unicodedata

# ESC [ … final byte (CSI), ESC ] … BEL or ESC \ (OSC, e.g. a new window title),
# ESC P/X/^/_ … ESC \ (strings), and any other two-character escape.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x1b[@-Z\\-~]?"
)
# Formatting characters that reorder or hide text on screen (bidi embeddings,
# overrides and isolates, and the marks), and the Unicode line separators.
_INVISIBLE = frozenset(
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
)
_KEPT_IN_TEXT = frozenset("\n\t")


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" or char in _INVISIBLE


def without_control_characters(text: str) -> str:
    """The text without NUL, escapes and other control characters; newlines and tabs
    stay (a description has paragraphs), a CR LF or lone CR becomes a newline."""
    text = _ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(c for c in text if c in _KEPT_IN_TEXT or not _is_control(c))


def for_terminal(text: str) -> str:
    """One line safe to print: escape sequences removed, every other control character
    (newlines included) shown as its code, e.g. \\x00 or \\u202e."""
    out: list[str] = []
    for char in _ANSI.sub("", text):
        if _is_control(char):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)
