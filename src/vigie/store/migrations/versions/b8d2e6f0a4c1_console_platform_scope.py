"""console accounts scoped per platform: memberships, and all_platforms for today's accounts

Revision ID: b8d2e6f0a4c1
Revises: a7e4c1f9b2d3
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b8d2e6f0a4c1"
down_revision: str | None = "a7e4c1f9b2d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_memberships",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "platform_id"),
    )
    op.create_index("ix_console_memberships_platform_id", "console_memberships", ["platform_id"])
    with op.batch_alter_table("console_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("all_platforms", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Accounts that exist keep seeing what they saw (every platform): a single-platform install
    # needs no step; an operator with several platforms scopes them on the users page.
    op.execute(sa.text("UPDATE console_users SET all_platforms = :yes").bindparams(yes=True))


def downgrade() -> None:
    with op.batch_alter_table("console_users", schema=None) as batch_op:
        batch_op.drop_column("all_platforms")
    op.drop_index("ix_console_memberships_platform_id", table_name="console_memberships")
    op.drop_table("console_memberships")
