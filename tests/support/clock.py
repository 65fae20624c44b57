"""The fixed moment tests start at, and its time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
# A Tuesday afternoon: most places with hours are open, the weekend is ahead.
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=BERLIN)
# Thursday of the test week, 17 Uhr: when the tests' events begin.
START = datetime(2026, 11, 26, 17, tzinfo=BERLIN)
