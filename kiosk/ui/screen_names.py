"""The names of the kiosk's screens: what `MainWindow.go()` takes, what `screenChanged` and
`helpRequested` carry, and what a help call records in the statistics ("help_calls" by
screen). The values are those statistics' words and must not change; being strings, they
compare equal to the plain strings Qt signals deliver.

Imports nothing from the kiosk; screens, controllers, the main window and the developer
tools import it.
"""

from __future__ import annotations

import enum


class ScreenName(enum.StrEnum):
    HOME = "home"
    SERVICES = "services"  # elder mode's second page of Home
    SCAN = "scan"  # scan the 随申码 to take a number
    CATEGORY = "category"
    TICKET = "ticket"
    TICKET_REFUSED = "ticket_refused"  # the category is closed or today's numbers are gone
    BUNDLES = "bundles"
    WIZARD = "wizard"
    BUNDLE_RESULT = "bundle_result"
    QUERY_SCAN = "query_scan"
    QUERY_RESULT = "query_result"
    CHECKIN_SCAN = "checkin_scan"
    CHECKIN_RESULT = "checkin_result"
    RATING = "rating"
    HELP = "help"
    MAINTENANCE_PIN = "maintenance_pin"
    MAINTENANCE = "maintenance"


#: The technicians' screens: laid out for the normal mode only, never spoken, no help button.
TECHNICIAN_SCREENS = frozenset({ScreenName.MAINTENANCE_PIN, ScreenName.MAINTENANCE})
