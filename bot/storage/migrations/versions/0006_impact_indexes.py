"""followup: one answer row per event, check-in and member; notice: by event and kind

"Wirkung" counts an event's check-ins sent (notices by event and kind) and reads its
answers (followups by event): both walked the whole table before. The unique index
also keeps two answers given at once from making two rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ux_followup_event_kind_member", "followup", ["event_id", "kind", "member_id"], unique=True
    )
    op.create_index("ix_notice_event_kind", "notice", ["event_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_notice_event_kind", table_name="notice")
    op.drop_index("ux_followup_event_kind_member", table_name="followup")
