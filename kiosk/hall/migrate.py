"""Upgrade or downgrade the hall database (alembic, configured in code)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, pool

HEAD = "0002"


def sqlalchemy_url(dsn: str) -> str:
    """SQLAlchemy's name for a libpq DSN, driven by psycopg 3 (the server's own driver)."""
    for scheme in ("postgresql://", "postgres://"):
        if dsn.startswith(scheme):
            return "postgresql+psycopg://" + dsn[len(scheme):]
    if "://" in dsn:
        return dsn
    # A key=value DSN (or an empty one: everything from PG* variables) goes through libpq as is.
    return "postgresql+psycopg:///?" + "&".join(
        part for part in (_kv_to_query(dsn),) if part
    )


def _kv_to_query(dsn: str) -> str:
    from urllib.parse import quote

    pairs = []
    for item in dsn.split():
        key, _, value = item.partition("=")
        pairs.append(f"{quote(key)}={quote(value)}")
    return "&".join(pairs)


def _config(dsn: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    # '%' is ConfigParser's interpolation character; a password may hold one.
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(dsn).replace("%", "%%"))
    return cfg


def upgrade(dsn: str, revision: str = "head") -> None:
    command.upgrade(_config(dsn), revision)


def downgrade(dsn: str, revision: str = "base") -> None:
    command.downgrade(_config(dsn), revision)


def current(dsn: str) -> str | None:
    engine = create_engine(sqlalchemy_url(dsn), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
