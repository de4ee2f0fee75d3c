"""Every table module, imported once so ``Base.metadata`` knows the whole schema."""

from vigie.store import tables
from vigie.store.tables import Base

TABLE_MODULES = (tables,)

metadata = Base.metadata

__all__ = ["TABLE_MODULES", "metadata"]
