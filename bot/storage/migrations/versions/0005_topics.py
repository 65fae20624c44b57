"""topic: fields, where it was proposed (for the box index), updated_at, what it was
merged into and why it was closed; topic_interest: the supporter's expectation, and an
index by member; registration: until when a seat is held for an invited member

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("topic") as topic:
        topic.add_column(sa.Column("fields", sa.String(100), nullable=False, server_default=""))
        topic.add_column(sa.Column("lat", sa.Float(), nullable=True))
        topic.add_column(sa.Column("lon", sa.Float(), nullable=True))
        topic.add_column(sa.Column("lat_band", sa.Integer(), nullable=True))
        topic.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        topic.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        topic.add_column(sa.Column("close_reason", sa.Text(), nullable=True))
        topic.create_foreign_key(
            "fk_topic_merged_into_id_topic",
            "topic",
            ["merged_into_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index("ix_topic_box", "topic", ["status", "lat_band", "lon"])
    with op.batch_alter_table("topic_interest") as interest:
        interest.add_column(sa.Column("expectation", sa.Text(), nullable=True))
    op.create_index("ix_topic_interest_member_id", "topic_interest", ["member_id"])
    with op.batch_alter_table("registration") as registration:
        registration.add_column(sa.Column("held_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_registration_held_until", "registration", ["held_until"])


def downgrade() -> None:
    op.drop_index("ix_registration_held_until", table_name="registration")
    with op.batch_alter_table("registration") as registration:
        registration.drop_column("held_until")
    op.drop_index("ix_topic_interest_member_id", table_name="topic_interest")
    with op.batch_alter_table("topic_interest") as interest:
        interest.drop_column("expectation")
    op.drop_index("ix_topic_box", table_name="topic")
    with op.batch_alter_table("topic") as topic:
        topic.drop_constraint("fk_topic_merged_into_id_topic", type_="foreignkey")
        for column in ("close_reason", "merged_into_id", "updated_at", "lat_band", "lon", "lat"):
            topic.drop_column(column)
        topic.drop_column("fields")
