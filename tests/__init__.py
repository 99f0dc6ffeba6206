"""The kiosk's tests: unit/ mirrors kiosk/ module by module, integration/ drives the whole
kiosk on emulated hardware, crash/ kills processes mid-write, architecture/ checks imports.

A package so that `tests.helpers` is importable from any test, conftest or child process
started from the repository root. Shared plain helpers live in tests/helpers/; fixtures live
only in conftest.py files.
"""
