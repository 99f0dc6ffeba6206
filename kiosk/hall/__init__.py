"""The hall server (FastAPI on PostgreSQL): one queue shared by a center's kiosks, counters,
boards and staff. Installed with the [hall] extra; a terminal never imports it.

May import kiosk.common, kiosk.domain and kiosk.backend.interface (records and errors); never
Qt, hardware libraries, or the kiosk's UI, services, delivery or app. Only `kiosk/cli/hall.py`
imports it, lazily.
"""
