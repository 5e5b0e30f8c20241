"""Feedback per test group: a problem's policy and test names, each test's output kept.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Existing problems get no policy (the defaults: samples full, secret tests verdict only) and
no test names (filled by their next import); existing test results keep no output (shown as
none). Nothing is removed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``problems.test_names``, ``problems.feedback_policy``, ``test_results.output*``."""
    with op.batch_alter_table("problems") as batch:
        batch.add_column(sa.Column("test_names", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("feedback_policy", sa.JSON(), nullable=True))
    with op.batch_alter_table("test_results") as batch:
        batch.add_column(sa.Column("output", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("output_bytes", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    """Drop the columns again."""
    with op.batch_alter_table("test_results") as batch:
        batch.drop_column("output_bytes")
        batch.drop_column("output")
    with op.batch_alter_table("problems") as batch:
        batch.drop_column("feedback_policy")
        batch.drop_column("test_names")
