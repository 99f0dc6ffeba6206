"""Alembic's entry point: runs the migrations on the connection `migrate.py` hands over.

The URL comes from the alembic Config (`sqlalchemy.url`), set in code by kiosk.hall.migrate,
so there is no alembic.ini to keep in step with the server's own settings.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
url = config.get_main_option("sqlalchemy.url")
if url is None:  # pragma: no cover - migrate.py always sets it
    raise RuntimeError("kiosk.hall.migrate sets sqlalchemy.url")

engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
