"""announcements: broadcast rows with their recipients in the notice outbox

An announcement's recipients become `notice` rows (kind `announcement`) with a
`broadcast_id`, so reminders, check-ins and announcements share one outbox, one claim
and one pace. A unique index (broadcast_id, member_id) sends each person at most once;
(broadcast_id, status) counts the progress. The `delivery` table, created in 0001 for
this and never used, goes. `member.news_caps_lifted` lets an operator lift an
organiser's caps on region announcements.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OPEN_PERSONAL = "status IN ('pending', 'claimed') AND broadcast_id IS NULL"
ANNOUNCEMENT_ROW = "broadcast_id IS NOT NULL"


def _broadcast_columns() -> tuple[sa.Column[object], ...]:
    """New columns each time: a Column belongs to one table once it is added."""
    return (
        sa.Column("news", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("button", sa.String(20), nullable=False, server_default="none"),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("total", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report_channel", sa.String(20), nullable=True),
        sa.Column("report_account", sa.String(255), nullable=True),
        sa.Column("report_message", sa.String(100), nullable=True),
        sa.Column("reported_tenths", sa.Integer(), nullable=False, server_default="0"),
    )


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def _indexes(table: str) -> set[str]:
    return {i["name"] or "" for i in sa.inspect(op.get_bind()).get_indexes(table)}


def _create_index(present: set[str], name: str, *args: Any, **kwargs: Any) -> None:
    """An index, unless a first run that failed later (SQLite keeps its DDL) made it."""
    if name not in present:
        op.create_index(name, *args, **kwargs)


def upgrade() -> None:
    # SQLite does not undo DDL with a failed migration: a second start goes on from there.
    # A plain ADD COLUMN, never a batch copy of `member`: with foreign keys on, SQLite's
    # DROP of the old copy would cascade into every table that refers to members.
    if "news_caps_lifted" not in _columns("member"):
        op.add_column(
            "member",
            sa.Column("news_caps_lifted", sa.Boolean(), nullable=False, server_default=sa.false()),
        )
    # Before `broadcast` is copied (SQLite), so the copy's DROP cascades into nothing.
    if sa.inspect(op.get_bind()).has_table("delivery"):
        op.drop_table("delivery")
    present = _columns("broadcast")
    with op.batch_alter_table("broadcast") as batch:
        for column in _broadcast_columns():
            if column.name not in present:
                batch.add_column(column)
        if "event_id" not in present:
            batch.create_foreign_key(
                op.f("fk_broadcast_event_id_event"),
                "event",
                ["event_id"],
                ["id"],
                ondelete="SET NULL",
            )
            batch.create_foreign_key(
                op.f("fk_broadcast_topic_id_topic"),
                "topic",
                ["topic_id"],
                ["id"],
                ondelete="SET NULL",
            )
    if "broadcast_id" not in _columns("notice"):
        with op.batch_alter_table("notice") as batch:
            batch.add_column(sa.Column("broadcast_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(
                op.f("fk_notice_broadcast_id_broadcast"),
                "broadcast",
                ["broadcast_id"],
                ["id"],
                ondelete="CASCADE",
            )
    present_indexes = _indexes("notice") | _indexes("broadcast")
    # Partial, so the claim of personal notices (broadcast_id IS NULL) never picks them.
    _create_index(
        present_indexes,
        "ux_notice_broadcast_member",
        "notice",
        ["broadcast_id", "member_id"],
        unique=True,
        postgresql_where=sa.text(ANNOUNCEMENT_ROW),
        sqlite_where=sa.text(ANNOUNCEMENT_ROW),
    )
    _create_index(
        present_indexes,
        "ix_notice_broadcast_status",
        "notice",
        ["broadcast_id", "status"],
        postgresql_where=sa.text(ANNOUNCEMENT_ROW),
        sqlite_where=sa.text(ANNOUNCEMENT_ROW),
    )
    # The claim takes personal notices first by this index (the same text as
    # bot.storage.models.OPEN_PERSONAL_INDEX; a migration must not import models).
    _create_index(
        present_indexes,
        "ix_notice_open_personal",
        "notice",
        ["due_at", "id"],
        postgresql_where=sa.text(OPEN_PERSONAL),
        sqlite_where=sa.text(OPEN_PERSONAL),
    )
    _create_index(
        present_indexes,
        "ix_broadcast_organiser_confirmed",
        "broadcast",
        ["organiser_id", "confirmed_at"],
    )


def downgrade() -> None:
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "broadcast_id",
            sa.Integer(),
            sa.ForeignKey(
                "broadcast.id", ondelete="CASCADE", name="fk_delivery_broadcast_id_broadcast"
            ),
            nullable=False,
        ),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("member.id", ondelete="CASCADE", name="fk_delivery_member_id_member"),
            nullable=False,
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint("broadcast_id", "member_id", name="uq_delivery_broadcast_id"),
    )
    op.create_index("ix_delivery_due_at", "delivery", ["due_at"])
    op.drop_index("ix_broadcast_organiser_confirmed", table_name="broadcast")
    op.drop_index("ix_notice_open_personal", table_name="notice")
    op.drop_index("ix_notice_broadcast_status", table_name="notice")
    op.drop_index("ux_notice_broadcast_member", table_name="notice")
    # Announcements' rows cannot live on without their column: they go with it.
    op.execute("DELETE FROM notice WHERE broadcast_id IS NOT NULL")
    with op.batch_alter_table("notice") as batch:
        batch.drop_constraint(op.f("fk_notice_broadcast_id_broadcast"), type_="foreignkey")
        batch.drop_column("broadcast_id")
    with op.batch_alter_table("broadcast") as batch:
        batch.drop_constraint(op.f("fk_broadcast_event_id_event"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_broadcast_topic_id_topic"), type_="foreignkey")
        for column in reversed(_broadcast_columns()):
            batch.drop_column(column.name)
    op.drop_column("member", "news_caps_lifted")
