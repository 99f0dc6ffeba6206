"""`jsonable`: turns the backend's result and request objects into values `json.dumps` takes.

Both ends of the wire use it (the kiosk's HTTP client and outbox deliverer, the hall's HTTP
server), so a value is spelt the same whichever side writes it. Imports only the standard
library.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any


def jsonable(value: Any) -> Any:
    """`value` with dataclasses as objects, dates and datetimes as ISO 8601 text, tuples as
    lists and mappings as dicts, at any depth; anything else is returned as it is."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    # One check for both: datetime is a subclass of date, and its own isoformat() keeps the
    # time and the UTC offset. Testing only datetime would let a date through to json.dumps.
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    return value
