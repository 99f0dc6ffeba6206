"""Self-service kiosk for Shanghai 一网通办 24-hour self-service areas."""

__version__ = "0.1.0"
