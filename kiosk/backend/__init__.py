"""The backend: what a kiosk asks of the 一网通办 platform, and the hall side that answers.

`interface.py` is the contract (the `Backend` protocol, its records and errors) that both
sides share; `embedded/` is the default implementation, a local SQLite database seeded with
fictional residents; `http_server.py` serves it to a hall's kiosks; `stats.py` turns its
records into the 服务指数 figures and `seed.py` holds the fictional residents.

Runs on the kiosk (embedded) or on the hall server. May import kiosk.common, kiosk.domain
and kiosk.config; never Qt, hardware, or the kiosk side of delivery (kiosk.delivery).
"""
