"""Usage statistics for the 服务指数 (service index), as staff export them.

The export is a long ("tidy") table of `section,key,subkey,value` rows, so that one file
format covers every figure and a spreadsheet pivot does the rest:

| section        | key                 | subkey                          | value            |
|----------------|---------------------|---------------------------------|------------------|
| period         | from / to           |                                 | ISO date         |
| tickets        | category id         | ordinary / priority:<reason>    | count            |
| tickets_withdrawn | restart / timeout / left | issued / not_issued       | count            |
| applications   | bundle id           | submitted                       | count            |
| bundles        | bundle id           | started / finished / abandoned, | count            |
|                |                     | abandoned_at:<step>             |                  |
| flows          | flow (not bundles)  | same as bundles                 | count            |
| ratings        | 5 .. 1, count, mean |                                 | count / mean     |
| rating_reasons | reason tag          |                                 | count            |
| help_calls     | total / screen      | (screen name)                   | count            |
| faults         | total / flow        | (step)                          | count            |
| flow_median_s  | flow                |                                 | seconds (median) |

Days are Shanghai calendar days, both ends included. Nothing here names a person: the
queries read categories, bundle ids, statuses, levels and the validated tokens of usage
events, never resident ids, names, references, ticket numbers or submitted fields.

The database is opened read-only and read in one transaction, so an export taken while
kiosks are writing is a consistent snapshot and cannot change (or migrate) the file.
`kiosk stats` (kiosk.cli.stats) prints the rows as CSV or as a table; the maintenance
screen shows today's.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import statistics
from collections import Counter
from pathlib import Path

from kiosk.backend.embedded import EmbeddedBackend
from kiosk.backend.embedded.schema import SCHEMA_VERSION
from kiosk.backend.interface import RATING_LEVELS, RATING_REASONS, Backend

COLUMNS = ("section", "key", "subkey", "value")
Row = dict[str, str | int | float]


class StatsError(Exception):
    """The export cannot be made (no such file, not a kiosk database, bad range)."""


def _row(section: str, key: str | int, subkey: str, value: str | int | float) -> Row:
    return {"section": section, "key": str(key), "subkey": subkey, "value": value}


def _open_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise StatsError(f"{path}: no such database file")
    try:
        conn = sqlite3.connect(
            path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5, isolation_level=None
        )
    except sqlite3.Error as exc:
        raise StatsError(f"{path}: cannot open: {exc}") from exc
    conn.row_factory = sqlite3.Row
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as exc:
        conn.close()
        raise StatsError(f"{path}: not a kiosk database ({exc})") from exc
    if version == 0 or version > SCHEMA_VERSION:
        conn.close()
        raise StatsError(
            f"{path}: not a kiosk database this software can read (schema version {version},"
            f" expected 1..{SCHEMA_VERSION})"
        )
    return conn


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _flow_rows(section: str, key: str, counts: Counter[str]) -> list[Row]:
    rows = [_row(section, key, outcome, counts[outcome])
            for outcome in ("started", "finished", "abandoned")]
    rows += [_row(section, key, sub, counts[sub])
             for sub in sorted(c for c in counts if c.startswith("abandoned_at:"))]
    return rows


def _collect(conn: sqlite3.Connection, date_from: dt.date, date_to: dt.date) -> list[Row]:
    span = (date_from.isoformat(), date_to.isoformat())
    tables = _tables(conn)
    rows: list[Row] = [
        _row("period", "from", "", date_from.isoformat()),
        _row("period", "to", "", date_to.isoformat()),
    ]

    for r in conn.execute(
        "SELECT category, priority, priority_reason, COUNT(*) AS n FROM tickets"
        " WHERE day BETWEEN ? AND ? GROUP BY category, priority, priority_reason"
        " ORDER BY category, priority, priority_reason",
        span,
    ):
        lane = f"priority:{r['priority_reason'] or 'unspecified'}" if r["priority"] else (
            "ordinary"
        )
        rows.append(_row("tickets", r["category"], lane, r["n"]))

    # Ticket requests nobody was left to hold (schema 3): cancelled by their key, with the
    # ticket withdrawn when one had been issued.
    if "ticket_cancellations" in tables:
        for r in conn.execute(
            "SELECT reason, ticket_id IS NOT NULL AS issued, COUNT(*) AS n"
            " FROM ticket_cancellations WHERE day BETWEEN ? AND ?"
            " GROUP BY reason, issued ORDER BY reason, issued DESC",
            span,
        ):
            rows.append(_row("tickets_withdrawn", r["reason"],
                             "issued" if r["issued"] else "not_issued", r["n"]))

    # Tables from schema 2 are missing in a version-1 file that no kiosk has upgraded yet;
    # read-only, we report them as empty rather than migrate someone else's database.
    if "applications" in tables:
        for r in conn.execute(
            "SELECT bundle_id, COUNT(*) AS n FROM applications WHERE day BETWEEN ? AND ?"
            " GROUP BY bundle_id ORDER BY bundle_id",
            span,
        ):
            rows.append(_row("applications", r["bundle_id"], "submitted", r["n"]))

    events = (
        conn.execute(
            "SELECT kind, flow, step, duration_s FROM stat_events"
            " WHERE day BETWEEN ? AND ? ORDER BY seq",
            span,
        ).fetchall()
        if "stat_events" in tables
        else []
    )
    outcomes: dict[str, Counter[str]] = {}
    durations: dict[str, list[float]] = {}
    faults: Counter[tuple[str, str]] = Counter()
    for e in events:
        kind, flow = e["kind"], e["flow"]
        if kind == "fault":
            faults[(flow, e["step"])] += 1
            continue
        outcome = kind.removeprefix("flow_")
        counts = outcomes.setdefault(flow, Counter())
        counts[outcome] += 1
        if outcome == "abandoned":
            counts[f"abandoned_at:{e['step'] or 'unknown'}"] += 1
        if outcome == "finished" and e["duration_s"] is not None:
            durations.setdefault(flow, []).append(float(e["duration_s"]))
    for flow in sorted(f for f in outcomes if f.startswith("bundle:")):
        rows += _flow_rows("bundles", flow.removeprefix("bundle:"), outcomes[flow])
    for flow in sorted(f for f in outcomes if not f.startswith("bundle:")):
        rows += _flow_rows("flows", flow, outcomes[flow])

    levels: Counter[int] = Counter()
    reasons: Counter[str] = Counter()
    if "ratings" in tables:
        for r in conn.execute(
            "SELECT level, reasons FROM ratings WHERE day BETWEEN ? AND ?", span
        ):
            levels[int(r["level"])] += 1
            reasons.update(json.loads(r["reasons"]))
    rows += [_row("ratings", level, "", levels[level]) for level in sorted(RATING_LEVELS,
                                                                             reverse=True)]
    total = sum(levels.values())
    rows.append(_row("ratings", "count", "", total))
    if total:
        mean = sum(level * n for level, n in levels.items()) / total
        rows.append(_row("ratings", "mean", "", round(mean, 2)))
    # Every known tag, zeros included, so exports of different periods line up.
    tags = list(RATING_REASONS) + sorted(set(reasons) - set(RATING_REASONS))
    rows += [_row("rating_reasons", tag, "", reasons[tag]) for tag in tags]

    screens: Counter[str] = Counter()
    if "help_calls" in tables:
        for r in conn.execute(
            "SELECT screen, COUNT(*) AS n FROM help_calls WHERE day BETWEEN ? AND ?"
            " GROUP BY screen",
            span,
        ):
            screens[r["screen"]] = r["n"]
    rows.append(_row("help_calls", "total", "", sum(screens.values())))
    rows += [_row("help_calls", "screen", screen, screens[screen]) for screen in sorted(screens)]

    rows.append(_row("faults", "total", "", sum(faults.values())))
    rows += [_row("faults", flow, step, faults[(flow, step)]) for flow, step in sorted(faults)]

    for flow in sorted(durations):
        rows.append(_row("flow_median_s", flow, "", round(statistics.median(durations[flow]), 2)))
    return rows


def export_stats(
    backend_or_db_path: Backend | Path | str, date_from: dt.date, date_to: dt.date
) -> list[Row]:
    """The statistics rows for the days date_from..date_to (inclusive).

    Raises StatsError when the file is missing or unreadable or the range is reversed.
    """
    if date_from > date_to:
        raise StatsError(f"the period starts ({date_from}) after it ends ({date_to})")
    if isinstance(backend_or_db_path, EmbeddedBackend):
        path = backend_or_db_path.db_path
    elif isinstance(backend_or_db_path, (Path, str)):
        path = Path(backend_or_db_path)
    else:
        # A kiosk of a hall (backend.kind = "http") keeps no records of its own.
        raise StatsError("统计数据保存在大厅后台服务器上，请在该服务器上运行 kiosk stats "
                         "(the hall backend keeps the statistics: run `kiosk stats` there)")
    conn = _open_read_only(path)
    try:
        conn.execute("BEGIN")  # one snapshot for every query
        try:
            return _collect(conn, date_from, date_to)
        finally:
            conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StatsError(f"{path}: cannot read statistics: {exc}") from exc
    finally:
        conn.close()
