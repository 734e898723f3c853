"""Data versions: a counter per scope of data, bumped with every change, so that rendered pages can be kept.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_data_version")),
    )


def downgrade() -> None:
    op.drop_table("data_version")
