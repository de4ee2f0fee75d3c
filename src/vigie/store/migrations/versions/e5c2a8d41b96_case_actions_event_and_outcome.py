"""case actions name the held message they release or keep, and a close's outcome

Revision ID: e5c2a8d41b96
Revises: c3a91e5d2f70
Create Date: 2026-12-02 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5c2a8d41b96"
down_revision: str | None = "c3a91e5d2f70"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_actions", schema=None) as batch_op:
        batch_op.drop_column("outcome")
        batch_op.drop_column("event_id")
