"""Every table module, imported once so ``Base.metadata`` knows the whole schema.

A room that adds tables adds its module here; Alembic migrations are generated from it.
"""

from vigie.store import console_tables, hashlists, outbox, reports_tables, tables
from vigie.store.tables import Base

TABLE_MODULES = (tables, outbox, reports_tables, console_tables, hashlists)

metadata = Base.metadata

__all__ = ["TABLE_MODULES", "metadata"]
