"""The hall's HTTP API: one router module per audience, wire models beside them. FastAPI's
OpenAPI document of these routes is the contract the kiosk's client is checked against."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    """Every router of the API, in the order the OpenAPI document lists them."""
    from kiosk.hall.api import staff, tickets

    return [tickets.router, staff.router]
