"""Use cases over storage. Each public method owns its transaction.

Dialogs see these only through the interfaces in `bot.services.contracts`.
"""


class ServiceError(Exception):
    """Base for errors a service reports to its caller (e.g. an unknown account)."""


class NotAllowed(ServiceError):
    """The member may not do this (no organiser role, or someone else's event)."""
