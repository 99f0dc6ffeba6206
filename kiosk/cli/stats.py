"""`kiosk stats --from D --to D [--csv]`: the 服务指数 figures, as CSV or a terminal table.

kiosk.backend.stats reads the rows (no personal data, one read-only snapshot); this module
parses the dates, formats the rows and chooses the exit status.
"""

from __future__ import annotations

import argparse
import csv as csvlib
import datetime as dt
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_OK

if TYPE_CHECKING:
    from kiosk.backend.stats import Row


def stats_csv(rows: list[Row]) -> str:
    """The rows as CSV with a header line; "\\n" line ends, UTF-8 safe."""
    from kiosk.backend.stats import COLUMNS

    out = io.StringIO()
    writer = csvlib.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([str(row[column]) for column in COLUMNS])
    return out.getvalue()


def stats_table(rows: list[Row]) -> str:
    """The rows as a plain table grouped by section, for reading in a terminal."""
    key_w = max((len(str(r["key"])) for r in rows), default=0)
    sub_w = max((len(str(r["subkey"])) for r in rows), default=0)
    lines: list[str] = []
    section = None
    for r in rows:
        if r["section"] != section:
            section = r["section"]
            if lines:
                lines.append("")
            lines.append(str(section))
        lines.append(f"  {r['key']!s:<{key_w}}  {r['subkey']!s:<{sub_w}}  {r['value']!s}")
    return "\n".join(lines) + "\n"


def _parse_day(text: str, what: str) -> dt.date:
    from kiosk.backend.stats import StatsError

    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise StatsError(f"{what} must be a date like 2024-06-03, got {text!r}") from None


def stats_command(db_path: Path, date_from: str, date_to: str, csv: bool) -> int:
    """`kiosk stats --from FROM --to TO [--csv]`: print the 服务指数 statistics.

    EXIT_OK on success, EXIT_BAD_INPUT with one message on stderr for bad dates or an
    unusable file.
    """
    from kiosk.backend.stats import StatsError, export_stats

    try:
        rows = export_stats(
            db_path, _parse_day(date_from, "FROM"), _parse_day(date_to, "TO")
        )
    except StatsError as exc:
        print(f"stats: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    sys.stdout.write(stats_csv(rows) if csv else stats_table(rows))
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from kiosk.cli.backend import staff_command

    return staff_command(args, lambda db, _cat: stats_command(
        db, args.date_from, args.date_to, args.csv))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("stats", help="export usage statistics (服务指数); no personal data")
    p.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, help="last day, YYYY-MM-DD")
    p.add_argument("--csv", action="store_true", help="CSV (section,key,subkey,value)")
    p.add_argument("--config", help="config file (for the database)")
    p.set_defaults(func=cmd_stats)
