"""notice: a partial index on (due_at, id) over the notices still to send

The claim walked `ix_notice_due_at` from the oldest row and skipped every done
notice by filter: done notices are kept, so each claim (and each idle tick) grew
slower with the table (about 60 ms at 300 000 done rows on PostgreSQL, against
under 1 ms with this index).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same text as bot.storage.models.OPEN_NOTICE (a migration must not import models).
OPEN_NOTICE = "status IN ('pending', 'claimed')"


def upgrade() -> None:
    op.create_index(
        "ix_notice_open_due",
        "notice",
        ["due_at", "id"],
        postgresql_where=sa.text(OPEN_NOTICE),
        sqlite_where=sa.text(OPEN_NOTICE),
    )


def downgrade() -> None:
    op.drop_index("ix_notice_open_due", table_name="notice")
