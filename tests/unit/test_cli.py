"""Every command the README documents parses with exactly the README's words, and every
command the parser knows is documented: moving the CLI into modules changed no command."""

from __future__ import annotations

import re
import shlex

import pytest

from kiosk.cli import build_parser
from tests.helpers.paths import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text("utf-8")
# The README's command table: one row per command, the command line first in backticks.
ROWS = re.findall(r"^\| `(kiosk [^`]+)` \|", README, flags=re.M)
PLACEHOLDERS = {"F": "kiosk.toml", "DIR": "out", "FILE.bin": "ticket.bin", "REF": "YW1",
                "STATUS": "accepted", "CATEGORY": "social", "C": "cert.pem", "K": "key.pem",
                "…": "note"}


def concrete(row: str) -> list[str]:
    """The row's words with optional parts kept and placeholders filled in."""
    words = shlex.split(row.replace("[", " ").replace("]", " "))[1:]
    return [PLACEHOLDERS.get(w, w) for w in words]


def test_the_readme_lists_the_commands():
    assert len(ROWS) >= 12, ROWS


@pytest.mark.parametrize("row", ROWS)
def test_each_documented_command_parses(row):
    args = build_parser().parse_args(concrete(row))
    assert callable(args.func)


def test_every_command_is_documented():
    parser = build_parser()
    subs = next(a for a in parser._actions if a.dest == "command")
    documented = {concrete(r)[0] for r in ROWS}
    # Developer commands documented elsewhere (docs/PERFORMANCE.md, docs/CONFIG.md).
    elsewhere = {"scan-bench", "make-bench", "config-reference"}
    assert set(subs.choices) - documented == elsewhere
