"""办件查询 at a kiosk of the real hall (FastAPI on PostgreSQL, tests/helpers/hall.py): the
ticket's and the receipt's paper carry the hall's public links for the resident's phone,
and the kiosk reads the same links back through GET /v1/public/tickets/{id} and
GET /v1/applications/{public_id}, with what a counter did in between.

Needs PostgreSQL: run inside pg_virtualenv, as the test command does."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.app import Kiosk
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.common.clock import SHANGHAI
from kiosk.domain.hall_links import LinkKind, parse_hall_link
from kiosk.ui import messages
from tests.helpers.clock import FakeClock
from tests.helpers.hall import RunningHall, running_hall
from tests.helpers.resident import Resident
from tests.helpers.waits import HANG_GUARD_MS
from tests.integration.test_bundles_ui import SHIPPED_BUNDLES, Walker
from tests.integration.test_http_backend import hall_kiosk
from tests.integration.test_query_progress import flat, query, take_number

# A Monday in the hall's opening hours, and not a holiday in config/hall-calendar.yaml.
OPEN_MONDAY = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OPEN_MONDAY)


@pytest.fixture
def hall(clock: FakeClock) -> Iterator[RunningHall]:
    with running_hall(clock, seed_demo_residents=True) as h:
        h.tokens["clerk-pw"] = h.add_staff("clerk", "clerk1")
        yield h


@pytest.fixture
def kiosk(qtbot, tmp_path: Path, hall: RunningHall, clock) -> Iterator[Kiosk]:
    k = hall_kiosk(hall.url, hall.add_device("kiosk", "XH-01"), tmp_path, "XH-01", clock)
    yield k
    k.shutdown()


def counter(hall: RunningHall, action: str, body: dict[str, str] | None = None) -> dict:
    r = hall.session("clerk1").post(f"{hall.url}/v1/counter/{action}", json=body or {},
                                    headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_hall_ticket_link_is_read_back_as_the_counter_moves_it(kiosk, hall, qtbot):
    resident = Resident(kiosk, qtbot)
    number, printed = take_number(kiosk, resident, "social_security")
    [link] = printed.qr_texts
    found = parse_hall_link(link)
    assert found is not None and found.kind is LinkKind.TICKET
    assert link == f"{hall.url}/t/{found.ident}"  # the hall's public_url
    assert flat("用手机扫码查看排队进度") in flat(printed.text)
    assert "本机「办件查询」" not in printed.text

    shown = query(kiosk, resident, link)
    assert number in shown and "下一个就是您" in shown

    hall.sign_in("clerk1", hall.tokens["clerk-pw"], counter=3)
    counter(hall, "call-next")
    shown = query(kiosk, resident, link)
    assert number in shown and "请到 3号窗口" in shown

    counter(hall, "finish", {"ticket_id": found.ident})
    assert "已办理完毕" in query(kiosk, resident, link)

    # An id the hall never gave: its 404, said as such.
    query(kiosk, resident, f"{hall.url}/t/tk_{'x' * 20}", screen="query_scan",
          expect=messages.ticket_not_found())


def test_a_hall_receipt_link_shows_the_applications_timeline(kiosk, hall, qtbot):
    resident = Resident(kiosk, qtbot)
    walker = Walker(kiosk, resident)
    bundle = SHIPPED_BUNDLES[0]
    walker.open(bundle.id)
    walker.walk(bundle, DEMO_RESIDENTS["ordinary"])
    before = len(resident.jobs())
    resident.tap(walker.screen.submit_button)
    resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    printed = resident.wait_printout(before)
    [link] = printed.qr_texts
    found = parse_hall_link(link)
    assert found is not None and found.kind is LinkKind.APPLICATION
    assert flat("用手机扫码查看办理进度") in flat(printed.text)
    (reference,) = hall.sql("SELECT reference FROM application WHERE public_id = %s",
                            (found.ident,))[0]

    shown = query(kiosk, resident, link)
    assert reference in shown and "已提交" in shown
    query(kiosk, resident, f"{hall.url}/a/{'q' * 22}", screen="query_scan",
          expect=messages.application_not_found())
