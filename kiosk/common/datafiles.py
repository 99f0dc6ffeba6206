"""Data files that staff and technicians edit (TOML, YAML), read and validated with every
problem reported at once.

A technician who edits `kiosk.toml` at night, or staff who edit a bundle file, should see
every mistake in one message that names the file, the key and what was expected, not one
error per restart and never a traceback. Shared by kiosk.config (the config file) and
kiosk.domain (catalog, bundles); imports nothing from kiosk.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

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
        parts.append(("." if parts else "") + part)
    return "".join(parts)


# Values never echoed back in a message: a technician may have pasted a secret there.
SECRET_KEYS = ("pin_hash",)


def _explain(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    given = err.get("input")
    if any(part in SECRET_KEYS for part in err.get("loc", ())):
        given = None
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see docs/CONFIG.md for the keys)"
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_not_found":
        return "required key `kind` is missing (which device this is)"
    if kind == "union_tag_invalid":
        expected = err.get("ctx", {}).get("expected_tags", "")
        return f"unknown kind {given!r}, expected one of {expected}"
    msg = str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    if given is not None and not isinstance(given, dict | list):
        return f"{msg} (found {given!r})"
    return msg


def problems_from_validation(
    exc: ValidationError, union_tags: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """Each pydantic error as (key path as the file spells it, what was expected).

    `union_tags` are the tags of the model's tagged unions, left out of key paths."""
    return [(_key_path(tuple(e["loc"]), union_tags), _explain(dict(e))) for e in exc.errors()]


# libyaml's safe loader: the same documents and errors as yaml.safe_load, many times faster;
# in pure Python the bundle files and the catalog were a large share of the start-up time
# (docs/PERFORMANCE.md, "Measured choices in the code").
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_data_file(path: Path) -> Any:
    """Parse TOML or YAML by extension; syntax errors become ConfigFileError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigFileError(path, [("", "file not found")]) from None
    except OSError as e:
        raise ConfigFileError(path, [("", f"cannot read the file: {e.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigFileError(
            path, [("", f"not UTF-8 text (byte {e.start}); save the file as UTF-8")]
        ) from None
    try:
        if path.suffix == ".toml":
            return tomllib.loads(text)
        return yaml.load(text, Loader=_YAML_LOADER)
    except tomllib.TOMLDecodeError as e:
        raise ConfigFileError(path, [("", f"TOML syntax error: {e}")]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigFileError(path, [("", f"YAML syntax error{where}: {problem}")]) from None


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
        raise ConfigFileError(path, problems_from_validation(e, union_tags)) from None
