"""followup: a column per check-in question; indexes for "Wirkung"

The answers were one JSON document per row: counting 100 000 of them meant parsing
every document (over a second on SQLite, in the database or in Python). Now each
question (bot.codes.Question) has its column and "Wirkung" groups plain columns;
existing documents are copied over, then the document column goes.

One answer row per event, check-in and member (a unique index, also against two
answers given at once making two rows); the sent check-ins counted by event from an
index alone (event_id, kind, status); the few calls for help found without reading
every answer (a partial index); and an organiser's events by an index, not a scan.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHOICES = ("met", "contact", "tried", "outcome")
# The same text as bot.storage.models.HAS_HELP (a migration must not import models).
HAS_HELP = "help IS NOT NULL"
LINES = ("takeaway", "help")


def upgrade() -> None:
    connection = op.get_bind()
    # SQLite does not undo DDL with a failed migration: a second start must find the
    # columns added by the first and go on.
    present = {c["name"] for c in sa.inspect(connection).get_columns("followup")}
    with op.batch_alter_table("followup") as batch:
        for name in CHOICES:
            if name not in present:
                batch.add_column(sa.Column(name, sa.String(20), nullable=True))
        for name in LINES:
            if name not in present:
                batch.add_column(sa.Column(name, sa.Text(), nullable=True))
    followup = sa.table(
        "followup",
        sa.column("id", sa.Integer),
        sa.column("event_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("member_id", sa.Integer),
        sa.column("answer", sa.Text),
        *(sa.column(name, sa.String) for name in (*CHOICES, *LINES)),
    )
    if "answer" in present:
        for row_id, answer in connection.execute(
            sa.select(followup.c.id, followup.c.answer).where(followup.c.answer.is_not(None))
        ).all():
            try:
                given = json.loads(answer)
            except ValueError:
                continue  # not readable: nothing to keep
            if not isinstance(given, dict):
                continue
            values = {
                k: str(given[k])[: 20 if k in CHOICES else None]
                for k in (*CHOICES, *LINES)
                if given.get(k)
            }
            if values:
                connection.execute(followup.update().where(followup.c.id == row_id).values(values))
        with op.batch_alter_table("followup") as batch:
            batch.drop_column("answer")
    # One row per event, check-in and member: answers given at once by two workers could
    # make two before; the newest is kept.
    newest = (
        sa.select(sa.func.max(followup.c.id))
        .group_by(followup.c.event_id, followup.c.kind, followup.c.member_id)
        .scalar_subquery()
    )
    connection.execute(followup.delete().where(followup.c.id.not_in(newest)))
    op.create_index(
        "ux_followup_event_kind_member", "followup", ["event_id", "kind", "member_id"], unique=True
    )
    op.create_index("ix_notice_event_kind", "notice", ["event_id", "kind", "status"])
    op.create_index("ix_event_organiser_id", "event", ["organiser_id"])
    op.create_index(
        "ix_followup_help",
        "followup",
        ["event_id", "member_id"],
        postgresql_where=sa.text(HAS_HELP),
        sqlite_where=sa.text(HAS_HELP),
    )


def downgrade() -> None:
    op.drop_index("ix_followup_help", table_name="followup")
    op.drop_index("ix_event_organiser_id", table_name="event")
    op.drop_index("ix_notice_event_kind", table_name="notice")
    op.drop_index("ux_followup_event_kind_member", table_name="followup")
    with op.batch_alter_table("followup") as batch:
        batch.add_column(sa.Column("answer", sa.Text(), nullable=True))
    # The answers back into their document, so nothing is lost on the way down.
    connection = op.get_bind()
    followup = sa.table(
        "followup",
        sa.column("id", sa.Integer),
        sa.column("rating", sa.Integer),
        sa.column("answer", sa.Text),
        *(sa.column(name, sa.String) for name in (*CHOICES, *LINES)),
    )
    columns = (*CHOICES, *LINES)
    for row in connection.execute(
        sa.select(followup.c.id, followup.c.rating, *(followup.c[n] for n in columns))
    ).mappings():
        given = {n: row[n] for n in columns if row[n] is not None}
        if row["rating"] is not None:
            given["rating"] = str(row["rating"])
        if given:
            document = json.dumps(given, ensure_ascii=False)
            connection.execute(
                followup.update().where(followup.c.id == row["id"]).values(answer=document)
            )
    with op.batch_alter_table("followup") as batch:
        for name in columns:
            batch.drop_column(name)
