"""console log-in back-off per (e-mail, client address) instead of an account lock

Revision ID: a7e4c1f9b2d3
Revises: f1d7b3c9a6e2
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7e4c1f9b2d3"
down_revision: str | None = "f1d7b3c9a6e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_login_backoff",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("email", "address"),
    )
    op.create_index(
        "ix_console_login_backoff_last_failure", "console_login_backoff", ["last_failure"]
    )
    # The account-wide lock is gone: anyone could lock an officer out with it.
    with op.batch_alter_table("console_users", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("console_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("ix_console_login_backoff_last_failure", table_name="console_login_backoff")
    op.drop_table("console_login_backoff")
