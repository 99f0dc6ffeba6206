"""The kiosk's HTTP client and the hall server agree on the wire, checked without a network
or a database: every request the client makes (kiosk.delivery.http_client.ROUTES, and
the tests below make sure that list is what the client really sends) is held against the
hall's OpenAPI document. A route, a parameter or a field renamed on either side fails here,
before any kiosk meets the hall.

For each request: the path and method exist; the headers the hall requires are sent and
the resident-session header the client sends is read; every body field the client sends
is in the request schema, and every field that schema requires is sent; every reply field
the client reads is in the reply schema, and one the hall may leave null is read as
optional.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import types
import typing
from collections.abc import Iterable
from typing import Any

import pytest
from pydantic import BaseModel

from kiosk.backend.interface import TicketRequest
from kiosk.common.clock import SHANGHAI
from kiosk.delivery import http_client
from kiosk.delivery.http_client import (
    ROUTES,
    AppointmentReply,
    HttpBackend,
    Route,
    TicketBody,
)

# ------------------------------------------------------------------- the hall's side


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    from kiosk.hall.app import create_app
    from kiosk.hall.settings import load_settings

    # No database is opened: the pool is made at start-up, which this never runs.
    return create_app(load_settings(dsn="")).openapi()


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The schema behind $refs and single-member allOfs."""
    seen = 0
    while True:
        seen += 1
        assert seen < 50, f"$ref loop at {schema}"
        if "$ref" in schema:
            name = schema["$ref"].removeprefix("#/components/schemas/")
            schema = doc["components"]["schemas"][name]
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            schema = schema["allOf"][0]
        else:
            return schema


def _variants(doc: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a schema (an Optional is anyOf [X, null])."""
    schema = _resolve(doc, schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options is None:
        return [] if schema.get("type") == "null" else [schema]
    return [_resolve(doc, o) for o in options if _resolve(doc, o).get("type") != "null"]


def _nullable(doc: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = _resolve(doc, schema)
    options = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return any(_resolve(doc, o).get("type") == "null" for o in options)


def _normal(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


# ------------------------------------------------------------------- the client's side


def _unwrap(tp: Any) -> tuple[Any, bool]:
    """(the type without None, whether None was allowed)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return (args[0] if len(args) == 1 else tp), len(args) < len(typing.get_args(tp))
    return tp, False


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _compare(doc: dict[str, Any], tp: Any, schema: dict[str, Any], where: str,
             sending: bool) -> list[str]:
    """What is wrong between the client's type `tp` and the hall's `schema` at `where`.
    `sending`: the client writes this value (request); else it reads it (reply)."""
    tp, _ = _unwrap(tp)
    variants = _variants(doc, schema)
    if not variants:
        return [f"{where}: the hall's schema is only null"]
    target = variants[0]
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp)
        if target.get("type") != "array":
            return [f"{where}: the client has a list, the hall {target.get('type', target)}"]
        return _compare(doc, item, target.get("items", {}), f"{where}[]", sending)
    if origin is dict:
        _, value = typing.get_args(tp)
        if target.get("type") != "object" or "properties" in target:
            return [f"{where}: the client has a mapping, the hall {target.get('type')}"
                    f" with properties {sorted(target.get('properties', {}))}"]
        extra = target.get("additionalProperties", {})
        return _compare(doc, value, extra if isinstance(extra, dict) else {}, f"{where}{{}}",
                        sending)
    if not _is_model(tp):
        return []
    properties = target.get("properties")
    if properties is None:
        return [f"{where}: the hall has no object schema here (no response_model?)"]
    problems = []
    for name, info in tp.model_fields.items():
        if name not in properties:
            side = "sends" if sending else "reads"
            problems.append(f"{where}.{name}: the client {side} it, the hall's schema has no"
                            f" such field (it has {sorted(properties)})")
            continue
        _, optional = _unwrap(info.annotation)
        if not sending and not optional and _nullable(doc, properties[name]):
            problems.append(f"{where}.{name}: the hall may send null, the client reads it as"
                            " required")
        problems += _compare(doc, info.annotation, properties[name], f"{where}.{name}",
                             sending)
    if sending:
        for name in target.get("required", []):
            if name not in tp.model_fields:
                problems.append(f"{where}.{name}: the hall requires it, the client does not"
                                " send it")
    return problems


def contract_problems(doc: dict[str, Any], routes: Iterable[Route]) -> list[str]:
    """Every disagreement between these client routes and the hall's OpenAPI document."""
    problems: list[str] = []
    by_shape = {_normal(p): p for p in doc["paths"]}
    for route in routes:
        full = http_client.API_PREFIX + route.path
        name = f"{route.method} {full}"
        path = by_shape.get(_normal(full))
        if path is None:
            problems.append(f"{name}: the hall has no such route")
            continue
        op = doc["paths"][path].get(route.method.lower())
        if op is None:
            problems.append(f"{name}: the hall has {path}, but not for {route.method}")
            continue
        params = op.get("parameters", [])
        headers = {p["name"].lower(): p for p in params if p["in"] == "header"}
        sent = {"authorization"}
        if route.key:
            sent.add("idempotency-key")
        if route.session:
            sent.add("x-resident-session")
        for header, p in headers.items():
            if p.get("required") and header not in sent:
                problems.append(f"{name}: the hall requires header {p['name']}, the client"
                                " does not send it")
        if "idempotency-key" in headers and not route.key:
            problems.append(f"{name}: the hall takes an Idempotency-Key, the client sends"
                            " none")
        if route.session and "x-resident-session" not in headers:
            problems.append(f"{name}: the client sends X-Resident-Session, the hall does not"
                            " read it")
        queries = {p["name"]: p for p in params if p["in"] == "query"}
        for q in route.query:
            if q not in queries:
                problems.append(f"{name}: the client sends ?{q}=, the hall has no such"
                                " parameter")
        for q, p in queries.items():
            if p.get("required") and q not in route.query:
                problems.append(f"{name}: the hall requires ?{q}=, the client does not send"
                                " it")
        in_path = [p["name"] for p in params if p["in"] == "path"]
        if len(in_path) != full.count("{"):
            problems.append(f"{name}: path parameters differ (hall: {in_path})")
        body = op.get("requestBody")
        if route.body is not None:
            schema = (body or {}).get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                problems.append(f"{name}: the client sends a JSON body, the hall takes none")
            else:
                problems += _compare(doc, route.body, schema, f"{name} body", sending=True)
        elif body is not None and body.get("required"):
            problems.append(f"{name}: the hall requires a body, the client sends none")
        ok = [s for s in op.get("responses", {}) if s.startswith("2")]
        schema = (op["responses"][ok[0]].get("content", {}).get("application/json", {})
                  .get("schema") if ok else None)
        if schema is None:
            problems.append(f"{name}: the hall declares no JSON reply (response_model)")
        else:
            problems += _compare(doc, route.reply, schema, f"{name} reply", sending=False)
    return problems


# ------------------------------------------------------------------------ the contract


def test_every_request_of_the_client_matches_the_hall(openapi):
    problems = contract_problems(openapi, ROUTES)
    assert not problems, "\n".join(problems)


def test_the_check_reads_nested_fields_and_every_route(openapi):
    """Not vacuous: the check walks into lists and nested models, and covers the kiosk's
    whole API."""
    checked = {(r.method, http_client.API_PREFIX + r.path) for r in ROUTES}
    assert ("POST", "/v1/appointments/{appointment_id}/check-in") in checked
    assert len(checked) == len(ROUTES) >= 20
    tampered = copy.deepcopy(openapi)
    event = _resolve(tampered, tampered["components"]["schemas"]["StatusEventOut"])
    event["properties"]["when"] = event["properties"].pop("at")
    problems = contract_problems(tampered, ROUTES)
    assert any("timeline[].at" in p for p in problems), problems


# --------------------------------------------------- tampering shows the check bites


def _op(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    op: dict[str, Any] = doc["paths"][path][method]
    return op


def _schema_of(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    return _resolve(doc, schema)


def test_a_reply_field_renamed_by_the_hall_fails(openapi):
    doc = copy.deepcopy(openapi)
    reply = _op(doc, "post", "/v1/tickets")["responses"]["200"]["content"][
        "application/json"]["schema"]
    ticket = _schema_of(doc, reply)
    ticket["properties"]["ticket_number"] = ticket["properties"].pop("number")
    problems = contract_problems(doc, ROUTES)
    assert any(p.startswith("POST /v1/tickets reply.number:") for p in problems), problems
    # The same model answers the check-in and the offline tickets: they fail too.
    assert any("check-in reply.ticket.number" in p for p in problems), problems


def test_a_request_field_renamed_by_the_hall_fails(openapi):
    doc = copy.deepcopy(openapi)
    body = _op(doc, "post", "/v1/tickets")["requestBody"]["content"]["application/json"][
        "schema"]
    ticket_in = _schema_of(doc, body)
    ticket_in["properties"]["service"] = ticket_in["properties"].pop("category")
    ticket_in["required"] = ["service"]
    problems = contract_problems(doc, [r for r in ROUTES if r.path == "/tickets"])
    assert any("body.category: the client sends it" in p for p in problems), problems
    assert any("body.service: the hall requires it" in p for p in problems), problems


def test_a_route_renamed_by_the_hall_fails(openapi):
    doc = copy.deepcopy(openapi)
    doc["paths"]["/v1/kiosk/people"] = doc["paths"].pop("/v1/kiosk/residents")
    problems = contract_problems(doc, ROUTES)
    assert "POST /v1/kiosk/residents: the hall has no such route" in problems


def test_a_header_the_hall_stops_reading_fails(openapi):
    doc = copy.deepcopy(openapi)
    op = _op(doc, "get", "/v1/kiosk/resident/licenses")
    op["parameters"] = [p for p in op["parameters"] if p["name"] != "X-Resident-Session"]
    problems = contract_problems(doc, ROUTES)
    assert any("licenses: the client sends X-Resident-Session" in p for p in problems)


def test_a_reply_the_hall_may_leave_null_must_be_read_as_optional(openapi):
    doc = copy.deepcopy(openapi)
    reply = _op(doc, "post", "/v1/ticket-cancellations")["responses"]["200"]["content"][
        "application/json"]["schema"]
    cancel = _schema_of(doc, reply)
    assert _nullable(doc, cancel["properties"]["withdrawn_number"])  # read as optional: ok
    number = _schema_of(doc, _op(doc, "post", "/v1/tickets")["responses"]["200"]["content"][
        "application/json"]["schema"])["properties"]["number"]
    number.clear()
    number.update({"anyOf": [{"type": "string"}, {"type": "null"}]})
    problems = contract_problems(doc, [r for r in ROUTES if r.path == "/tickets"])
    assert any("reply.number: the hall may send null" in p for p in problems), problems


class _RenamedTicketBody(TicketBody):
    kiosk_id: str = "KIOSK-01"


def test_a_field_the_client_adds_or_renames_fails(openapi):
    tickets = next(r for r in ROUTES if r.path == "/tickets")
    problems = contract_problems(openapi, [Route(tickets.method, tickets.path, tickets.reply,
                                                 _RenamedTicketBody, key=True)])
    assert any("body.kiosk_id: the client sends it" in p for p in problems), problems

    class Renamed(http_client.TicketReply):
        number_shown: str = ""

    problems = contract_problems(openapi, [Route("POST", "/tickets", Renamed, TicketBody,
                                                 key=True)])
    assert any("reply.number_shown: the client reads it" in p for p in problems), problems
    problems = contract_problems(openapi, [Route("GET", "/kiosk/resident/license",
                                                 list[http_client.LicenseReply],
                                                 session=True)])
    assert problems == ["GET /v1/kiosk/resident/license: the hall has no such route"]


# ------------------------------ ROUTES is what the client really sends, every request


class _Sent(Exception):
    pass


def _every_call(client: HttpBackend) -> None:
    """Each public method of the client, once, with the resident identified."""
    at = dt.datetime(2026, 12, 7, 10, tzinfo=SHANGHAI)
    calls = [
        lambda: client.queue_figures(),
        lambda: client.identify("R0001", code="SHK1.demo.code"),
        lambda: client.identify_by_id_card("310101194005061024", "王秀英"),
        lambda: client.licenses("R0001"),
        lambda: client.prefill("R0001"),
        lambda: client.appointments_on("R0001", at.date()),
        lambda: client.applications_of("R0001"),
        lambda: client.issue_ticket(TicketRequest("social_security", False, "", "R0001",
                                                  "KIOSK-01"), "ticket-key-1"),
        lambda: client.cancel_ticket_request("ticket-key-1", "timeout"),
        lambda: client.check_in("APPT-1", "KIOSK-01", "checkin-key-1"),
        lambda: client.submit_application(
            "R0001", {"bundle_id": "retirement", "answers": {"q1": "yes"},
                      "fields": {"note": "x"}, "materials": {"exempt": [], "to_bring": []}},
            5, "application-key-1"),
        lambda: client.application("abcdefghijklmnop1234"),
        lambda: client.ticket_progress("tk_" + "x" * 20),
        lambda: client.rate(5, ("fast",), "ticket", "T1", "KIOSK-01", "rating-key-1"),
        lambda: client.call_help("KIOSK-01", "home", "help-key-1"),
        lambda: client.help_call_state("H1"),
        lambda: client.record_event("flow_started", flow="take_number", kiosk_id="KIOSK-01",
                                    at=at),
        lambda: client.claim_nonce("demo", "nonce-123456", 1_800_000_000),
        lambda: client.fetch_trusted_keys(),
        lambda: client.report_fault("paper_out", "open", "", "fault-key-1"),
        lambda: client.take_lease("social_security", False, "lease-key-1"),
        lambda: client.leases(),
        lambda: client.deliver_offline_ticket(1, 3, "social_security", at, "", "offline-key-1"),
    ]
    for call in calls:
        with pytest.raises(_Sent):
            call()


def test_routes_list_every_request_exactly_as_sent(monkeypatch):
    seen: list[tuple[str, str, Any, dict[str, str] | None, str | None, str | None]] = []

    def record(self, method, route, path, *, params=None, body=None, key=None, session=None):
        seen.append((method, route, body, params, key, session))
        raise _Sent

    monkeypatch.setattr(HttpBackend, "_request", record)
    client = HttpBackend("http://127.0.0.1:9", token="dev_" + "x" * 43)
    try:
        at = dt.datetime(2026, 12, 7, 10, tzinfo=SHANGHAI)
        client._remember("R0001", "res_" + "s" * 43, [AppointmentReply(
            appointment_id="APPT-1", category="social_security", start=at,
            end=at + dt.timedelta(minutes=30), checked_in=False)])
        _every_call(client)
    finally:
        client.close()
    by_name = {(r.method, r.path): r for r in ROUTES}
    assert {(m, p) for m, p, *_ in seen} == set(by_name), "a client request missing in ROUTES"
    for method, path, body, params, key, session in seen:
        route = by_name[(method, path)]
        assert (key is not None) == route.key, (method, path)
        assert (session is not None) == route.session, (method, path)
        assert sorted(params or {}) == sorted(route.query), (method, path)
        if route.body is None:
            assert body is None, (method, path)
        else:
            assert set(body) == set(route.body.model_fields), (method, path)
