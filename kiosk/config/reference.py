"""The technicians' reference of every config key, generated from the schema.

Declared once in schema.py, documented here by walking the same models, so the reference
cannot drift from what the loader accepts (a test regenerates docs/CONFIG.md and compares).
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from kiosk.config.schema import KioskConfig


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " or ".join(repr(a).replace("'", '"') for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "**required**"
    if field.default_factory is not None:
        value = field.get_default(call_default_factory=True)
        return "{}" if isinstance(value, dict) and not value else "(section)"
    value = field.default
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _models_of(annotation: Any) -> list[type[BaseModel]]:
    args = typing.get_args(annotation)
    candidates = [annotation, *args]
    for arg in args:
        candidates += list(typing.get_args(arg))
    return [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]


def _table(model: type[BaseModel]) -> list[str]:
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        desc = (field.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | {desc} |")
    return rows


def config_reference() -> str:
    out = [
        "# Configuration reference (`config/kiosk.toml`)",
        "",
        "Generated from `kiosk/config/schema.py` by `kiosk config-reference`; do not edit by",
        "hand. Relative paths are relative to the config file's folder. Unknown keys are",
        "errors. Check a file with `kiosk check-config PATH`, and its devices with",
        "`kiosk check-config --devices PATH`.",
    ]
    for section, field in KioskConfig.model_fields.items():
        models = _models_of(field.annotation)
        if not models:
            continue
        out += ["", f"## [{section}]", ""]
        doc = (models[0].__doc__ or "").strip()
        if len(models) > 1:
            kinds = [m.model_fields["kind"].default for m in models if "kind" in m.model_fields]
            out.append(f"Choose the device with `kind`: {', '.join(f'`{k}`' for k in kinds)}.")
            for m in models:
                kind = m.model_fields["kind"].default if "kind" in m.model_fields else m.__name__
                out += ["", f"### kind = \"{kind}\"", "", *_table(m)]
        else:
            if doc and not doc.startswith(models[0].__name__):
                out += [doc, ""]
            out += _table(models[0])
    return "\n".join(out) + "\n"
