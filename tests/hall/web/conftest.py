"""Fixtures of the hall's page tests: one Chromium for this folder's tests (started once: a
second or two), a fresh context (cookies, storage) per page, and the hall of
tests/hall/conftest.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.helpers.browser import CHROMIUM_ARGS, PAGE_TIMEOUT_MS, chromium_path


# The package's, not the session's: Chromium and Playwright's driver are children of the
# test process, and tests elsewhere check that a kiosk leaves no child process behind.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    # expect()'s own timeout (5 s) too: a loaded machine is slow, not wrong.
    expect.set_options(timeout=PAGE_TIMEOUT_MS)

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """open_page(url, width=1280, height=800, lang="zh") -> a Playwright Page in a context
    of its own (its own localStorage: two pages are two devices)."""
    contexts: list[Any] = []

    def open_(url: str, width: int = 1280, height: int = 800, lang: str = "zh",
              **context_options: Any) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            locale="zh-CN" if lang == "zh" else "en-US", **context_options)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors  # a test asserts a page ran without a script error
        # ?lang= before any #fragment (a board's address carries its token there).
        address, hash_, fragment = url.partition("#")
        sep = "&" if "?" in address else "?"
        page.goto(f"{address}{sep}lang={lang}{hash_}{fragment}")
        return page

    yield open_
    for c in contexts:
        c.close()
