"""Persistence: SQLAlchemy 2 models, the async engine, repositories, migrations.

Nothing here imports from the layers above (services, dialogs, handlers).
"""


class StorageError(Exception):
    """Base for storage failures that callers may want to tell apart."""
