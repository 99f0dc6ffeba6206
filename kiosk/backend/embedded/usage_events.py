"""Usage events for the 服务指数 in the embedded database (read back by kiosk.backend.stats)."""

from __future__ import annotations

import datetime as dt
import math

from kiosk.backend.embedded.base import EmbeddedStore
from kiosk.backend.embedded.connection import immediate
from kiosk.backend.embedded.validate import check_kiosk_id, check_token
from kiosk.backend.interface import STAT_EVENT_KINDS
from kiosk.common.clock import SHANGHAI


class UsageEvents(EmbeddedStore):
    """Counts flows started, finished and abandoned, and faults; nothing about a person."""

    def record_event(
        self,
        kind: str,
        *,
        flow: str,
        step: str = "",
        duration_s: float | None = None,
        kiosk_id: str,
        at: dt.datetime | None = None,
    ) -> None:
        """Count a usage event for the 服务指数 (see kiosk.backend.stats).

        No idempotency key: an event counted twice after a retry skews a statistic by one,
        which is not worth a key per tap.
        """
        if kind not in STAT_EVENT_KINDS:
            raise ValueError(f"event kind must be one of {STAT_EVENT_KINDS}: {kind!r}")
        check_token("flow", flow, required=True)
        check_token("step", step, required=False)
        check_kiosk_id(kiosk_id)
        if duration_s is not None:
            if (
                isinstance(duration_s, bool)
                or not isinstance(duration_s, int | float)
                or not math.isfinite(duration_s)
                or duration_s < 0
            ):
                raise ValueError(f"duration must be a finite number >= 0: {duration_s!r}")
            duration_s = float(duration_s)
        if at is None:
            when = self._now()
        elif at.tzinfo is None:
            when = at.replace(tzinfo=SHANGHAI)
        else:
            when = at.astimezone(SHANGHAI)
        when = when.replace(microsecond=0)
        with self._errors():
            conn = self._conn()
            with immediate(conn):
                conn.execute(
                    "INSERT INTO stat_events (day, at, kind, flow, step, duration_s, kiosk_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (when.date().isoformat(), when.isoformat(), kind, flow, step, duration_s,
                     kiosk_id),
                )
