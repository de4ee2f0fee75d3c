"""report approvals bound to the content hash of what will be sent

Revision ID: c3a91e5d2f70
Revises: 8498d9f3322b
Create Date: 2026-12-02 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3a91e5d2f70"
down_revision: str | None = "8498d9f3322b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_approvals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_approvals", schema=None) as batch_op:
        batch_op.drop_column("content_sha256")
