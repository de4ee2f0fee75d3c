"""indexes for the console's queues at scale: the youngest minor, reports on a subject

Revision ID: d4f7a2c8e1b5
Revises: d4f8a2c6e1b7
Create Date: 2026-12-02 12:40:00

The queues bound the child's-age part of a score by the youngest minor on record (one step
down ``ix_accounts_age`` instead of a scan of every account), and route a case reported by a
minor through user reports on its subject (``ix_user_reports_subject`` instead of a scan of a
platform's reports for each waiting case).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d4f7a2c8e1b5"
down_revision: str | None = "d4f8a2c6e1b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_accounts_age", "accounts", ["age"])
    op.create_index("ix_user_reports_subject", "user_reports", ["platform_id", "subject"])


def downgrade() -> None:
    op.drop_index("ix_user_reports_subject", table_name="user_reports")
    op.drop_index("ix_accounts_age", table_name="accounts")
