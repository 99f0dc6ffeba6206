"""`kiosk hall migrate | serve | add-device | list-devices | set-id-card-reader |
revoke-device | add-staff | disable-staff | count`: the hall server (kiosk/hall/, FastAPI on
PostgreSQL) and the tools its operator sets it up with. `bash packaging/setup.sh hall` runs
them in that order.

The server's libraries come with the [hall] extra, which a terminal does not install: this
module imports nothing of them at its top, and every command first checks they are there
and otherwise says how to get them, so `kiosk --help` and every other command work without.

The database's address (a libpq DSN, holding its password) comes from `--dsn` or, better,
since a command line is visible to every user of the machine, from KIOSK_HALL_DSN
(kiosk.hall.settings.DSN_VARIABLE; setup.sh keeps it in /etc/kiosk-hall/hall.env).

What a command prints for a script is its last line on stdout (a device's token, a staff
member's password, a count); what it tells the operator goes to stderr. A mistake (an
unknown center, a missing DSN, a broken settings file, an unreachable database) is one
message on stderr and an exit status from kiosk.common.exitcodes, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from kiosk.hall.db import Conn
    from kiosk.hall.settings import HallSettings

# The [hall] extra's libraries, by import name (pyproject.toml's optional-dependencies).
HALL_MODULES = ("fastapi", "uvicorn", "psycopg", "psycopg_pool", "alembic", "sqlalchemy")
INSTALL_HINT = ("install them with `pip install .[hall]`, or set the whole hall up with "
                "`bash packaging/setup.sh hall`")
CONNECT_TIMEOUT_S = 10

Command = Callable[[argparse.Namespace], int]


class _Refused(Exception):
    """A command that cannot go on; the message says why and what to do."""

    def __init__(self, message: str, status: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.status = status


def missing_hall_library() -> str | None:
    """The first of the [hall] extra's libraries that cannot be imported, or None."""
    for name in HALL_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            return name
    return None


def _where(dsn: str) -> str:
    """Where a DSN points (host:port/database), without its password."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(dsn)
    except ProgrammingError:
        return "the address given"
    host = str(info.get("host") or os.environ.get("PGHOST") or "")
    port = str(info.get("port") or os.environ.get("PGPORT") or "5432")
    dbname = info.get("dbname") or os.environ.get("PGDATABASE")
    where = (f"{host}:{port}" if host and not host.startswith("/")
             else f"the local socket {host or '(default)'}, port {port}")
    return f"{where}, database {dbname}" if dbname else where


def _unreachable(dsn: str, exc: BaseException) -> str:
    # libpq's message runs over several lines ("Is the server running on that host…"): one.
    reason = " ".join(str(exc).split())
    if len(reason) > 300:
        reason = reason[:300] + "…"
    return (f"cannot reach PostgreSQL at {_where(dsn)} ({reason}): is it running? "
            "bash packaging/setup.sh hall starts it")


def _hall_command(run: Command) -> Command:
    """`run` with the extra checked first and the expected failures said in one line."""

    def command(args: argparse.Namespace) -> int:
        name = f"hall {args.hall_command}"
        missing = missing_hall_library()
        if missing is not None:
            print(f"kiosk {name}: the hall server's libraries (the [hall] extra) are not "
                  f"installed ({missing} is missing): {INSTALL_HINT}", file=sys.stderr)
            return EXIT_FAILED
        import psycopg
        import sqlalchemy.exc
        from alembic.util import CommandError

        from kiosk.common.datafiles import ConfigFileError
        from kiosk.hall.admin import AdminError
        from kiosk.hall.settings import SettingsError

        try:
            return run(args)
        except _Refused as exc:
            print(f"kiosk {name}: {exc}", file=sys.stderr)
            return exc.status
        except (AdminError, SettingsError, CommandError) as exc:
            print(f"kiosk {name}: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except ConfigFileError as exc:  # the rules or the calendar: every problem, by key
            print(exc.message(), file=sys.stderr)
            return EXIT_BAD_INPUT
        except psycopg.errors.UndefinedTable:
            print(f"kiosk {name}: the database has no hall tables yet: run `kiosk hall "
                  "migrate` first", file=sys.stderr)
            return EXIT_FAILED
        except psycopg.OperationalError as exc:
            print(f"kiosk {name}: {_unreachable(_dsn_or_empty(args), exc)}", file=sys.stderr)
            return EXIT_FAILED
        except sqlalchemy.exc.OperationalError as exc:  # alembic's connection, for migrate
            print(f"kiosk {name}: {_unreachable(_dsn_or_empty(args), exc.orig or exc)}",
                  file=sys.stderr)
            return EXIT_FAILED

    return command


def _dsn_or_empty(args: argparse.Namespace) -> str:
    from kiosk.hall.settings import DSN_VARIABLE

    dsn: str | None = args.dsn if args.dsn is not None else os.environ.get(DSN_VARIABLE)
    return dsn or ""


def _dsn(args: argparse.Namespace) -> str:
    from kiosk.hall.settings import DSN_VARIABLE

    # An empty DSN is a valid one: libpq then takes everything from the PG* variables.
    dsn: str | None = args.dsn if args.dsn is not None else os.environ.get(DSN_VARIABLE)
    if dsn is None:
        raise _Refused(f"no database given: set {DSN_VARIABLE} (bash packaging/setup.sh hall "
                       "keeps it in /etc/kiosk-hall/hall.env; `set -a; . /etc/kiosk-hall/"
                       "hall.env; set +a` loads it into a root shell) or give --dsn")
    return _checked_dsn(dsn)


def _checked_dsn(dsn: str) -> str:
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        conninfo_to_dict(dsn)
    except ProgrammingError:
        # Not libpq's message: it quotes the text around the mistake, maybe the password.
        raise _Refused("the database address (KIOSK_HALL_DSN or --dsn) is not a PostgreSQL "
                       "address: expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE or "
                       "key=value pairs (host=… dbname=…)") from None
    return dsn


@contextmanager
def _connect(dsn: str) -> Iterator[Conn]:
    """A connection whose work is committed when the block ends."""
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(dsn, row_factory=dict_row, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        yield conn


def _settings_path(args: argparse.Namespace) -> Path:
    from kiosk.hall.settings import default_settings_file

    return Path(args.settings) if args.settings else default_settings_file()


def _settings(args: argparse.Namespace, dsn: str | None) -> HallSettings:
    from kiosk.hall.settings import load_settings

    return load_settings(_settings_path(args), dsn)


def _check_center(args: argparse.Namespace, settings: HallSettings) -> None:
    """Refuse a center (or a counter) the hall's rules do not have: a device or account of
    a center that does not exist could sign in but never see a queue."""
    centers = [c.id for c in settings.rules.centers]
    try:
        center = settings.rules.center(args.center)
    except KeyError:
        raise _Refused(f"no center {args.center!r} in the hall's rules (the file that `rules`"
                       f" in {_settings_path(args)} names); its centers: "
                       f"{', '.join(centers)}") from None
    counter = getattr(args, "counter", None)
    if counter is not None:
        try:
            center.config.counter(counter)
        except KeyError:
            numbers = ", ".join(str(c.number) for c in center.config.counters)
            raise _Refused(f"center {center.id!r} has no counter {counter}; its counters: "
                           f"{numbers}") from None


def cmd_migrate(args: argparse.Namespace) -> int:
    from kiosk.hall import migrate

    dsn = _dsn(args)
    if args.downgrade:
        migrate.downgrade(dsn, args.downgrade)
    else:
        migrate.upgrade(dsn)
    at = migrate.current(dsn)
    print(f"kiosk hall migrate: the database is at revision {at or 'base (no tables)'}",
          file=sys.stderr)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from kiosk.hall import migrate, seeding, server

    settings = _settings(args, args.dsn)
    _checked_dsn(settings.dsn)
    at = migrate.current(settings.dsn)
    if at != migrate.HEAD:
        raise _Refused(f"the database is at revision {at or 'base (no tables)'} and this "
                       f"server needs {migrate.HEAD}: run `kiosk hall migrate` first",
                       EXIT_FAILED)
    seeding.prepare(settings.dsn, settings)
    server.run(settings, args.host, args.port, args.workers, settings_path=_settings_path(args),
               forwarded_allow_ips=args.forwarded_allow_ips,
               request_timeout_s=args.request_timeout, verbose=args.verbose)
    return EXIT_OK


def cmd_add_device(args: argparse.Namespace) -> int:
    from kiosk.hall import admin
    from kiosk.hall.auth import Role

    dsn = _dsn(args)
    _check_center(args, _settings(args, dsn))
    with _connect(dsn) as conn:
        token = admin.add_device(conn, args.center, Role(args.kind), args.name, args.counter,
                                 reads_id_cards=args.id_card_reader)
    counter = f", counter {args.counter}" if args.counter is not None else ""
    reader = ", with an ID card reader the hall trusts" if args.id_card_reader else ""
    print(f"kiosk hall add-device: added {args.name} ({args.kind}, center {args.center}"
          f"{counter}{reader}). Its token follows, shown this once: put it into the device's "
          "config; the hall keeps only its hash.", file=sys.stderr)
    print(token)
    return EXIT_OK


def cmd_list_devices(args: argparse.Namespace) -> int:
    from kiosk.hall import admin

    with _connect(_dsn(args)) as conn:
        devices = admin.list_devices(conn)
    if not devices:
        print("kiosk hall list-devices: no devices yet (kiosk hall add-device)",
              file=sys.stderr)
        return EXIT_OK
    rows = [("NAME", "KIND", "CENTER", "COUNTER", "ID CARD", "ADDED", "LAST SEEN", "STATE")]
    rows += [(d.name, d.kind, d.center_id, "" if d.counter_no is None else str(d.counter_no),
              "reader" if d.reads_id_cards else "-",
              _local(d.created_at), _local(d.last_seen_at) if d.last_seen_at else "never",
              "revoked" if d.revoked else "active") for d in devices]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK


def _local(iso: str) -> str:
    """A time the database gave, as the hall's clocks show it (Shanghai)."""
    import datetime as dt

    from kiosk.common.clock import SHANGHAI

    return f"{dt.datetime.fromisoformat(iso).astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


def cmd_set_id_card_reader(args: argparse.Namespace) -> int:
    from kiosk.hall import admin

    on = args.state == "on"
    with _connect(_dsn(args)) as conn:
        admin.set_id_card_reader(conn, args.name, on)
    said = ("the hall now identifies residents by the ID cards its reader reads" if on else
            "the hall no longer takes its word for an ID card (residents show their 随申码)")
    print(f"kiosk hall set-id-card-reader: {args.name}: {said}", file=sys.stderr)
    return EXIT_OK


def cmd_revoke_device(args: argparse.Namespace) -> int:
    from kiosk.hall import admin

    with _connect(_dsn(args)) as conn:
        admin.revoke_device(conn, args.name)
    print(f"kiosk hall revoke-device: {args.name} is revoked: its token is refused from now on",
          file=sys.stderr)
    return EXIT_OK


def cmd_add_staff(args: argparse.Namespace) -> int:
    from kiosk.hall import admin
    from kiosk.hall.auth import Role

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    dsn = _dsn(args)
    _check_center(args, _settings(args, dsn))
    with _connect(dsn) as conn:
        password = admin.add_staff(conn, args.center, args.username, Role(args.role), password)
    what = f"{args.username} ({args.role}, center {args.center})"
    if args.password_stdin:
        print(f"kiosk hall add-staff: added {what} with the password given", file=sys.stderr)
        return EXIT_OK
    print(f"kiosk hall add-staff: added {what}. The password follows, shown this once and "
          "stored nowhere: hand it to its holder.", file=sys.stderr)
    print(password)
    return EXIT_OK


def cmd_disable_staff(args: argparse.Namespace) -> int:
    from kiosk.hall import admin

    with _connect(_dsn(args)) as conn:
        admin.disable_staff(conn, args.username)
    print(f"kiosk hall disable-staff: {args.username} is disabled and signed out everywhere",
          file=sys.stderr)
    return EXIT_OK


def cmd_count(args: argparse.Namespace) -> int:
    from kiosk.hall import admin

    with _connect(_dsn(args)) as conn:
        print(admin.count(conn, args.what))
    return EXIT_OK


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (1 to 65535)")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: at least 1")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text}: a number of seconds above 0")
    return value


def _counter(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 999:
        raise argparse.ArgumentTypeError(f"{value} is not a counter number (1 to 999)")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hall = sub.add_parser("hall", help="the hall server (one per service center, on "
                          "PostgreSQL) and its set-up: devices, staff accounts, migrations")
    hsub = hall.add_subparsers(dest="hall_command", required=True)
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument("--dsn", help="the database's libpq address (default: the "
                          "KIOSK_HALL_DSN variable, which keeps the password off the command "
                          "line)")
    settings = argparse.ArgumentParser(add_help=False)
    settings.add_argument("--settings", help="the hall server's settings file (default: "
                          "$KIOSK_HALL_SETTINGS, else config/hall-server.toml); its `rules` "
                          "names the centers")

    p = hsub.add_parser("migrate", parents=[database],
                        help="create or upgrade the hall's tables (alembic)")
    p.add_argument("--downgrade", metavar="REV",
                   help="go back to this revision instead (`base`: drop every table)")
    p.set_defaults(func=_hall_command(cmd_migrate))

    p = hsub.add_parser("serve", parents=[database, settings], help="run the hall server")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=_port, default=8400, help="TCP port (default 8400)")
    p.add_argument("--workers", type=_positive, default=1,
                   help="server processes (default 1; each has its own database pool)")
    p.add_argument("--forwarded-allow-ips", metavar="ADDRESSES",
                   help="behind a reverse proxy (nginx): its address(es), comma-separated, "
                   "whose X-Forwarded-For and X-Forwarded-Proto are believed; by default "
                   "no one's are")
    p.add_argument("--request-timeout", type=_seconds, default=15.0, metavar="SECONDS",
                   help="close a connection whose request is not complete this long after it "
                   "began (default 15)")
    p.set_defaults(func=_hall_command(cmd_serve))

    p = hsub.add_parser("add-device", parents=[database, settings],
                        help="register a kiosk, counter screen or board; prints its token")
    p.add_argument("--center", required=True, help="the center's id in the hall's rules")
    p.add_argument("--kind", required=True, choices=("kiosk", "counter", "board"))
    p.add_argument("--counter", type=_counter,
                   help="for a counter screen: the number of its counter")
    p.add_argument("--id-card-reader", action="store_true",
                   help="for a kiosk with a resident ID card reader: the hall takes its word "
                   "for the cards it reads (it cannot check a card read itself)")
    p.add_argument("name", help="a name of your choice, unique in the hall, e.g. kiosk-3")
    p.set_defaults(func=_hall_command(cmd_add_device))

    p = hsub.add_parser("list-devices", parents=[database],
                        help="every registered device, revoked ones too")
    p.set_defaults(func=_hall_command(cmd_list_devices))

    p = hsub.add_parser("set-id-card-reader", parents=[database],
                        help="say whether a kiosk has an ID card reader the hall trusts "
                        "(from its next request on)")
    p.add_argument("name", help="the kiosk's name (kiosk hall list-devices)")
    p.add_argument("state", choices=("on", "off"))
    p.set_defaults(func=_hall_command(cmd_set_id_card_reader))

    p = hsub.add_parser("revoke-device", parents=[database],
                        help="refuse a device's token from now on (a lost or replaced device)")
    p.add_argument("name")
    p.set_defaults(func=_hall_command(cmd_revoke_device))

    p = hsub.add_parser("add-staff", parents=[database, settings],
                        help="create a clerk's or supervisor's account; prints its password")
    p.add_argument("--center", required=True, help="the center's id in the hall's rules")
    p.add_argument("--role", required=True, choices=("clerk", "supervisor"))
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password (at least 10 characters) from the first line of "
                   "stdin instead of making one up")
    p.add_argument("username")
    p.set_defaults(func=_hall_command(cmd_add_staff))

    p = hsub.add_parser("disable-staff", parents=[database],
                        help="disable a staff account and end its sessions")
    p.add_argument("username")
    p.set_defaults(func=_hall_command(cmd_disable_staff))

    p = hsub.add_parser("count", parents=[database],
                        help="print how many staff accounts or devices there are")
    p.add_argument("--what", required=True, choices=("staff", "devices"))
    p.set_defaults(func=_hall_command(cmd_count))
