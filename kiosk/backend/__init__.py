"""The backend: what a kiosk asks of the 一网通办 platform, and the hall side that answers.

`interface.py` is the contract (the `Backend` protocol, its records and errors) that both
sides share; `embedded/` is the default implementation, a local SQLite database seeded with
fictional residents; `stats.py` turns its records into the 服务指数 figures and `seed.py`
holds the fictional residents. A hall of kiosks is served by kiosk.hall (FastAPI on
PostgreSQL) instead, through kiosk.delivery.http_client.

Runs on the kiosk (embedded); the hall server uses the interface's records and the seed.
May import kiosk.common, kiosk.domain and kiosk.config; never Qt, hardware, or the kiosk
side of delivery (kiosk.delivery).
"""
