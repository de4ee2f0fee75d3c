"""the hash-list change log without its foreign key to the entries

Why: on PostgreSQL the foreign-key trigger of ``hash_list_changes.entry_id`` ran once per
change row (a look-up and a row lock on ``hash_entries``): 16.5 s of a million-hash import's
31 s change-log ``INSERT … SELECT``. Entries are never deleted (a removal only sets
``removed_at``), and the change log is written in the same transaction as the entries it
names, so the key guarded against nothing that can happen (tests/store/test_hashlists.py
checks both). The index on ``entry_id`` stays.

Revision ID: d4f8a2c6e1b7
Revises: b8d2e6f0a4c1
Create Date: 2026-12-02 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4f8a2c6e1b7"
down_revision: str | None = "b8d2e6f0a4c1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "hash_list_changes"
# The initial schema's key has no name on SQLite: batch mode recreates the table, and this
# convention names the reflected key so that it can be dropped.
SQLITE_FK = "fk_hash_list_changes_entry_id_hash_entries"
CONVENTION = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _entry_fk_names() -> list[str | None]:
    """The names of the change log's foreign keys on ``entry_id`` (none once dropped)."""
    keys = sa.inspect(op.get_bind()).get_foreign_keys(TABLE)
    return [k.get("name") for k in keys if k["constrained_columns"] == ["entry_id"]]


def upgrade() -> None:
    names = _entry_fk_names()
    if not names:
        return
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(TABLE, naming_convention=CONVENTION) as batch_op:
            batch_op.drop_constraint(names[0] or SQLITE_FK, type_="foreignkey")
        return
    for name in names:  # PostgreSQL names every constraint
        op.drop_constraint(str(name), TABLE, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch_op:
        batch_op.create_foreign_key(
            "hash_list_changes_entry_id_fkey", "hash_entries", ["entry_id"], ["id"]
        )
