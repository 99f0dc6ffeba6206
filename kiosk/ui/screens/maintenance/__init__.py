"""The technicians' screens: the maintenance PIN, then one screen with every section.

`pin` holds the PIN screen; `screen` the maintenance screen, which hosts one small class per
section (`printer`, `camera`, `link`, `errors`, `config`, `stats`, `bundles`, `exit`, all
built on `section.Section` from the pieces in `parts`). Like every screen these only show
what they are given and emit what was chosen; `kiosk.ui.controllers.maintenance` talks to
the services.

Modules here may import Qt, `kiosk.ui.screens.base`, `kiosk.ui.widgets`, `kiosk.ui.theme` and
`kiosk.ui.log_buffer`; never a controller, a service, the hardware or the backend.
"""

from kiosk.ui.screens.maintenance.camera import DecodedCode
from kiosk.ui.screens.maintenance.pin import PinScreen
from kiosk.ui.screens.maintenance.screen import MaintenanceScreen

__all__ = ["DecodedCode", "MaintenanceScreen", "PinScreen"]
