"""`python -m bot` is the same as the `werkbank` command."""

from bot.cli import main

raise SystemExit(main())
