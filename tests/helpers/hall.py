"""A real hall for tests: a PostgreSQL database migrated by alembic, and the FastAPI app
served by uvicorn on a free port in this process (so the test's fake clock is the server's).

PostgreSQL itself comes from Debian's `pg_virtualenv`, which the test command wraps around
pytest (packaging/setup.sh test): it starts a throwaway cluster and exports PGHOST, PGPORT,
PGUSER, PGPASSWORD and PGDATABASE. Each test gets its own database, copied from a template
migrated once per session, so tests never see each other's tickets.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
import requests

from tests.helpers.waits import HANG_GUARD_S, poll_until

NEEDS_POSTGRES = (
    "the hall's tests need PostgreSQL: run them inside pg_virtualenv, as the test command "
    "does (bash packaging/setup.sh test), e.g. pg_virtualenv -v 15 -- .venv/bin/python -m "
    "pytest tests/hall"
)


def server_dsn(dbname: str | None = None) -> str:
    """A libpq DSN from the PG* variables pg_virtualenv exported (and a database name)."""
    if "PGHOST" not in os.environ or "PGPORT" not in os.environ:
        pytest.fail(NEEDS_POSTGRES, pytrace=False)
    parts = [f"{k}={os.environ[v]}" for k, v in (
        ("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"), ("password", "PGPASSWORD"))
        if v in os.environ]
    parts.append(f"dbname={dbname or os.environ.get('PGDATABASE', 'postgres')}")
    return " ".join(parts)


def admin_execute(sql: str) -> None:
    with psycopg.connect(server_dsn("postgres"), autocommit=True) as conn:
        conn.execute(sql)


_template_lock = threading.Lock()
_template: str | None = None


def migrated_template() -> str:
    """The name of a database with the schema at head, made once per test process."""
    global _template
    with _template_lock:
        if _template is None:
            from kiosk.hall import migrate

            name = f"hall_template_{os.getpid()}"
            admin_execute(f"DROP DATABASE IF EXISTS {name}")
            admin_execute(f"CREATE DATABASE {name}")
            migrate.upgrade(server_dsn(name))
            _template = name
        return _template


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new database with the schema at head; its DSN. Dropped afterwards."""
    name = f"hall_{secrets.token_hex(6)}"
    admin_execute(f"CREATE DATABASE {name} TEMPLATE {migrated_template()}")
    try:
        yield server_dsn(name)
    finally:
        admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningHall:
    """A hall server on 127.0.0.1 and what a test needs to talk to it."""

    url: str
    dsn: str
    clock: Any
    settings: Any
    tokens: dict[str, str] = field(default_factory=dict)  # credential name -> bearer token

    @property
    def center(self) -> str:
        """The first center of the rules file: the one a test's devices belong to."""
        center_id: str = self.settings.rules.centers[0].id
        return center_id

    def session(self, who: str | None) -> requests.Session:
        s = requests.Session()
        s.trust_env = False
        if who is not None:
            s.headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return s

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description is not None else []

    def add_device(self, kind: str, name: str, counter_no: int | None = None,
                   center: str | None = None, *, reads_id_cards: bool = False) -> str:
        from kiosk.hall import admin
        from kiosk.hall.auth import Role

        with psycopg.connect(self.dsn) as conn:
            from psycopg.rows import dict_row

            conn.row_factory = dict_row  # type: ignore[assignment]
            token = admin.add_device(conn, center or self.center, Role(kind), name, counter_no,  # type: ignore[arg-type]
                                     reads_id_cards=reads_id_cards)
        self.tokens[name] = token
        return token

    def add_staff(self, role: str, username: str, center: str | None = None) -> str:
        from psycopg.rows import dict_row

        from kiosk.hall import admin
        from kiosk.hall.auth import Role

        password = "pw-" + secrets.token_urlsafe(12)
        with psycopg.connect(self.dsn, row_factory=dict_row) as conn:
            admin.add_staff(conn, center or self.center, username, Role(role), password)
        return password

    def sign_in(self, username: str, password: str, counter: int | None = None) -> str:
        r = self.session(None).post(f"{self.url}/v1/staff/sessions", json={
            "username": username, "password": password, "counter": counter}, timeout=10)
        assert r.status_code == 200, r.text
        token: str = r.json()["token"]
        self.tokens[username] = token
        return token


@contextmanager
def running_hall(clock: Callable[[], dt.datetime], **settings_overrides: Any) -> (
    Iterator[RunningHall]
):
    import dataclasses

    import uvicorn

    from kiosk.hall.app import create_app
    from kiosk.hall.settings import load_settings

    port = free_port()
    # The address printed in ticket QR codes is this server's, so a browser opens it.
    settings_overrides.setdefault("public_url", f"http://127.0.0.1:{port}")
    with fresh_database() as dsn:
        settings = dataclasses.replace(load_settings(dsn=dsn), clock=clock,
                                       **settings_overrides)
        from kiosk.hall import seeding

        seeding.prepare(dsn, settings)
        app = create_app(settings)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="hall-server", daemon=True)
        thread.start()
        try:
            if not poll_until(lambda: server.started or not thread.is_alive()) or (
                not server.started
            ):
                raise RuntimeError("the hall server did not start (see the log above)")
            yield RunningHall(url=f"http://127.0.0.1:{port}", dsn=dsn, clock=clock,
                              settings=settings)
        finally:
            server.should_exit = True
            thread.join(HANG_GUARD_S)
