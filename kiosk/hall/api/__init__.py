"""The hall's HTTP API: one router module per audience, wire models beside them. FastAPI's
OpenAPI document of these routes is the contract the kiosk's client is checked against."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    """Every router of the API, in the order the OpenAPI document lists them."""
    from kiosk.hall.api import (
        announcements,
        applications,
        board,
        counter,
        devices,
        help,
        leases,
        pages,
        public,
        records,
        residents,
        staff,
        stream,
        tickets,
    )

    return [
        tickets.router,
        staff.router,
        help.router,
        devices.router,
        leases.router,
        residents.router,
        applications.router,
        records.router,
        counter.router,
        board.router,
        announcements.router,
        stream.router,
        public.router,
        pages.router,
    ]
