"""tests/unit mirrors kiosk/: the tests of kiosk/a/b.py are in tests/unit/a/test_b.py (or
test_b_<aspect>.py when one module's tests are split by subject), so a reader finds a
module's tests without searching, and a module without tests shows as a gap."""

from __future__ import annotations

from tests.helpers.paths import REPO_ROOT

UNIT = REPO_ROOT / "tests" / "unit"
KIOSK = REPO_ROOT / "kiosk"


def module_under_test(test_file):
    """The kiosk module or package a unit test file belongs to, or None."""
    folder = KIOSK / test_file.parent.relative_to(UNIT)
    words = test_file.stem.removeprefix("test_").split("_")
    for n in range(len(words), 0, -1):
        name = "_".join(words[:n])
        for candidate in (folder / f"{name}.py", folder / name):
            if candidate.exists():
                return candidate
    # tests/unit/test_cli.py tests kiosk/cli/ (a package tested as a whole).
    return None


def test_every_unit_test_file_mirrors_a_module():
    files = sorted(UNIT.rglob("test_*.py"))
    assert len(files) >= 40
    stray = [str(f.relative_to(REPO_ROOT)) for f in files if module_under_test(f) is None]
    assert not stray, f"unit test files with no kiosk module of that name at that path: {stray}"


def test_the_check_catches_a_stray_file(tmp_path):
    assert module_under_test(UNIT / "domain" / "test_no_such_module.py") is None
    assert module_under_test(UNIT / "delivery" / "test_http_client_tls.py") == (
        KIOSK / "delivery" / "http_client.py")
