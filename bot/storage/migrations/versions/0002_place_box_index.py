"""place: a covering index for the nearby search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_place_box", "place", ["lat_band", "lon", "lat", "status"])
    op.drop_index("ix_place_band_lon", table_name="place")


def downgrade() -> None:
    op.create_index("ix_place_band_lon", "place", ["lat_band", "lon"])
    op.drop_index("ix_place_box", table_name="place")
