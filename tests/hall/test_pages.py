"""The hall's pages as files: each served with its security headers, each script and style it
names present, nothing loaded from outside the hall (a hall's LAN may have no internet), and
nothing inline that the Content-Security-Policy would block."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import requests

from kiosk.hall.web import STATIC
from tests.helpers.hall import RunningHall

PAGES = {"/counter": "counter.html", "/board": "board.html", "/console": "console.html",
         "/t/AbCdEfGh1234": "ticket.html", "/a/AbCdEfGh12345678": "application.html"}


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("src", "href"):
            if a.get(name):
                self.refs.append(str(a[name]))
        if tag == "script" and not a.get("src"):
            self.inline.append("inline <script>")
        if "style" in a:
            self.inline.append(f"style= on <{tag}>")
        self.inline += [f"{k}= on <{tag}>" for k in a if k.startswith("on")]

    def handle_data(self, data: str) -> None:
        pass


@pytest.mark.parametrize("path", sorted(PAGES))
def test_each_page_is_served_with_its_security_headers(hall: RunningHall, path: str) -> None:
    r = requests.get(hall.url + path, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert r.headers["referrer-policy"] == "no-referrer"  # a ticket's address stays private
    assert r.text == (STATIC / PAGES[path]).read_text(encoding="utf-8")


def test_a_malformed_ticket_address_is_refused(hall: RunningHall) -> None:
    r = requests.get(hall.url + "/t/..%2F..%2Fetc", timeout=30)
    assert r.status_code in (404, 422)


@pytest.mark.parametrize("page", sorted(PAGES.values()))
def test_a_page_loads_only_the_halls_own_files(page: str) -> None:
    parser = _Refs()
    parser.feed((STATIC / page).read_text(encoding="utf-8"))
    assert parser.inline == [], "the Content-Security-Policy blocks inline code and styles"
    for ref in parser.refs:
        if ref.startswith("#"):  # a link within the page (skip to the content)
            continue
        assert ref.startswith("/static/"), ref
        assert (STATIC / ref.removeprefix("/static/")).is_file(), ref


def test_no_file_of_the_pages_fetches_from_the_internet() -> None:
    outside = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.I)
    for f in sorted(STATIC.iterdir()):
        if f.suffix in (".html", ".js", ".css"):
            text = f.read_text(encoding="utf-8")
            found = [m for m in outside.findall(text) if "www.w3.org" not in m]
            assert found == [], f"{f.name} names {found}"


def test_static_files_come_with_the_same_headers(hall: RunningHall) -> None:
    r = requests.get(hall.url + "/static/hall.js", timeout=30)
    assert r.status_code == 200
    assert "javascript" in r.headers["content-type"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert requests.get(hall.url + "/static/../app.py", timeout=30).status_code == 404
