"""Store a judging's message as parts, each about one test, so each is shown by its test.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Existing judgings keep their ``message`` (staff still see it) and get no parts: students see
no judging message on them, since the old text cannot be split by test safely.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``judgings.message_parts`` (nullable JSON)."""
    with op.batch_alter_table("judgings") as batch:
        batch.add_column(sa.Column("message_parts", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop ``judgings.message_parts``."""
    with op.batch_alter_table("judgings") as batch:
        batch.drop_column("message_parts")
