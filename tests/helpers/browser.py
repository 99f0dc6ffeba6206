"""A real browser for the hall's pages: Debian's Chromium driven by Playwright's Python
package. Playwright is told where Chromium is (`/usr/bin/chromium`, installed by the test
command); `playwright install`, which downloads a browser, is never run.

Also: the contrast of every piece of text as the browser rendered it, and the screenshots
kept in docs/img/hall/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
# Playwright's own waits (a locator, an expect): generous, since a shared machine under
# load may be slow; a test fails on a wrong result, not on a slow one.
PAGE_TIMEOUT_MS = 30_000
# The board plays its chime and announcements without a person tapping first, as the
# board's kiosk session starts Chromium (docs/HALL.md).
CHROMIUM_ARGS = ["--autoplay-policy=no-user-gesture-required", "--no-sandbox",
                 "--disable-dev-shm-usage", "--lang=zh-CN"]

SCREENSHOTS_ENV = "KIOSK_HALL_SCREENSHOTS"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img" / "hall"


def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        found = shutil.which("chromium")
        if found is None:
            pytest.fail("the hall's page tests need Debian's chromium: the test command "
                        "(bash packaging/setup.sh test) installs it", pytrace=False)
        return found
    return CHROMIUM


def screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    """A PNG of the page: into docs/img/hall/ when KIOSK_HALL_SCREENSHOTS=1 (to refresh the
    documentation's pictures), else beside the test's other files."""
    folder = DOCS_IMG if os.environ.get(SCREENSHOTS_ENV) == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


# WCAG 2 contrast of each visible text node's colour against the background behind it (the
# nearest ancestor with an opaque background colour; a background image counts as unknown
# and is reported). Returns the failures: [{text, ratio, size, color, background}].
_CONTRAST_JS = (Path(__file__).with_name("contrast.js")).read_text(encoding="utf-8")


def contrast_failures(page: Any, minimum: float = 4.5,
                      large_minimum: float | None = None) -> list[dict[str, Any]]:
    """Text on the page whose contrast is under `minimum` (`large_minimum` for large text;
    the same as `minimum` when not given: the issue asks 4.5:1 everywhere, 7:1 on boards)."""
    failures: list[dict[str, Any]] = page.evaluate(
        _CONTRAST_JS, [minimum, large_minimum if large_minimum is not None else minimum])
    return failures
