"""Storage: one interface (``Store``), one SQLAlchemy implementation for SQLite and PostgreSQL."""
