"""`kiosk hall …` parses the command lines packaging/setup.sh runs, and a terminal without the
[hall] extra runs every other command and is told how to get the hall's."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kiosk.cli import build_parser
from kiosk.cli.hall import HALL_MODULES
from kiosk.common.exitcodes import EXIT_FAILED, EXIT_OK
from tests.helpers.paths import REPO_ROOT
from tests.helpers.waits import HANG_GUARD_S

# The kiosk's command line in a process where none of the hall's libraries can be imported,
# as on a terminal installed without the [hall] extra.
WITHOUT_HALL = (
    "import sys\n"
    f"for name in {(*HALL_MODULES, 'starlette')!r}:\n"
    "    sys.modules[name] = None  # `import name` raises ImportError\n"
    "from kiosk.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def without_hall(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_HALL, *argv], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=HANG_GUARD_S)


@pytest.mark.parametrize("argv", [
    # packaging/setup.sh hall, in its order
    "hall count --what staff",
    "hall count --what devices",
    "hall add-staff --center main --role supervisor admin",
    "hall add-device --center main --kind board board-1",
    "hall migrate",
    "hall serve",
    # packaging/systemd/kiosk-hall.service
    "hall serve --host 0.0.0.0 --port 8400",
    # and the rest
    "hall migrate --dsn postgresql:///kiosk_hall --downgrade base",
    "hall serve --settings s.toml --workers 4 --forwarded-allow-ips 10.0.0.1"
    " --request-timeout 30",
    "hall add-device --center main --kind counter --counter 3 counter-3",
    "hall add-staff --center main --role clerk --password-stdin clerk1",
    "hall list-devices",
    "hall revoke-device kiosk-1",
    "hall disable-staff clerk1",
])
def test_the_command_lines_of_the_set_up_parse(argv: str) -> None:
    args = build_parser().parse_args(argv.split())
    assert callable(args.func)


@pytest.mark.parametrize("argv", [
    "hall serve --workers 0",
    "hall serve --port 70000",
    "hall serve --request-timeout 0",
    "hall add-device --center main --kind clerk x",
    "hall add-staff --center main --role kiosk x",
    "hall count --what tickets",
])
def test_impossible_values_are_refused_by_the_parser(
        argv: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(argv.split())
    assert exit_.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_without_the_extra_a_hall_command_says_how_to_install_it() -> None:
    for argv in (["hall", "serve"], ["hall", "count", "--what", "staff"]):
        done = without_hall(*argv)
        assert done.returncode == EXIT_FAILED, done.stderr
        assert "Traceback" not in done.stderr
        [line] = done.stderr.splitlines()
        assert "[hall] extra" in line and "fastapi is missing" in line
        assert "`pip install .[hall]`" in line and "`bash packaging/setup.sh hall`" in line


def test_without_the_extra_the_other_commands_work() -> None:
    done = without_hall("--help")
    assert done.returncode == EXIT_OK, done.stderr
    assert "hall" in done.stdout
    done = without_hall("hall", "--help")
    assert done.returncode == EXIT_OK, done.stderr
    assert "add-device" in done.stdout
    done = without_hall("check-config")
    assert done.returncode == EXIT_OK, done.stderr
    assert "OK" in done.stdout
