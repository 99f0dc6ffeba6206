"""Fresh signed personal codes for the emulated camera's demo resident.

A callable object rather than a closure over a loaded key, so that it can be handed to the
camera worker process (pickled): it carries the key file's path, and each process loads
the key itself on first use. The demo key is public (config/dev-keys/README), but the key's
bytes still need not travel through a pipe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.domain import payloads


class DemoCodes:
    """`DemoCodes(key_file, key_id, resident)()` -> a freshly signed personal code."""

    def __init__(self, key_file: str | Path, key_id: str, resident: str) -> None:
        self.key_file = str(key_file)
        self.key_id = key_id
        self.resident = resident
        self._key: Any = None

    def load(self) -> DemoCodes:
        """Read the key now (so that a broken key file is reported at start-up)."""
        if self._key is None:
            self._key = payloads.load_private_key(Path(self.key_file).read_bytes())
        return self

    def __call__(self) -> str:
        key = self.load()._key
        return payloads.sign(key, self.key_id, payloads.Kind.RESIDENT, self.resident)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_key": None}

    def __repr__(self) -> str:
        return f"DemoCodes({self.key_file!r}, {self.key_id!r}, {self.resident!r})"
