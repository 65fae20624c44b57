"""Werkbank: a messenger bot for craft businesses and maker communities."""

__version__ = "0.1.0"
