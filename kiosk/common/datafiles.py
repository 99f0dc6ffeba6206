"""Data files that staff and technicians edit (TOML, YAML), read and validated with every
problem reported at once.

A technician who edits `kiosk.toml` at night, or staff who edit a bundle file, should see
every mistake in one message that names the file, the key and what was expected, not one
error per restart and never a traceback. Shared by kiosk.config (the config file) and
kiosk.domain (catalog, bundles); imports nothing from kiosk.

Whatever bytes a file holds, reading it ends in its data or in ConfigFileError, never in
another exception: an impossible date, an integer longer than Python converts, a file too
large, nested too deep for libyaml (whose C recursion would kill the process), YAML aliases
that multiply the work, text that is not UTF-8 or holds a null character are each a problem
named by line or key like any other (tests/unit/common/test_datafiles.py fuzzes it).
"""

from __future__ import annotations

import difflib
import re
import stat
import sys
import tomllib
import typing
import unicodedata
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from yaml.constructor import ConstructorError

M = TypeVar("M", bound=BaseModel)


class ConfigFileError(Exception):
    """One file's problems, each as (key path, what was expected)."""

    def __init__(self, path: Path, problems: list[tuple[str, str]]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(self.message())

    def message(self) -> str:
        lines = [f"{self.path}: {len(self.problems)} problem(s) in this file:"]
        for key, what in self.problems:
            lines.append(f"  - {key}: {what}" if key else f"  - {what}")
        return "\n".join(lines)


def _key_path(loc: tuple[int | str, ...], tags: frozenset[str]) -> str:
    # Pydantic puts the discriminator's tag into the location (printer.usb.port); a
    # technician wrote `printer.port`, so drop the tags of tagged unions.
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int):
            parts.append(f"[{part}]")
            continue
        if part in tags and i > 0:
            continue
        parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def _shown(value: Any) -> str:
    """`value` as a message may quote it: short, and never failing (repr() refuses an
    integer of more digits than Python converts)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    try:
        text = repr(value)
    except Exception:  # a message must not fail on the value it quotes
        return f"a {type(value).__name__} value"
    return text if len(text) <= 80 else text[:77] + "..."


# Values never echoed back in a message: a technician may have pasted a secret there.
SECRET_KEYS = ("pin_hash",)


def _explain(err: dict[str, Any], model: type[BaseModel] | None = None) -> str:
    kind = err.get("type", "")
    given = err.get("input")
    if any(part in SECRET_KEYS for part in err.get("loc", ())):
        given = None
    if kind == "extra_forbidden":
        known = _known_key_elsewhere(model, tuple(err.get("loc", ()))) if model else None
        return known or "unknown key (check the spelling; see docs/CONFIG.md for the keys)"
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_not_found":
        return "required key `kind` is missing (which device this is)"
    if kind == "union_tag_invalid":
        expected = err.get("ctx", {}).get("expected_tags", "")
        return f"unknown kind {_shown(given)}, expected one of {expected}"
    msg = str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    if given is not None and not isinstance(given, dict | list):
        other = _fits_another_kind(model, tuple(err.get("loc", ())), given) if model else ""
        return f"{msg} (found {_shown(given)}){other}"
    return msg


def problems_from_validation(
    exc: ValidationError, union_tags: frozenset[str] = frozenset(),
    model: type[BaseModel] | None = None,
) -> list[tuple[str, str]]:
    """Each pydantic error as (key path as the file spells it, what was expected).

    `union_tags` are the tags of the model's tagged unions, left out of key paths. With the
    validated `model`, an unknown key is named better: a key of another `kind` of the same
    section says so, a misspelt one gets the key it is closest to."""
    return [(_key_path(tuple(e["loc"]), union_tags), _explain(dict(e), model))
            for e in exc.errors()]


# --------------------------------------------------------------------------- key hints
# A technician who switched a printer from "serial" to "network" and kept `baudrate` spelt
# it right: "check the spelling" would send them hunting for a typo that is not there.


def _kind_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("kind")
    return field.default if field is not None and isinstance(field.default, str) else None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models a field's value may be (through Optional, unions, lists, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += [m for m in _models_in(arg) if m not in found]
    return found


def _section_at(root: type[BaseModel], loc: tuple[Any, ...]
                ) -> tuple[list[type[BaseModel]], list[type[BaseModel]], str]:
    """The models that may hold the keys at `loc`, the other kinds of its tagged union
    (when `loc` went through one) and the name of the section that chose the kind."""
    models, others, section = [root], [], ""
    for part in loc:
        if isinstance(part, int):
            continue  # an item of a list: the list's models stand for it
        chosen = [m for m in models if _kind_of(m) == part]
        if chosen and len(models) > 1:
            others = [m for m in models if m not in chosen]
            models = chosen
            continue
        section = str(part)
        models = [m for parent in models if (f := parent.model_fields.get(part)) is not None
                  for m in _models_in(f.annotation)]
        others = []
        if not models:
            break
    return models, others, section


def _kinds(models: list[type[BaseModel]]) -> str:
    return " or ".join(f'"{_kind_of(m)}"' for m in models)


def _known_key_elsewhere(root: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    if not loc or not isinstance(loc[-1], str):
        return None
    key = loc[-1]
    models, others, section = _section_at(root, loc[:-1])
    owners = [m for m in others if key in m.model_fields]
    if owners and len(models) == 1:
        return (f"`{key}` belongs to {section} kind {_kinds(owners)}, not "
                f'"{_kind_of(models[0])}": delete it, or set kind = "{_kind_of(owners[0])}" '
                "if that is the device")
    known = [k for m in models for k in m.model_fields]
    close = difflib.get_close_matches(key.lower(), known, n=1, cutoff=0.6)
    if close:
        return (f"unknown key: did you mean `{close[0]}`? (see docs/CONFIG.md for the keys)")
    return None


def _fits_another_kind(root: type[BaseModel], loc: tuple[Any, ...], given: Any) -> str:
    """", or a note that the value is what another kind of the section takes for this key
    (`port = "/dev/ttyUSB0"` in a network printer is a serial printer's port)."""
    if not loc or not isinstance(loc[-1], str):
        return ""
    key = loc[-1]
    models, others, section = _section_at(root, loc[:-1])
    if len(models) != 1:
        return ""
    fits = []
    for other in others:
        field = other.model_fields.get(key)
        if field is None:
            continue
        try:
            TypeAdapter(field.rebuild_annotation()).validate_python(given)
        except (ValidationError, TypeError, ValueError):
            continue
        fits.append(other)
    if not fits:
        return ""
    return (f"; that is a `{key}` for {section} kind {_kinds(fits)}, but this {section} is "
            f'kind "{_kind_of(models[0])}"')


# libyaml's safe loader: the same documents and errors as yaml.safe_load, many times faster;
# in pure Python the bundle files and the catalog were a large share of the start-up time
# (docs/PERFORMANCE.md, "Measured choices in the code").
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Bounds on what a data file may be. Each is far above any real catalog, bundle or config
# file and far below what could stop a terminal: past them a file is refused, unread or
# unwalked, with a message that says which bound it crossed.
MAX_FILE_BYTES = 1 << 20
"""A data file staff write by hand is a few kilobytes; a larger file is refused unread."""
MAX_NESTING = 32
"""Lists and tables inside each other; the shipped files need fewer than ten levels."""
MAX_VALUES = 20_000
"""Values in a file once every YAML alias (`*name`) is expanded, as the schema walks them:
a few aliases of aliases (the "billion laughs") would otherwise make the validation take
minutes and gigabytes from a file of a few hundred bytes."""

# libyaml builds its nodes by recursing in C, one C stack frame per level of nesting: tens of
# thousands of `[` overflow the C stack and kill the process (SIGSEGV), which nothing can
# catch. Every level needs one of these indicator characters, so a file with fewer of them
# cannot nest deeper than that and is read directly; one with more is first scanned level
# by level (libyaml's event parser keeps its own stack on the heap) and refused when too deep.
_NESTING_INDICATORS = "-?:[{"
_SCAN_ABOVE_INDICATORS = 2_000

_TAG_PREFIX = "tag:yaml.org,2002:"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _scalar_problem(tag: str, value: object) -> str:
    text = value if isinstance(value, str) else ""
    kind = tag.removeprefix(_TAG_PREFIX)
    if kind == "int":
        digits = sum(c.isdigit() for c in text)
        limit = sys.get_int_max_str_digits()
        if limit and digits > limit:
            return f"a number with {digits} digits (at most {limit})"
        return f"not a whole number: {_short(text)!r}"
    if kind == "timestamp":
        return (f"not a real date or time: {_short(text)!r}; write a date as YYYY-MM-DD "
                "(a day that exists), or put the value in quotes to keep it as text")
    if kind == "float":
        return f"not a number: {_short(text)!r}"
    if kind == "bool":
        return f"not true or false: {_short(text)!r}"
    return f"not a valid {kind} value: {_short(text)!r}"


def _checked(tag: str, construct: Any) -> Any:
    # PyYAML's scalar constructors raise plain ValueError (an impossible date, an integer
    # longer than Python converts), KeyError or AttributeError (an explicit tag on a value it
    # cannot hold): made into a YAML error that carries the value's line.
    def checked(loader: Any, node: yaml.Node) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError,
                IndexError) as e:
            if isinstance(e, yaml.YAMLError):
                raise
            raise ConstructorError(None, None, _scalar_problem(tag, node.value),
                                   node.start_mark) from None

    return checked


class _Loader(_BASE_LOADER):  # type: ignore[misc]  # libyaml's loader has no stubs
    """The safe loader whose value constructors report their failures as YAML errors, and
    whose folded texts join Chinese lines without a space (`_unfolded`)."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        # libyaml's marks carry no text: the source lines, to see where a text was folded.
        self.source_lines = _LINE_BREAKS.split(stream) if isinstance(stream, str) else None


# The line breaks YAML (and libyaml's line count) knows.
_LINE_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _wide(ch: str) -> bool:
    # Han, kana, hangul, CJK and full-width punctuation: the text that is written without
    # spaces between its words.
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _unfolded(loader: Any, node: yaml.ScalarNode, value: str) -> str:
    """`value` with no space where YAML folded a line break between two CJK characters.

    YAML folds each line break of a plain or `>` text into a space, which English needs and
    Chinese does not: "…登记和⏎社会保障卡" would read "登记和 社会保障卡". Staff wrap long
    Chinese lines in the bundle files like any other, so the fold is undone here, and only
    there: a space written inside a line stays, as do folds next to Latin letters or digits.
    Any doubt (a text that does not match its lines, e.g. with a trailing space) keeps the
    value as YAML read it."""
    lines = getattr(loader, "source_lines", None)
    start, end = node.start_mark, node.end_mark
    if (lines is None or node.style not in (None, "", ">") or start.line == end.line
            or end.line >= len(lines)):
        return value
    if node.style == ">":  # the header line (`>-`) is not text; the block ends less indented
        source = [*lines[start.line + 1:end.line], lines[end.line][:end.column]]
        indent = None
        for i, line in enumerate(source):
            if not line.strip():
                continue
            here = len(line) - len(line.lstrip())
            if indent is None:
                indent = here
            elif here < indent:
                source = source[:i]
                break
    else:
        source = [lines[start.line][start.column:], *lines[start.line + 1:end.line],
                  lines[end.line][:end.column]]
    out: list[str] = []
    pos = 0
    before = ""
    for piece in (line.strip() for line in source):
        if not piece:
            continue
        at = pos
        while at < len(value) and value[at] in " \t\n":
            at += 1
        if not value.startswith(piece, at):
            return value
        gap = value[pos:at]
        if gap == " " and before and _wide(before[-1]) and _wide(piece[0]):
            gap = ""
        out += [gap, piece]
        pos = at + len(piece)
        before = piece
    return "".join(out) + value[pos:]


def _checked_str(construct: Any) -> Any:
    def construct_str(loader: Any, node: yaml.Node) -> Any:
        value = construct(loader, node)
        if isinstance(value, str) and isinstance(node, yaml.ScalarNode):
            return _unfolded(loader, node, value)
        return value

    return construct_str


for _tag, _construct in list(_BASE_LOADER.yaml_constructors.items()):
    if _tag is not None and _tag.removeprefix(_TAG_PREFIX) in (
            "null", "bool", "int", "float", "binary", "timestamp", "str"):
        _Loader.add_constructor(_tag, _checked(_tag, _construct))
_Loader.add_constructor(_TAG_PREFIX + "str",
                        _checked_str(_Loader.yaml_constructors[_TAG_PREFIX + "str"]))


def _too_deep_yaml(text: str) -> str | None:
    """Where the YAML text nests deeper than MAX_NESTING, as a problem; None when it does not
    (or cannot, having too few indicators for libyaml's composer to be in danger)."""
    if sum(text.count(c) for c in _NESTING_INDICATORS) <= _SCAN_ABOVE_INDICATORS:
        return None
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                mark = event.start_mark
                where = f"at line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
                return f"{where}values are nested more than {MAX_NESTING} levels deep"
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            depth -= 1
    return None


_CONTAINERS = (dict, list, tuple, set, frozenset)


def _shape_problem(data: Any) -> tuple[str | None, bool]:
    """Whether the parsed data can be walked (no value inside itself, at most MAX_NESTING
    levels and MAX_VALUES values with aliases expanded) as a problem or None, and whether
    some text in it holds a null character. Aliases are counted without being expanded: each
    shared list or table is measured once (by identity), iteratively."""
    if not isinstance(data, _CONTAINERS):
        return None, isinstance(data, str) and "\x00" in data
    measured: dict[int, tuple[int, int]] = {}  # id -> (values, depth), aliases expanded
    on_path: set[int] = set()
    saw_null = False
    # (container, its keys and items once visited); a container is measured after them.
    stack: list[tuple[Any, list[Any] | None]] = [(data, None)]
    while stack:
        value, parts = stack[-1]
        if parts is None:
            key = id(value)
            if key in measured:
                stack.pop()
                continue
            if key in on_path:
                return ("a value contains itself: an alias (*name) stands inside the value "
                        "its anchor (&name) marks"), saw_null
            on_path.add(key)
            parts = [*value, *value.values()] if isinstance(value, dict) else list(value)
            stack[-1] = (value, parts)
            pending = False
            for part in parts:
                if isinstance(part, _CONTAINERS):
                    if id(part) not in measured:
                        stack.append((part, None))
                        pending = True
                elif isinstance(part, str) and "\x00" in part:
                    saw_null = True
            if pending:
                continue
        stack.pop()
        on_path.discard(id(value))
        count, depth = 1 + len(parts), 1
        for part in parts:
            if isinstance(part, _CONTAINERS):
                part_count, part_depth = measured[id(part)]
                count += part_count - 1
                depth = max(depth, part_depth + 1)
        if depth > MAX_NESTING:
            return f"values are nested more than {MAX_NESTING} levels deep", saw_null
        if count > MAX_VALUES:
            return (f"the file expands to more than {MAX_VALUES} values: aliases (*name) "
                    "repeat parts of it inside each other; write the values out instead"
                    ), saw_null
        measured[id(value)] = (count, depth)
    return None, saw_null


def _null_characters(data: Any) -> list[tuple[str, str]]:
    """Each text holding a null character (written as an escape, \\u0000 or \\0), as a
    problem: no file name or text may hold one, and the operating system refuses such a path
    with an exception deep inside the kiosk rather than a message. Only walked when
    `_shape_problem` saw one, so the walk is bounded."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack and len(found) < 10:
        value, path = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                found.append((path, "holds a null character (\\u0000 or \\0); delete it"))
        elif isinstance(value, dict):
            for key, item in value.items():
                shown = str(key).replace("\x00", "\\u0000")
                name = f"{path}.{shown}" if path else shown
                if isinstance(key, str) and "\x00" in key:
                    found.append((name, "the key holds a null character (\\u0000 or \\0)"))
                stack.append((item, name))
        elif isinstance(value, list | tuple):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(value))
    return sorted(found)


def _key_path_at(text: str, mark: Any) -> str:
    """The key path (`questions[2].options[0].id`) of the value that starts at `mark`, so
    that a value the constructor refused is named as a schema problem would be; "" when it
    cannot be found. Composing builds nodes only, never the values that failed."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except Exception:  # only a nicer name for a problem already found
        return ""
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        start = node.start_mark
        if (isinstance(node, yaml.ScalarNode) and start.line == mark.line
                and start.column == mark.column):
            return path
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                stack.append((value, f"{path}.{name}" if path else str(name)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node.value))
    return ""


# YAML's traps for a text written without quotes, as staff write Chinese and English texts:
# ": " starts a new key, ", " ends a text inside {...}, " #" starts a comment, and a
# full-width colon "：" after a key is no separator at all.
_FULLWIDTH_KEY = re.compile(r"^(?:-\s+)?[A-Za-z_][A-Za-z0-9_]*\s*：")
_QUOTE_IT = ('put the whole text in quotes, e.g. en: "Note: bring originals" or '
             '{zh: "甲, 乙", en: "A, B"}')


def text_trap(part: str, in_flow: bool = False) -> str | None:
    """Which YAML trap `part` (a `key: value` line, or with `in_flow` one item of a {...}
    mapping) fell into, worded for staff; None when it shows none."""
    part = part.strip()
    if part.startswith("- "):
        part = part[2:].strip()
    if not part or part.startswith("#"):
        return None
    if _FULLWIDTH_KEY.match(part):
        return ('a full-width colon "：" does not separate a key from its value: write the '
                'key with an ASCII colon and a space (zh: 文本)')
    key, sep, value = part.partition(": ")
    value = value.strip()
    if not sep:
        if in_flow and key and ":" not in key and "{" not in key:
            return ('inside {...} a comma and a space end a text, so the rest of it became a '
                    "key of its own: " + _QUOTE_IT)
        return None
    if value.startswith(("'", '"', "|", ">")):
        return None
    if value.startswith("{"):
        for item in value[1:].rstrip().removesuffix("}").split(", "):
            trap = text_trap(item, in_flow=True)
            if trap is not None:
                return trap
        return None
    if ": " in value or value.endswith(":"):
        return 'the text holds ": " (a colon and a space), which YAML reads as a new key: ' + (
            _QUOTE_IT)
    if " #" in value:
        return 'the text holds " #", which YAML reads as the start of a comment: ' + _QUOTE_IT
    return None


def yaml_text_hint(text: str, marks: list[Any]) -> str:
    """"; line N: <the trap>" for the lines a YAML error points at (and the line before
    each: a full-width colon breaks the line after it), or ""."""
    lines = text.split("\n")
    numbers = sorted({m.line for m in marks} | {m.line - 1 for m in marks if m.line > 0},
                     reverse=True)
    for n in numbers:
        trap = text_trap(lines[n]) if 0 <= n < len(lines) else None
        if trap is not None:
            return f"; line {n + 1}: {trap}"
    return ""


_TOML_TABLE = re.compile(r"^\s*\[+\s*([^\]#]+?)\s*\]+")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*=")


def _toml_key_at(lines: list[str]) -> str:
    """The key path of the last line of `lines` (`session.idle_timeout_s`), from its
    `key =` and the table header above it; "" when the line has no plain key."""
    key = _TOML_KEY.match(lines[-1])
    if key is None:
        return ""
    for line in reversed(lines[:-1]):
        table = _TOML_TABLE.match(line)
        if table is not None:
            return f"{table.group(1)}.{key.group(1)}"
    return key.group(1)


def _long_number(text: str) -> tuple[str, str] | None:
    """Where the TOML text holds an integer too long for int(), as a problem."""
    limit = sys.get_int_max_str_digits()
    found = re.search(rf"[0-9][0-9_]{{{limit},}}", text) if limit else None
    if found is None:
        return None
    lines = text[: found.start()].split("\n")
    digits = sum(c.isdigit() for c in found.group())
    return (_toml_key_at(lines),
            f"at line {len(lines)}: a number with {digits} digits (at most {limit})")


def _parse(path: Path, text: str) -> Any:
    """The file's data; every way the parsers can fail becomes ConfigFileError."""
    try:
        if path.suffix == ".toml":
            return tomllib.loads(text)
        deep = _too_deep_yaml(text)
        if deep is not None:
            raise ConfigFileError(path, [("", deep)])
        return yaml.load(text, Loader=_Loader)
    except ConfigFileError:
        raise
    except tomllib.TOMLDecodeError as e:
        raise ConfigFileError(path, [("", f"TOML syntax error: {e}")]) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f"at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = e.problem or str(e)
        if isinstance(e, ConstructorError):
            # The syntax is fine, the value is not: say so, not "syntax error", and name it
            # by its key as the schema's problems are.
            key = _key_path_at(text, mark) if mark else ""
            raise ConfigFileError(path, [(key, f"{where}: {problem}" if where else problem)]
                                  ) from None
        sep = " " if where else ""
        hint = yaml_text_hint(text, [m for m in (mark, e.context_mark) if m is not None])
        raise ConfigFileError(path, [("", f"YAML syntax error{sep}{where}: {problem}{hint}")]
                              ) from None
    except yaml.reader.ReaderError as e:
        # libyaml counts the position in bytes of UTF-8, PyYAML in characters.
        before = (text.encode("utf-8")[: e.position].decode("utf-8", "ignore")
                  if _BASE_LOADER is getattr(yaml, "CSafeLoader", None) else text[: e.position])
        line = before.count("\n") + 1
        raise ConfigFileError(path, [("", f"at line {line}: character U+{e.character:04X} is "
                                      "not allowed in text (a control character); delete it")]
                              ) from None
    except yaml.YAMLError as e:
        raise ConfigFileError(path, [("", f"YAML syntax error: {e}")]) from None
    except RecursionError:
        raise ConfigFileError(path, [("", "values are nested too deeply to read (at most "
                                      f"{MAX_NESTING} levels)")]) from None
    except ValueError as e:
        # tomllib converts integers with int(): one too long for it raises here, unmarked.
        long_number = _long_number(text)
        if long_number is not None:
            raise ConfigFileError(path, [long_number]) from None
        raise ConfigFileError(path, [("", f"cannot read the file: {_short(str(e), 200)}")]
                              ) from None
    except Exception as e:  # a data file must never stop the kiosk
        raise ConfigFileError(path, [("", f"cannot read the file ({type(e).__name__}: "
                                      f"{_short(str(e), 200)})")]) from None


def read_data_file(path: Path) -> Any:
    """Parse TOML or YAML by extension. Whatever the file holds, the answer is its data or
    ConfigFileError naming the file (and the line where the parser knows it), never another
    exception."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise ConfigFileError(path, [("", "not a file (a folder or a device?)")])
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except ConfigFileError:
        raise
    except FileNotFoundError:
        raise ConfigFileError(path, [("", "file not found")]) from None
    except OSError as e:
        raise ConfigFileError(path, [("", f"cannot read the file: {e.strerror}")]) from None
    except ValueError as e:  # a path holding a null character
        raise ConfigFileError(path, [("", f"cannot read the file: {e}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigFileError(path, [("", f"file too large for a data file (more than "
                                      f"{MAX_FILE_BYTES} bytes)")])
    try:
        # utf-8-sig: the byte order mark some editors put first is not part of the text.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigFileError(
            path, [("", f"not UTF-8 text (byte {e.start}); save the file as UTF-8")]
        ) from None
    data = _parse(path, text)
    problem, saw_null = _shape_problem(data)
    if problem is not None:
        raise ConfigFileError(path, [("", problem)])
    if saw_null:
        raise ConfigFileError(path, _null_characters(data)
                              or [("", "holds a null character (\\u0000 or \\0)")])
    return data


def load_model_file(path: Path, model: type[M], union_tags: frozenset[str] = frozenset()) -> M:
    """The file validated against `model`; ConfigFileError with every problem at once."""
    data = read_data_file(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigFileError(path, [("", "expected a table of keys at the top level")])
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ConfigFileError(path, problems_from_validation(e, union_tags, model)) from None
    except Exception as e:  # a validator that trips over odd data
        raise ConfigFileError(path, [("", unexpected_problem(e))]) from None


def unexpected_problem(exc: Exception) -> str:
    """A validator's own failure on data nobody foresaw, as a problem to report: the file is
    refused with it rather than the kiosk stopped."""
    return f"cannot check the file ({type(exc).__name__}: {_short(str(exc), 200)})"
