"""The hall's web pages: the counter (窗口), the calling board (叫号屏), the staff console and
the resident's phone pages. Plain HTML, CSS and JavaScript modules served by the hall itself
(`kiosk.hall.api.pages`): a hall's LAN may have no internet, so nothing is fetched from
elsewhere, and there is no build step a technician could get wrong."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
