"""Data files a careless technician (or an attacker with a text editor) could leave on a
terminal, and hypothesis strategies that make more of them: random bytes, YAML- and
TOML-ish text built from the pieces of each grammar, and shipped files with random edits.

The loaders (kiosk.common.datafiles and the catalog, bundle and config loaders on it) must
turn every one of them into a ConfigFileError naming the file, never any other exception.
"""

from __future__ import annotations

import sys

from hypothesis import strategies as st

# One past the longest decimal integer Python converts from text (int max str digits).
LONG = "1" * (sys.get_int_max_str_digits() + 1)
# A hexadecimal integer has no such limit, but its value has more decimal digits than any
# message could show (repr() refuses it).
HUGE_HEX = "0x" + "f" * 20_000


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The YAML "billion laughs": each list holds `width` aliases of the one before."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


# A few hundred bytes each, and each once stopped `kiosk run` or `check-bundles` with a
# traceback (or worse) instead of a message.
HOSTILE_YAML: dict[str, str] = {
    "impossible date": "effective_from: 2026-02-30\n",
    "impossible month": "effective_from: 2026-13-01\n",
    "impossible time": "at: 2026-01-01 25:00:00\n",
    "impossible offset": "at: 2026-01-01 10:00:00 +99:00\n",
    "explicit timestamp tag": "at: !!timestamp 2026-02-30\n",
    "too long an integer": f"order: {LONG}\n",
    "too long an integer, tagged": f"order: !!int '{LONG}'\n",
    "huge hexadecimal integer": f"order: {HUGE_HEX}\n",
    "deep block nesting": "a:\n" + "".join("  " * i + "-\n" for i in range(1, 600)),
    "deep compact nesting": "- " * 5000 + "x\n",
    "deep flow nesting": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "alias bomb": alias_bomb(),
    "alias cycle": "a: &a [*a]\n",
    "mapping cycle": "a: &a {b: *a}\n",
    "unhashable key": "? [1, 2]\n: 3\n",
    "odd keys": "2026-01-01: a\n~: b\n1.5: c\ntrue: d\n",
    "control character": "a: \x01\n",
    "python tag": "a: !!python/object/apply:os.system [true]\n",
    "bad base64": "a: !!binary 'abc'\n",
    "bad merge": "a: 1\n<<: 3\n",
    "two documents": "a: 1\n---\nb: 2\n",
}

HOSTILE_TOML: dict[str, str] = {
    "too long an integer": f"[session]\nidle_timeout_s = {LONG}\n",
    "huge hexadecimal integer": f"[session]\nidle_timeout_s = {HUGE_HEX}\n",
    "deep arrays": "a = " + "[" * 5000 + "]" * 5000 + "\n",
    "deep inline tables": "a = " + "{b = " * 2000 + "1" + "}" * 2000 + "\n",
    "impossible date": "[session]\nidle_timeout_s = 2026-02-30\n",
    "null character in a path": '[paths]\ncatalog = "cat\\u0000alog.yaml"\n',
    "byte order mark and garbage": "\ufeff[[[\n",
}

# Bytes that are not UTF-8 text, or not text at all.
HOSTILE_BYTES: dict[str, bytes] = {
    "latin-1": "order: 1 # caf\xe9\n".encode("latin-1"),
    "utf-16": "order: 1\n".encode("utf-16"),
    "binary": bytes(range(256)),
}

_YAML_PIECES = [
    "- ", "? ", ": ", ":", "[", "]", "{", "}", ", ", "\n", "  ", "    ", "\t", "#", "---\n",
    "...\n", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "&a ", "*a", "&b ", "*b", "<<: *a",
    "!!int ", "!!float ", "!!str ", "!!timestamp ", "!!binary ", "!!set ", "!!omap ",
    "!!pairs ", "!!python/name:os.system ", "!x ", "|\n", ">-\n", "'", '"', "\\", "~", "yes",
    "no", "0x1F", "0o17", "1_000", "190:20:30", "1e999", ".nan", "-.inf", "2026-02-30",
    "2026-01-01 10:00:00", "2026-13-45t99:99:99", LONG[:50], "id", "order", "title",
    "zh", "en", "questions", "options", "kind", "yes_no", "中文", "𠮷", "\x00", "\ufeff",
    "\x85", "\u2028",
]

_TOML_PIECES = [
    "[", "]", "[[", "]]", " = ", "=", "\n", " ", "\t", "#", "a", "b.c", '"x"', "'y'",
    "'''", '"""', "{", "}", ", ", ".", "session", "printer", "kind", "idle_timeout_s",
    "paths", "catalog", "1", "-1", "+1", "0x1F", "0o7", "0b1", "1_000", "1e999", "inf",
    "nan", "true", "false", "2026-02-30", "2026-01-01T10:00:00Z", "10:61:00", '"\\u0000"',
    '"\\uD800"', '"\\x"', "中文", "\x00", "\ufeff", "\r", "\x7f",
]


def _pieces_text(pieces: list[str]) -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(pieces), st.text(max_size=4))
    return st.lists(piece, max_size=60).map("".join)


yaml_ish = _pieces_text(_YAML_PIECES)
toml_ish = _pieces_text(_TOML_PIECES)
# A hostile piece now and then, so that the rare cases are tried in every run.
rare_yaml = st.sampled_from(sorted(HOSTILE_YAML.values()))
rare_toml = st.sampled_from(sorted(HOSTILE_TOML.values()))


@st.composite
def mutated(draw: st.DrawFn, text: str, pieces: st.SearchStrategy[str]) -> str:
    """`text` with one to four random edits: a line deleted, garbled, cut, duplicated, or a
    piece of the grammar (or a hostile file) put into it."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            lines.append("")
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "garble", "truncate", "duplicate", "insert",
                                   "splice"]))
        if op == "delete":
            lines.pop(i)
        elif op == "garble":
            lines[i] = draw(st.text(max_size=40))
        elif op == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, draw(pieces))
        else:
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(pieces) + lines[i][at:]
    return "\n".join(lines) + "\n"
