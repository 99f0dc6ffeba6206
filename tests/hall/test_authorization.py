"""Who may call what at the hall: every route against every kind of credential, tenants kept
apart, and hostile requests refused without a 500.

ROUTES is the authorization table: for each route of the app (method, path template) the
credentials it admits. A route added without a row fails `test_every_route_has_a_row`, so
no route ships without someone deciding who may call it. Every (route, credential) pair is
then sent a request good enough to get past validation: one not admitted answers 401 (no,
unknown, revoked or expired credential) or 403 (a valid one of the wrong role) and leaves
every table as it was; one admitted answers anything but 401 or 403.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastapi.routing
import psycopg
import pytest
import requests
import yaml
from psycopg.rows import dict_row

from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain import idnumber, payloads
from kiosk.hall.rules.config import HallRules, load_hall_rules
from tests.hall.conftest import OPEN_MONDAY
from tests.helpers.clock import FakeClock
from tests.helpers.hall import RunningHall, running_hall
from tests.helpers.paths import CONFIG_DIR
from tests.helpers.waits import HANG_GUARD_S, poll_until

DEMO_KEY = payloads.load_private_key((CONFIG_DIR / "dev-keys" / "demo-issuer.pem").read_bytes())
ORDINARY = DEMO_RESIDENTS["ordinary"]
OTHER_CENTER = "north"

# ----------------------------------------------------------------------- credentials

NONE = "none"  # no Authorization header
KIOSK = "kiosk"
COUNTER = "counter"  # a counter's device (its screen), not a person
BOARD = "board"
CLERK = "clerk"  # a clerk's session opened at a counter
CLERK_NO_COUNTER = "clerk_no_counter"
SUPERVISOR = "supervisor"
REVOKED_KIOSK = "revoked_kiosk"
EXPIRED_STAFF = "expired_staff"  # a clerk's session past its 12 hours
OTHER_CENTER_KIOSK = "other_center_kiosk"
FORGED = "forged"  # a well-formed device token the hall never issued

CREDENTIALS = (NONE, KIOSK, COUNTER, BOARD, CLERK, CLERK_NO_COUNTER, SUPERVISOR, REVOKED_KIOSK,
               EXPIRED_STAFF, OTHER_CENTER_KIOSK, FORGED)
# Not a credential at all: refused as unauthenticated (401), whatever the route.
UNAUTHENTICATED = frozenset({NONE, REVOKED_KIOSK, EXPIRED_STAFF, FORGED})

KIOSKS = frozenset({KIOSK, OTHER_CENTER_KIOSK})
STAFF = frozenset({CLERK, CLERK_NO_COUNTER, SUPERVISOR})
WATCHERS = frozenset({BOARD, COUNTER}) | STAFF
EVERY_DEVICE_AND_STAFF = KIOSKS | WATCHERS
ANYONE = frozenset(CREDENTIALS)


# ----------------------------------------------------------------------- the table

@dataclass(frozen=True)
class World:
    """Real ids from the hall the table's requests are sent to, all of the kiosk `KIOSK`."""

    resident_session: str
    ticket_id: str
    number: str
    call_id: str
    public_id: str
    reference: str
    appointment_id: str
    lease_id: int
    lease_first: int
    clerk_password: str
    now: dt.datetime


Body = Callable[[World], dict[str, Any]] | None


@dataclass(frozen=True)
class Row:
    allowed: frozenset[str]
    body: Body = None
    # The request ends the caller's credential (signing out): an admitted caller is given
    # a session of its own for it, so the shared ones stay valid for the other cases.
    spends_credential: bool = False


def _code(w: World) -> dict[str, Any]:
    issued = int(w.now.timestamp())
    return {"code": payloads.sign(DEMO_KEY, "demo", payloads.Kind.RESIDENT, ORDINARY,
                                  issued_at=issued)}


def _card(w: World) -> dict[str, Any]:
    # A well-formed number of nobody: an admitted kiosk hears 404, past the credential.
    head = "11010119800101001"
    return {"id_number": head + idnumber.check_digit(head), "name": "王二"}


ROUTES: dict[tuple[str, str], Row] = {
    # kiosks: the queue, numbers, outages
    ("GET", "/v1/queue"): Row(KIOSKS),
    ("POST", "/v1/tickets"): Row(KIOSKS, lambda w: {"category": "social_security"}),
    ("POST", "/v1/ticket-cancellations"): Row(KIOSKS, lambda w: {"key": "no-such-key-1"}),
    ("POST", "/v1/leases"): Row(KIOSKS, lambda w: {"category": "social_security"}),
    ("GET", "/v1/leases"): Row(KIOSKS),
    ("POST", "/v1/offline-tickets"): Row(KIOSKS, lambda w: {
        "lease_id": w.lease_id, "seq": w.lease_first, "category": "social_security",
        "issued_at": w.now.isoformat()}),
    # kiosks: residents and their applications
    ("POST", "/v1/kiosk/residents"): Row(KIOSKS, _code),
    # Only a kiosk marked as having an ID card reader (both KIOSKS are, in `enrol`); an
    # unmarked one is refused in tests/hall/test_id_card_identity.py.
    ("POST", "/v1/kiosk/residents/id-card"): Row(KIOSKS, _card),
    ("GET", "/v1/kiosk/resident/licenses"): Row(KIOSKS),
    ("GET", "/v1/kiosk/resident/appointments"): Row(KIOSKS),
    ("GET", "/v1/kiosk/resident/prefill"): Row(KIOSKS),
    ("GET", "/v1/kiosk/resident/applications"): Row(KIOSKS),
    ("POST", "/v1/appointments/{appointment_id}/check-in"): Row(KIOSKS),
    ("POST", "/v1/applications"): Row(KIOSKS, lambda w: {
        "bundle_id": "authz_bundle", "processing_days": 5, "submission": {}}),
    # The progress code's id is a capability: any center's kiosk, and staff, may read it.
    ("GET", "/v1/applications/{public_id}"): Row(KIOSKS | STAFF),
    # kiosks: help, faults, records
    ("POST", "/v1/help-calls"): Row(KIOSKS, lambda w: {"screen": "home"}),
    ("GET", "/v1/help-calls/{call_id}"): Row(KIOSKS),
    ("POST", "/v1/faults"): Row(KIOSKS, lambda w: {"kind": "paper_out", "state": "open"}),
    ("POST", "/v1/ratings"): Row(KIOSKS, lambda w: {"level": 5, "target_kind": "none"}),
    ("POST", "/v1/usage-events"): Row(KIOSKS, lambda w: {
        "kind": "flow_started", "flow": "take_number"}),
    ("POST", "/v1/used-nonces"): Row(KIOSKS, lambda w: {
        "key_id": "demo", "nonce": secrets.token_urlsafe(12), "expires_at": 0}),
    ("GET", "/v1/trusted-keys"): Row(EVERY_DEVICE_AND_STAFF),
    # staff
    ("POST", "/v1/staff/sessions"): Row(ANYONE, lambda w: {
        "username": "clerk1", "password": w.clerk_password}),
    ("GET", "/v1/staff/me"): Row(STAFF),
    ("DELETE", "/v1/staff/sessions"): Row(STAFF, spends_credential=True),
    ("GET", "/v1/help-calls"): Row(STAFF),
    ("POST", "/v1/help-calls/{call_id}/acknowledge"): Row(STAFF),
    ("POST", "/v1/help-calls/{call_id}/resolve"): Row(STAFF),
    ("GET", "/v1/faults"): Row(STAFF),
    ("GET", "/v1/devices"): Row(frozenset({SUPERVISOR})),
    ("GET", "/v1/staff/applications/{reference}"): Row(STAFF),
    ("POST", "/v1/staff/applications/{reference}/status"): Row(STAFF, lambda w: {
        "status": "accepted"}),
    # counters: only a person signed in may call; a counter's device only watches
    ("POST", "/v1/counter/call-next"): Row(STAFF),
    ("POST", "/v1/counter/call"): Row(STAFF, lambda w: {"number": w.number}),
    ("POST", "/v1/counter/recall"): Row(STAFF, lambda w: {"ticket_id": w.ticket_id}),
    ("POST", "/v1/counter/no-show"): Row(STAFF, lambda w: {"ticket_id": w.ticket_id}),
    ("POST", "/v1/counter/return"): Row(STAFF, lambda w: {"number": w.number}),
    ("POST", "/v1/counter/transfer"): Row(STAFF, lambda w: {
        "ticket_id": w.ticket_id, "category": "medical_insurance"}),
    ("POST", "/v1/counter/finish"): Row(STAFF, lambda w: {"ticket_id": w.ticket_id}),
    ("GET", "/v1/counter/state"): Row(STAFF),
    # boards and live events
    ("GET", "/v1/board"): Row(WATCHERS),
    # The board's audio: what the board shows, spoken (an admitted request without a number
    # and a counter is a 422, past the credential).
    ("GET", "/v1/board/announcement"): Row(WATCHERS),
    ("GET", "/v1/board/chime"): Row(WATCHERS),
    ("GET", "/v1/stream"): Row(EVERY_DEVICE_AND_STAFF),
    # a resident's phone: no credential, the unguessable id in the path is the capability
    ("GET", "/v1/public/tickets/{ticket_id}"): Row(ANYONE),
    ("GET", "/v1/public/tickets/{ticket_id}/stream"): Row(ANYONE),
    ("POST", "/v1/public/tickets/{ticket_id}/rating"): Row(ANYONE, lambda w: {
        "level": 5, "reasons": ["fast"]}),
    ("GET", "/v1/public/rating-choices"): Row(ANYONE),
    ("GET", "/v1/public/applications/{public_id}"): Row(ANYONE),
}

# Served to anyone on purpose, outside the table: the load balancer's probe and the API's
# own description.
UNGUARDED = {("GET", "/healthz"), ("GET", "/openapi.json"),
             # The pages and their files hold no data: each reads the API with its own
             # credential (kiosk/hall/api/pages.py).
             ("GET", "/counter"), ("GET", "/board"), ("GET", "/console"),
             ("GET", "/t/{ticket_id}"), ("GET", "/a/{public_id}"), ("ANY", "/static")}


def app_routes() -> set[tuple[str, str]]:
    """(method, path template) of every route the app serves."""
    from kiosk.hall.app import create_app
    from kiosk.hall.settings import load_settings

    app = create_app(load_settings(dsn=""))  # no database is opened before start-up
    # Newer FastAPI keeps included routers behind a wrapper that iter_route_contexts opens;
    # older ones list the routes themselves.
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    found: set[tuple[str, str]] = set()
    for route in walk(app.routes) if walk is not None else app.routes:
        path = getattr(route, "path", None)
        assert path is not None, f"a route without a path: {route!r}"
        methods = getattr(route, "methods", None) or {"ANY"}  # a mount serves every method
        found |= {(m, path) for m in methods if not (m == "HEAD" and "GET" in methods)}
    return found


def test_every_route_has_a_row() -> None:
    served = app_routes() - UNGUARDED
    missing = sorted(served - ROUTES.keys())
    assert not missing, ("routes without an authorization decision: add each to ROUTES in "
                         f"{Path(__file__).name}: {missing}")
    stale = sorted(ROUTES.keys() - served)
    assert not stale, f"rows for routes the app no longer has: {stale}"


# ----------------------------------------------------------------------- the hall

def two_center_rules(folder: Path) -> HallRules:
    """config/hall.yaml with a second center, `north`, whose categories share ids and
    number prefixes with `main`'s: a number or a category name alone tells them apart
    nowhere, only the credential's center does."""
    data = yaml.safe_load((CONFIG_DIR / "hall.yaml").read_text(encoding="utf-8"))
    main = data["centers"][0]
    north = {
        **main,
        "id": OTHER_CENTER,
        "name": {"zh": "北区政务服务中心", "en": "North District Service Center"},
        "categories": [c for c in main["categories"]
                       if c["id"] in ("social_security", "medical_insurance")],
        "counters": [
            {"number": 1, "name": {"zh": "1号窗口", "en": "Counter 1"},
             "categories": ["social_security", "medical_insurance"]},
            {"number": 3, "name": {"zh": "3号窗口", "en": "Counter 3"},
             "categories": ["social_security"]},
        ],
    }
    data["centers"].append(north)
    path = folder / "hall.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return load_hall_rules(path, CONFIG_DIR / "hall-calendar.yaml")


STAFF_LOGINS = {CLERK: ("clerk1", 3), CLERK_NO_COUNTER: ("clerk1", None),
                SUPERVISOR: ("boss", None)}


def open_session(hall: RunningHall, username: str, counter: int | None = None) -> str:
    r = hall.session(None).post(f"{hall.url}/v1/staff/sessions", json={
        "username": username, "password": hall.tokens[f"{username}-pw"], "counter": counter},
        timeout=30)
    assert r.status_code == 200, r.text
    token: str = r.json()["token"]
    return token


def enrol(hall: RunningHall) -> None:
    """Devices and staff in both centers, and hall.tokens[credential] for each credential."""
    from kiosk.hall import admin
    from kiosk.hall.auth import new_token, token_hash

    for name in ("kiosk-1", "kiosk-2", "kiosk-gone"):
        hall.add_device("kiosk", name, reads_id_cards=name == "kiosk-1")
    hall.add_device("board", "board-1")
    hall.add_device("counter", "counter-3", counter_no=3)
    hall.add_device("kiosk", "north-kiosk", center=OTHER_CENTER, reads_id_cards=True)
    hall.add_device("board", "north-board", center=OTHER_CENTER)
    for role, username, center in (("clerk", "clerk1", None), ("supervisor", "boss", None),
                                   ("clerk", "north-clerk", OTHER_CENTER),
                                   ("supervisor", "north-boss", OTHER_CENTER)):
        hall.tokens[f"{username}-pw"] = hall.add_staff(role, username, center=center)
    t = hall.tokens
    t[KIOSK], t[COUNTER], t[BOARD] = t["kiosk-1"], t["counter-3"], t["board-1"]
    t[OTHER_CENTER_KIOSK] = t["north-kiosk"]
    for credential, (username, counter) in STAFF_LOGINS.items():
        t[credential] = open_session(hall, username, counter)
    t["north-clerk"] = open_session(hall, "north-clerk", 1)
    t["north-boss"] = open_session(hall, "north-boss")
    t[REVOKED_KIOSK] = t["kiosk-gone"]
    with psycopg.connect(hall.dsn, row_factory=dict_row) as conn:
        admin.revoke_device(conn, "kiosk-gone")
    # Expired by the hall's clock (which the fake clock is), whatever the wall clock says.
    t[EXPIRED_STAFF] = open_session(hall, "clerk1", 3)
    hall.sql("UPDATE staff_session SET expires_at = %s WHERE token_hash = %s",
             (hall.clock() - dt.timedelta(seconds=1), token_hash(t[EXPIRED_STAFF])))
    t[FORGED] = new_token("dev")


@contextmanager
def two_center_hall(clock: FakeClock, folder: Path) -> Iterator[RunningHall]:
    with running_hall(clock, rules=two_center_rules(folder)) as hall:
        enrol(hall)
        yield hall


def call(hall: RunningHall, who: str | None, method: str, path: str,
         body: dict[str, Any] | None = None, *, key: str | None = None,
         resident: str | None = None) -> requests.Response:
    headers = {"Idempotency-Key": key or uuid.uuid4().hex}
    if resident is not None:
        headers["X-Resident-Session"] = resident
    return hall.session(who).request(method, f"{hall.url}{path}", json=body, headers=headers,
                                     timeout=30)


def ok(r: requests.Response) -> Any:
    assert r.status_code == 200, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


def error(r: requests.Response) -> str:
    """The error code of a refusal, checked to be in the hall's shape."""
    body = r.json()
    assert "detail" not in body, body  # FastAPI's own wrapper: a refusal the app missed
    assert set(body["message"]) == {"zh", "en"} and all(body["message"].values()), body
    code: str = body["error"]
    return code


def identify(hall: RunningHall, kiosk: str) -> str:
    """A resident session at this kiosk for the ordinary demo resident."""
    issued = int(hall.clock().timestamp())
    code = payloads.sign(DEMO_KEY, "demo", payloads.Kind.RESIDENT, ORDINARY, issued_at=issued)
    session: str = ok(call(hall, kiosk, "POST", "/v1/kiosk/residents", {"code": code}))["session"]
    return session


def stage(hall: RunningHall) -> World:
    """One of everything the table's paths and bodies name, made by kiosk-1."""
    session = identify(hall, KIOSK)
    ticket = ok(call(hall, KIOSK, "POST", "/v1/tickets", {"category": "social_security"}))
    help_call = ok(call(hall, KIOSK, "POST", "/v1/help-calls", {"screen": "home"}))
    receipt = ok(call(hall, KIOSK, "POST", "/v1/applications", {
        "bundle_id": "authz_bundle", "processing_days": 5, "submission": {}}, resident=session))
    lease = ok(call(hall, KIOSK, "POST", "/v1/leases", {"category": "social_security"}))
    [(appointment_id,)] = hall.sql("SELECT appointment_id FROM appointment WHERE center_id = %s "
                                   "ORDER BY starts_at LIMIT 1", (hall.center,))
    return World(resident_session=session, ticket_id=ticket["ticket_id"],
                 number=ticket["number"], call_id=help_call["call_id"],
                 public_id=receipt["public_id"], reference=receipt["reference"],
                 appointment_id=appointment_id, lease_id=lease["lease_id"],
                 lease_first=lease["first"], clerk_password=hall.tokens["clerk1-pw"],
                 now=hall.clock())


# ----------------------------------------------------------------------- database state

# Written as requests come in, refused ones too: when a device was last heard from.
VOLATILE_COLUMNS = {("device", "last_seen_at")}


def _fingerprint_query(conn: psycopg.Connection[Any]) -> psycopg.sql.Composed:
    from psycopg import sql

    columns: dict[str, list[str]] = {}
    for table, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"):
        if (table, column) not in VOLATILE_COLUMNS:
            columns.setdefault(table, []).append(column)
    return sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {name}, count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY "
                "r::text), '')) FROM (SELECT {columns} FROM {table}) r").format(
            name=sql.Literal(table), table=sql.Identifier(table),
            columns=sql.SQL(", ").join(map(sql.Identifier, cols)))
        for table, cols in sorted(columns.items()))


def fingerprint(hall: RunningHall) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows: a refused request changes none."""
    with psycopg.connect(hall.dsn) as conn:
        rows = conn.execute(_fingerprint_query(conn)).fetchall()
    assert len(rows) >= 20, rows  # the schema's tables, all of them
    return {str(name): (int(n), str(digest)) for name, n, digest in rows}


# ----------------------------------------------------------------------- route × credential

@pytest.fixture(scope="module")
def table_hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHall, World]]:
    with two_center_hall(FakeClock(OPEN_MONDAY), tmp_path_factory.mktemp("rules")) as hall:
        yield hall, stage(hall)


def _send(hall: RunningHall, world: World, route: tuple[str, str], token: str | None
          ) -> requests.Response:
    method, template = route
    # A new path parameter fails here (KeyError): give World a real value for it.
    path = template.format(call_id=world.call_id, public_id=world.public_id,
                           ticket_id=world.ticket_id,
                           reference=world.reference, appointment_id=world.appointment_id)
    body = ROUTES[route].body
    headers = {"Idempotency-Key": uuid.uuid4().hex,
               "X-Resident-Session": world.resident_session}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    with requests.Session() as s:
        s.trust_env = False
        r = s.request(method, f"{hall.url}{path}", headers=headers, timeout=30, stream=True,
                      json=body(world) if body is not None else None)
        if r.headers.get("content-type", "").startswith("text/event-stream"):
            r.close()  # an admitted listener: the stream is open, which is all we ask
        else:
            _ = r.content
        return r


CASES = [pytest.param(route, credential, id=f"{route[0]} {route[1]} as {credential}")
         for route in ROUTES for credential in CREDENTIALS]


@pytest.mark.parametrize(("route", "credential"), CASES)
def test_a_route_admits_only_its_credentials(table_hall: tuple[RunningHall, World],
                                             route: tuple[str, str], credential: str) -> None:
    hall, world = table_hall
    row = ROUTES[route]
    admitted = credential in row.allowed
    token = None if credential == NONE else hall.tokens[credential]
    if admitted and row.spends_credential and credential in STAFF_LOGINS:
        token = open_session(hall, *STAFF_LOGINS[credential])
    before = None if admitted else fingerprint(hall)
    r = _send(hall, world, route, token)
    if admitted:
        assert r.status_code not in (401, 403), r.text
        assert r.status_code < 500, r.text
        return
    if credential in UNAUTHENTICATED:
        assert (r.status_code, error(r)) == (401, "unauthenticated"), r.text
    else:
        assert (r.status_code, error(r)) == (403, "forbidden"), r.text
    assert fingerprint(hall) == before, "a refused request changed the database"


def test_the_fingerprint_sees_an_update_and_an_insert(
        table_hall: tuple[RunningHall, World]) -> None:
    hall, _ = table_hall
    before = fingerprint(hall)
    ok(call(hall, KIOSK, "POST", "/v1/faults", {"kind": "other", "detail": "x",
                                                 "state": "open"}))
    inserted = fingerprint(hall)
    assert inserted["device_fault"][0] == before["device_fault"][0] + 1
    ok(call(hall, KIOSK, "POST", "/v1/faults", {"kind": "other", "state": "cleared"}))
    updated = fingerprint(hall)
    assert updated["device_fault"][0] == inserted["device_fault"][0]
    assert updated["device_fault"][1] != inserted["device_fault"][1]


def test_a_session_expires_by_the_halls_clock(tmp_path: Path) -> None:
    clock = FakeClock(OPEN_MONDAY)
    with two_center_hall(clock, tmp_path) as hall:
        token = open_session(hall, "clerk1", 3)
        hall.tokens["fresh"] = token
        assert ok(call(hall, "fresh", "GET", "/v1/staff/me"))["username"] == "clerk1"
        clock.advance(hours=12)
        r = call(hall, "fresh", "GET", "/v1/staff/me")
        assert (r.status_code, error(r)) == (401, "unauthenticated")
        r = call(hall, "fresh", "POST", "/v1/counter/call-next")
        assert (r.status_code, error(r)) == (401, "unauthenticated")


def test_a_disabled_account_and_a_revoked_device_lose_access_at_once(tmp_path: Path) -> None:
    from kiosk.hall import admin

    with two_center_hall(FakeClock(OPEN_MONDAY), tmp_path) as hall:
        session = identify(hall, KIOSK)
        ok(call(hall, CLERK, "GET", "/v1/staff/me"))
        with psycopg.connect(hall.dsn, row_factory=dict_row) as conn:
            admin.disable_staff(conn, "clerk1")
            admin.revoke_device(conn, "kiosk-1")
        for who, path in ((CLERK, "/v1/staff/me"), (CLERK_NO_COUNTER, "/v1/help-calls"),
                          (KIOSK, "/v1/queue"), (KIOSK, "/v1/kiosk/resident/licenses")):
            r = call(hall, who, "GET", path, resident=session)
            assert (r.status_code, error(r)) == (401, "unauthenticated"), (who, path)
        # The revoked kiosk's resident sessions went with it.
        assert hall.sql("SELECT count(*) FROM resident_session")[0][0] == 0


# ----------------------------------------------------------------------- tenants apart

@pytest.fixture
def halls(tmp_path: Path) -> Iterator[RunningHall]:
    """A hall with two centers: main (kiosk-1, kiosk-2, board-1, counter-3, clerk1, boss)
    and north (north-kiosk, north-board, north-clerk at counter 1, north-boss)."""
    with two_center_hall(FakeClock(OPEN_MONDAY), tmp_path) as hall:
        yield hall


def device_id(hall: RunningHall, name: str) -> uuid.UUID:
    [(found,)] = hall.sql("SELECT id FROM device WHERE name = %s AND revoked_at IS NULL",
                          (name,))
    assert isinstance(found, uuid.UUID)
    return found


def test_a_kiosk_reads_only_the_help_calls_it_raised(halls: RunningHall) -> None:
    raised = ok(call(halls, "kiosk-1", "POST", "/v1/help-calls", {"screen": "home"}))
    path = f"/v1/help-calls/{raised['call_id']}"
    assert ok(call(halls, "kiosk-1", "GET", path))["call_id"] == raised["call_id"]
    for other in ("kiosk-2", "north-kiosk"):
        r = call(halls, other, "GET", path)
        assert (r.status_code, error(r)) == (404, "no_such_call"), other
        assert raised["call_id"] not in r.text
    # Nor can staff of another center see, acknowledge or resolve it.
    assert ok(call(halls, "north-clerk", "GET", "/v1/help-calls")) == []
    for action in ("acknowledge", "resolve"):
        r = call(halls, "north-clerk", "POST", f"{path}/{action}")
        assert (r.status_code, error(r)) == (404, "no_such_call")
    assert halls.sql("SELECT state FROM help_call") == [("raised",)]


def test_a_resident_session_serves_only_the_kiosk_that_opened_it(halls: RunningHall) -> None:
    session = identify(halls, "kiosk-1")
    tickets_before = halls.sql("SELECT count(*) FROM ticket")
    for other in ("kiosk-2", "north-kiosk"):
        for path in ("/v1/kiosk/resident/licenses", "/v1/kiosk/resident/prefill",
                     "/v1/kiosk/resident/appointments", "/v1/kiosk/resident/applications"):
            r = call(halls, other, "GET", path, resident=session)
            assert (r.status_code, error(r)) == (409, "resident_session"), (other, path)
        r = call(halls, other, "POST", "/v1/applications", {
            "bundle_id": "authz_bundle", "processing_days": 5, "submission": {}},
            resident=session)
        assert (r.status_code, error(r)) == (409, "resident_session"), other
        r = call(halls, other, "POST", "/v1/tickets",
                 {"category": "social_security", "resident_session": session})
        assert (r.status_code, error(r)) == (409, "resident_session"), other
    assert halls.sql("SELECT count(*) FROM application") == [(0,)]
    assert halls.sql("SELECT count(*) FROM ticket") == tickets_before
    # The kiosk that opened it still can.
    ok(call(halls, "kiosk-1", "GET", "/v1/kiosk/resident/prefill", resident=session))


def test_a_kiosk_cannot_deliver_into_another_kiosks_lease(halls: RunningHall) -> None:
    lease = ok(call(halls, "kiosk-1", "POST", "/v1/leases", {"category": "social_security"}))
    offline = {"lease_id": lease["lease_id"], "seq": lease["first"],
               "category": "social_security", "issued_at": halls.clock().isoformat()}
    for other in ("kiosk-2", "north-kiosk"):
        r = call(halls, other, "POST", "/v1/offline-tickets", offline)
        assert (r.status_code, error(r)) == (409, "not_leased"), other
        assert ok(call(halls, other, "GET", "/v1/leases")) == []
    assert halls.sql("SELECT count(*) FROM ticket") == [(0,)]
    delivered = ok(call(halls, "kiosk-1", "POST", "/v1/offline-tickets", offline))
    assert halls.sql("SELECT device_id FROM ticket WHERE id = %s", (delivered["ticket_id"],)) == [
        (device_id(halls, "kiosk-1"),)]


def test_a_center_sees_only_its_own_queue_board_and_tickets(halls: RunningHall) -> None:
    key = "main-ticket-key-1"
    first = ok(call(halls, "kiosk-1", "POST", "/v1/tickets", {"category": "social_security"},
                    key=key))
    ok(call(halls, "kiosk-1", "POST", "/v1/tickets", {"category": "medical_insurance"}))
    called = ok(call(halls, CLERK, "POST", "/v1/counter/call-next"))["ticket"]
    assert called["number"] == first["number"] == "A001"

    queue = ok(call(halls, "north-kiosk", "GET", "/v1/queue"))
    assert {c["category"]: c["waiting"] for c in queue} == {
        "social_security": 0, "medical_insurance": 0}
    board = ok(call(halls, "north-board", "GET", "/v1/board"))
    assert board["center"]["id"] == OTHER_CENTER
    assert (board["current"], board["recent"]) == ([], [])
    assert all(c["waiting"] == 0 for c in board["categories"])
    main_board = ok(call(halls, "board-1", "GET", "/v1/board"))
    assert [c["number"] for c in main_board["current"]] == ["A001"]

    # Another center's kiosk cannot withdraw the ticket by its key, nor rate it.
    r = ok(call(halls, "north-kiosk", "POST", "/v1/ticket-cancellations", {"key": key}))
    assert r == {"withdrawn_number": None}
    r2 = call(halls, "north-kiosk", "POST", "/v1/ratings",
              {"level": 1, "target_kind": "ticket", "target_id": first["ticket_id"]})
    assert (r2.status_code, error(r2)) == (404, "unknown_target")
    # Its own numbers are its own series: A001 again, and main's queue is untouched.
    own = ok(call(halls, "north-kiosk", "POST", "/v1/tickets", {"category": "social_security"}))
    assert (own["number"], own["ahead"]) == ("A001", 0)
    main_queue = ok(call(halls, "kiosk-1", "GET", "/v1/queue"))
    waiting = {c["category"]: c["waiting"] for c in main_queue}
    assert (waiting["social_security"], waiting["medical_insurance"]) == (0, 1)
    assert halls.sql("SELECT center_id, count(*) FROM ticket GROUP BY 1 ORDER BY 1") == [
        ("main", 2), (OTHER_CENTER, 1)]
    assert halls.sql("SELECT count(*) FROM rating") == [(0,)]


def test_another_centers_stream_hears_nothing_of_this_center(halls: RunningHall) -> None:
    from tests.hall.test_board_and_stream import EventStream

    # A supervisor's console: boards are not sent device ids at all.
    north = EventStream(halls, "north-boss")
    try:
        ok(call(halls, "kiosk-1", "POST", "/v1/help-calls", {"screen": "home"}))
        ok(call(halls, "kiosk-1", "POST", "/v1/tickets", {"category": "social_security"}))
        ok(call(halls, "north-kiosk", "POST", "/v1/help-calls", {"screen": "home"}))
        own = str(device_id(halls, "north-kiosk"))
        # Events go out in commit order: once north's own is here, main's would have been.
        assert poll_until(lambda: any(d.get("device") == own for _, d in north.events)), (
            f"north's board never heard its own kiosk: {north.events}")
        assert all(d.get("device") == own for _, d in north.events), north.events
    finally:
        north.close()


def test_a_clerk_of_another_center_cannot_touch_this_centers_tickets(
        halls: RunningHall) -> None:
    ticket = ok(call(halls, "kiosk-1", "POST", "/v1/tickets", {"category": "social_security"}))
    session = identify(halls, "kiosk-1")
    receipt = ok(call(halls, "kiosk-1", "POST", "/v1/applications", {
        "bundle_id": "authz_bundle", "processing_days": 5, "submission": {}}, resident=session))
    ok(call(halls, "kiosk-1", "POST", "/v1/faults", {"kind": "paper_out", "state": "open"}))
    stored = halls.sql("SELECT * FROM ticket")

    r = call(halls, "north-clerk", "POST", "/v1/counter/call", {"number": ticket["number"]})
    assert (r.status_code, error(r)) == (404, "unknown_ticket")
    assert ok(call(halls, "north-clerk", "POST", "/v1/counter/call-next")) == {"ticket": None}
    for action in ("recall", "no-show", "finish"):
        r = call(halls, "north-clerk", "POST", f"/v1/counter/{action}",
                 {"ticket_id": ticket["ticket_id"]})
        assert (r.status_code, error(r)) == (404, "unknown_ticket"), action
    r = call(halls, "north-clerk", "POST", "/v1/counter/transfer",
             {"ticket_id": ticket["ticket_id"], "category": "medical_insurance"})
    assert (r.status_code, error(r)) == (404, "unknown_ticket")
    r = call(halls, "north-clerk", "POST", "/v1/counter/return", {"number": ticket["number"]})
    assert (r.status_code, error(r)) == (404, "unknown_ticket")
    assert halls.sql("SELECT * FROM ticket") == stored

    reference = receipt["reference"]
    for who in ("north-clerk", "north-boss"):
        r = call(halls, who, "GET", f"/v1/staff/applications/{reference}")
        assert (r.status_code, error(r)) == (404, "unknown_application"), who
        r = call(halls, who, "POST", f"/v1/staff/applications/{reference}/status",
                 {"status": "accepted"})
        assert (r.status_code, error(r)) == (404, "unknown_application"), who
    assert halls.sql("SELECT status FROM application") == [("submitted",)]
    assert ok(call(halls, "north-clerk", "GET", "/v1/faults")) == []
    devices = ok(call(halls, "north-boss", "GET", "/v1/devices"))
    assert sorted(d["name"] for d in devices) == ["north-board", "north-kiosk"]


def test_the_device_and_center_are_the_credentials_never_the_bodys(
        halls: RunningHall) -> None:
    kiosk_1, kiosk_2 = device_id(halls, "kiosk-1"), device_id(halls, "kiosk-2")
    # A field kiosks built before the hall still send: accepted, and ignored.
    raised = ok(call(halls, "kiosk-2", "POST", "/v1/help-calls",
                     {"screen": "home", "kiosk_id": "kiosk-1"}))
    assert raised["kiosk"] == "kiosk-2"
    assert halls.sql("SELECT device_id, center_id FROM help_call") == [(kiosk_2, "main")]
    # Anything else naming a device, a center or a counter is refused.
    refused: list[tuple[str, str, dict[str, Any]]] = [
        ("kiosk-2", "/v1/tickets", {"category": "social_security", "device_id": str(kiosk_1)}),
        ("kiosk-2", "/v1/tickets", {"category": "social_security", "center": OTHER_CENTER}),
        ("kiosk-2", "/v1/tickets", {"category": "social_security", "center_id": OTHER_CENTER}),
        ("kiosk-2", "/v1/faults", {"kind": "paper_out", "state": "open", "device": "kiosk-1"}),
        ("kiosk-2", "/v1/leases", {"category": "social_security", "kiosk_id": "kiosk-1"}),
        ("kiosk-2", "/v1/usage-events", {"kind": "flow_started", "flow": "take_number",
                                         "device_id": str(kiosk_1)}),
        ("kiosk-2", "/v1/ratings", {"level": 5, "target_kind": "none",
                                    "center": OTHER_CENTER}),
    ]
    for who, path, body in refused:
        r = call(halls, who, "POST", path, body)
        assert (r.status_code, error(r)) == (422, "invalid_request"), (path, body)
    ticket = ok(call(halls, "kiosk-2", "POST", "/v1/tickets", {"category": "social_security"}))
    r = call(halls, CLERK, "POST", "/v1/counter/call", {"number": ticket["number"], "counter": 5})
    assert (r.status_code, error(r)) == (422, "invalid_request")
    r = call(halls, None, "POST", "/v1/staff/sessions", {
        "username": "clerk1", "password": halls.tokens["clerk1-pw"], "center": OTHER_CENTER})
    assert (r.status_code, error(r)) == (422, "invalid_request")
    assert halls.sql("SELECT device_id, center_id FROM ticket") == [(kiosk_2, "main")]
    assert halls.sql("SELECT count(*) FROM device_fault UNION ALL SELECT count(*) FROM "
                     "number_lease UNION ALL SELECT count(*) FROM usage_event") == [
        (0,), (0,), (0,)]
    # The counter a call is made from is the session's: clerk1 signed in at 3.
    called = ok(call(halls, CLERK, "POST", "/v1/counter/call", {"number": ticket["number"]}))
    assert called["ticket"]["counter"] == 3
    assert halls.sql("SELECT counter_no FROM ticket") == [(3,)]


# ----------------------------------------------------------------------- hostile requests

class ServerErrors(logging.Handler):
    """What the server logged at ERROR or above: an exception that escaped a route is
    logged by uvicorn as "Exception in ASGI application" with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def tracebacks(self) -> list[str]:
        return [self.format(r) for r in self.records]


@pytest.fixture
def hostile(hall: RunningHall) -> Iterator[tuple[RunningHall, ServerErrors]]:
    """The one-center hall, kiosk-1 with a resident, clerk1 at counter 3, and the server's
    error log. (Added once the server runs: uvicorn configures its loggers at start.)"""
    hall.sign_in("clerk1", hall.tokens["clerk-pw"], counter=3)
    hall.tokens["resident"] = identify(hall, "kiosk-1")
    errors = ServerErrors()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(errors)
    try:
        yield hall, errors
        assert errors.tracebacks() == [], "the server logged an error"
    finally:
        logger.removeHandler(errors)


def raw(hall: RunningHall, who: str | None, method: str, path: str, data: Any = None,
        headers: dict[str, str] | None = None) -> requests.Response:
    sent = {"Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json",
            **(headers or {})}
    return hall.session(who).request(method, f"{hall.url}{path}", data=data, headers=sent,
                                     timeout=60)


def test_a_megabyte_body_is_refused(hostile: tuple[RunningHall, ServerErrors]) -> None:
    hall, _ = hostile
    big = json.dumps({"screen": "a" * 1_000_000, "kiosk_id": "k"}).encode()
    for who in ("kiosk-1", None):
        r = raw(hall, who, "POST", "/v1/help-calls", big)
        assert (r.status_code, error(r)) == (413, "too_large"), (who, r.text[:300])

    # Without a Content-Length (chunked), the limit counts what arrives.
    def chunks() -> Iterator[bytes]:
        yield b'{"screen": "'
        for _ in range(64):
            yield b"a" * 16384
        yield b'"}'

    r = raw(hall, "kiosk-1", "POST", "/v1/help-calls", chunks())
    assert (r.status_code, error(r)) == (413, "too_large"), r.text[:300]
    # Refused on its Content-Length alone: the answer comes though no byte of the body does.
    port = int(hall.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=HANG_GUARD_S) as sock:
        sock.sendall(b"POST /v1/help-calls HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     b"application/json\r\nContent-Length: 1000000000\r\n\r\n")
        status_line = sock.recv(65536).split(b"\r\n", 1)[0]
    assert status_line.split(b" ")[1] == b"413", status_line
    assert hall.sql("SELECT count(*) FROM help_call") == [(0,)]
    # The connection and the server are fine afterwards.
    ok(call(hall, "kiosk-1", "POST", "/v1/help-calls", {"screen": "home"}))


def test_the_largest_honest_application_fits_under_the_limit(
        hostile: tuple[RunningHall, ServerErrors]) -> None:
    from kiosk.hall.app import MAX_BODY_BYTES

    hall, _ = hostile
    # Every field at its longest, in Chinese, as requests sends it (\\uXXXX escapes).
    long_text = "上海市浦东新区世纪大道一百号" * 15  # 210 characters, cut to 200
    submission = {
        "answers": {f"q{i:02d}_{'x' * 27}": "y" * 32 for i in range(100)},
        "fields": {f"f{i:02d}_{'x' * 27}": long_text[:200] for i in range(100)},
        "materials": {"exempt": ["m" * 32] * 100, "to_bring": ["n" * 32] * 100},
        "prefilled": {f"license:{'k' * 30}{i:02d}": long_text[:200] for i in range(38)}
        | {"resident.name": "张*", "resident.phone": "138****0001"},
    }
    body = {"bundle_id": "b" * 48, "processing_days": 365, "submission": submission}
    size = len(json.dumps(body).encode())
    assert 150_000 < size < MAX_BODY_BYTES, size
    r = call(hall, "kiosk-1", "POST", "/v1/applications", body,
             resident=hall.tokens["resident"])
    assert r.status_code == 200, r.text[:500]


def test_malformed_json_is_a_422_in_the_halls_shape(
        hostile: tuple[RunningHall, ServerErrors]) -> None:
    hall, _ = hostile
    for who in ("kiosk-1", None):
        for data in (b'{"screen": "home"', b"not json", b"", b'["screen"]',
                     b'{"screen": "home"} trailing', b"{}", b"null", b"1e999999"):
            r = raw(hall, who, "POST", "/v1/help-calls", data)
            # A body FastAPI parsed is judged before the credential; a missing one after.
            expected = {(422, "invalid_request")} | (
                {(401, "unauthenticated")} if who is None else set())
            assert (r.status_code, error(r)) in expected, (who, data[:20])
        # Not UTF-8 (json.loads guesses UTF-16 from a BOM), or nested deeper than Python's
        # parser goes: unreadable (400), or read as something else and refused (422).
        for data in (b"\xff\xfe{}", b'{"screen": "\xc3\x28"}', b"[" * 100_000):
            r = raw(hall, who, "POST", "/v1/help-calls", data)
            assert (r.status_code, error(r)) in ((400, "http_400"), (422, "invalid_request")), (
                who, data[:20])
        r = raw(hall, who, "POST", "/v1/help-calls", b'{"screen": "home"}',
                {"Content-Type": "text/plain"})  # not read as JSON at all
        assert (r.status_code, error(r)) in expected
    assert hall.sql("SELECT count(*) FROM help_call") == [(0,)]


NONSENSE = ["💩", "\u202e\u0000", "%00", "..%2F..%2Fetc%2Fpasswd", "ǅ" * 300, "\ufffd",
            "%ED%A0%80", "%FF%FE", "a%20b", "'%20OR%201=1--", "🀄️" * 40]


@pytest.mark.parametrize("nonsense", NONSENSE, ids=range(len(NONSENSE)))
def test_nonsense_in_a_path_is_not_found(hostile: tuple[RunningHall, ServerErrors],
                                         nonsense: str) -> None:
    hall, _ = hostile
    for who, method, template in (
            ("kiosk-1", "GET", "/v1/help-calls/{}"),
            ("clerk1", "POST", "/v1/help-calls/{}/acknowledge"),
            ("clerk1", "POST", "/v1/help-calls/{}/resolve"),
            ("kiosk-1", "GET", "/v1/applications/{}"),
            ("clerk1", "GET", "/v1/staff/applications/{}"),
            ("clerk1", "POST", "/v1/staff/applications/{}/status"),
            ("kiosk-1", "POST", "/v1/appointments/{}/check-in")):
        body = {"status": "accepted"} if template.endswith("status") else None
        r = call(hall, who, method, template.format(nonsense), body,
                 resident=hall.tokens["resident"])
        assert r.status_code in (404, 409, 422), (method, template, r.status_code, r.text)
        assert error(r)


SQLISH = ["'; DROP TABLE ticket; --", "\" OR 1=1 --", "1; SELECT pg_sleep(10)",
          "$$; DELETE FROM device; $$", "%s %(x)s {0}", "\\x00\\'", "\u0000", "\ud800",
          "a\u0000'; --"]


TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"


@pytest.mark.parametrize("text", SQLISH, ids=range(len(SQLISH)))
def test_sql_looking_text_is_stored_or_refused_never_run(
        hostile: tuple[RunningHall, ServerErrors], text: str) -> None:
    hall, _ = hostile
    tables = hall.sql(TABLES)
    attempts: list[tuple[str | None, str, str, dict[str, Any]]] = [
        (None, "POST", "/v1/staff/sessions", {"username": text, "password": text}),
        (None, "POST", "/v1/staff/sessions", {"username": "clerk1", "password": text}),
        ("kiosk-1", "POST", "/v1/help-calls", {"screen": text}),
        ("kiosk-1", "POST", "/v1/help-calls", {"screen": "home", "kiosk_id": text}),
        ("kiosk-1", "POST", "/v1/faults", {"kind": "other", "detail": text, "state": "open"}),
        ("kiosk-1", "POST", "/v1/tickets", {"category": text}),
        ("kiosk-1", "POST", "/v1/tickets", {"category": "social_security",
                                            "resident_session": text}),
        ("kiosk-1", "POST", "/v1/kiosk/residents", {"code": text}),
        ("kiosk-1", "POST", "/v1/ticket-cancellations", {"key": text + "-padding"}),
        ("kiosk-1", "POST", "/v1/applications", {
            "bundle_id": "authz_bundle", "processing_days": 5,
            "submission": {"fields": {"address": text}, "answers": {"q": "a"}}}),
        ("kiosk-1", "POST", "/v1/usage-events", {"kind": "flow_started", "flow": text}),
        ("clerk1", "POST", "/v1/counter/call", {"number": text}),
        ("clerk1", "POST", "/v1/counter/transfer", {"ticket_id": "abcdefgh", "category": text}),
    ]
    for who, method, path, body in attempts:
        r = call(hall, who, method, path, body, resident=hall.tokens["resident"])
        assert r.status_code < 500, (path, body, r.status_code, r.text)
        if r.status_code >= 400:
            assert error(r)
    # Stored as sent where stored at all, and nothing dropped or deleted.
    for (stored,) in hall.sql("SELECT submission->'fields'->>'address' FROM application"):
        assert stored == text
    assert hall.sql(TABLES) == tables
    assert hall.sql("SELECT count(*) FROM device") == [(4,)]  # conftest's four


def test_a_huge_or_garbled_authorization_header_is_a_401(
        hostile: tuple[RunningHall, ServerErrors]) -> None:
    hall, _ = hostile
    garbage = secrets.token_bytes(7500).hex()[:10_240]
    for value in (garbage, f"Bearer {garbage}", f"Bearer dev_{garbage}",
                  f"Bearer stf_{garbage}", "Bearer ", "Bearer", "Basic YWxhZGRpbjpvcGVu",
                  "bearer " + hall.tokens["kiosk-1"], f"Bearer {hall.tokens['kiosk-1']}x",
                  f"Bearer {hall.tokens['resident']}"):
        s = requests.Session()
        s.trust_env = False
        r = s.get(f"{hall.url}/v1/queue", headers={"Authorization": value}, timeout=30)
        assert (r.status_code, error(r)) == (401, "unauthenticated"), (value[:40], r.text)
    # Bytes no token has, sent raw: Latin-1 reaches the hall (401), a NUL does not get past
    # the HTTP parser (400).
    port = int(hall.url.rsplit(":", 1)[1])
    for token, expected in ((b"dev_\xff\xfe\xe9x", b"401"), (b"dev_\xff\x00x", b"400")):
        with socket.create_connection(("127.0.0.1", port), timeout=HANG_GUARD_S) as sock:
            sock.sendall(b"GET /v1/queue HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                         + token + b"\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        assert reply.split(b"\r\n", 1)[0].split(b" ")[1] == expected, reply[:300]
