"""place: a nearest-first GiST index on PostgreSQL

PostgreSQL reads the places nearest a point in order from a GiST index over its built-in
`point` (`ORDER BY … <-> point(…)`, no extension), at (longitude · 0.63, latitude); see
bot.services.places for how the one longitude scale is corrected. SQLite has no such
index and keeps searching by `ix_place_box`, so there this migration does nothing.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled as bot.storage.models.NEAR_POINT_SQL is today: the search's ORDER BY must match
# it, and a migration must not change when the models do.
NEAR_POINT_SQL = "point(lon * 0.63, lat)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        "ix_place_near",
        "place",
        [sa.text(NEAR_POINT_SQL)],
        postgresql_using="gist",
        if_not_exists=True,
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_place_near", table_name="place", if_exists=True)
