"""Plain helpers shared across the test tree: fake clocks, repository paths, a kiosk built
for tests and the resident who drives it, printout reading, made-up ID numbers.

Import them as `from tests.helpers.clock import FakeClock`. Fixtures never live here (they
stay in the conftest.py files); these modules may import `kiosk` and the test libraries, but
never a conftest or a test module, so any test, conftest or child process can use them.
"""
