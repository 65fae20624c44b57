"""dialog_state.version: two steps for one member, on any worker, cannot both win

A step reads the conversation with its version and saves it only if the version is
still the one it read (`UPDATE … WHERE version = :read`), raising it by one. The
second of two concurrent steps finds it changed, and its whole transaction (update
claim, writes, state) is rolled back; the member is answered as for a stale button.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dialog_state") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("dialog_state") as batch:
        batch.drop_column("version")
