"""The hall database's schema as alembic migrations (raw SQL: PostgreSQL 15 is the one engine)."""
