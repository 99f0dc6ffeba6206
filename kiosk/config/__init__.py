"""The technician's config file (`kiosk.toml`): its schema, declared once with defaults and
descriptions, the loader that reports every problem at once, the device checks, and the
generator of docs/CONFIG.md.

May import kiosk.common and kiosk.domain; never Qt or hardware libraries.
"""
