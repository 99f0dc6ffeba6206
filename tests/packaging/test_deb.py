"""The Debian packages (packaging/build-deb.sh, packaging/debian/) built, installed by apt into
a fresh Debian 12 root, and run there as a technician would: `kiosk check-config`, `kiosk demo`,
the kiosk's user and data folder, the conffiles; the hall server's package beside it.

The build, the debootstrap and the installs happen once per session (tests/packaging/
conftest.py) and their times are printed at the end of the run. The first tests need no build:
they check the packaging files against the rest of the tree.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import tomllib
from pathlib import Path

import pytest

from tests.helpers.paths import REPO_ROOT, SHIPPED_CONFIG
from tests.helpers.waits import HANG_GUARD_S
from tests.packaging.conftest import DebBuilder, DebianRoot

pytestmark = pytest.mark.slow

DEBIAN = REPO_ROOT / "packaging" / "debian"
SETUP = REPO_ROOT / "packaging" / "setup.sh"
TERMINAL = "shanghai-kiosk"
HALL = "shanghai-kiosk-hall"
VENV = Path("/opt/venvs") / TERMINAL
SITE = VENV / "lib" / "python3.11" / "site-packages"
QT = SITE / "PySide6" / "Qt"
# The Qt plugins a terminal loads: the screen (X11, Wayland under cage, offscreen for the demo
# and tests), the Wayland shell and EGL, the scan cue's sound and the spoken prompts.
QT_PLUGINS = (
    "platforms/libqxcb.so", "platforms/libqwayland.so", "platforms/libqoffscreen.so",
    "wayland-shell-integration/libxdg-shell.so",
    "wayland-graphics-integration-client/libqt-plugin-wayland-egl.so",
    "xcbglintegrations/libqxcb-egl-integration.so",
    "multimedia/libffmpegmediaplugin.so", "texttospeech/libqtexttospeech_speechd.so",
)


def _setup_packages(array: str) -> list[str]:
    """The packages of one of packaging/setup.sh's arrays, e.g. terminal_packages."""
    found = re.search(rf"^{array}=\((.*?)\)", SETUP.read_text(encoding="utf-8"), re.M | re.S)
    assert found, f"packaging/setup.sh has no {array}=( ... )"
    return [word for line in found.group(1).splitlines()
            for word in line.split("#", 1)[0].split()]


def _control_relations(package: str, field: str) -> set[str]:
    """The package names of one field of packaging/debian/<package>/control (alternatives and
    versions dropped; substitution variables skipped)."""
    text = (DEBIAN / package / "control").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    paragraph = "\n".join(lines).split(f"Package: {package}\n", 1)[1]
    found = re.search(rf"^{field}:(.*?)(?=^\S|\Z)", paragraph, re.M | re.S)
    if not found:
        return set()
    names = set()
    for relation in found.group(1).split(","):
        for alternative in relation.split("|"):
            name = alternative.strip().split(" ", 1)[0].split("(", 1)[0]
            if name and not name.startswith("${"):
                names.add(name)
    return names


def _install_entries(package: str) -> list[tuple[Path, str]]:
    """(source file in the tree, installed path) for every file packaging/debian/<package>/
    install takes from the tree (not the ones the build makes in debian/)."""
    entries = []
    for line in (DEBIAN / package / "install").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        source, dest = line.split()
        if source.startswith("debian/"):
            continue
        matches = sorted(REPO_ROOT.glob(source))
        assert matches, f"{package}/install: {source} matches no file in the tree"
        entries += [(m, f"/{dest.strip('/')}/{m.name}") for m in matches]
    return entries


# The terminal's system files (these folders of packaging/): each is installed by its package,
# by its install list or, for these two, by the sysusers and tmpfiles helpers (debian/rules).
SYSTEM_FILE_FOLDERS = ("systemd", "pam", "sysusers", "tmpfiles", "udev", "modprobe")
BY_HELPERS = {
    "packaging/sysusers/kiosk.conf": "/usr/lib/sysusers.d/kiosk.conf",
    "packaging/tmpfiles/kiosk.conf": "/usr/lib/tmpfiles.d/kiosk.conf",
}
# Not the terminal's: documentation, the hall's unit (the hall's package), the drop-ins for
# a kiosk run from a checkout.
NOT_PACKAGED = ("packaging/systemd/README.md", "packaging/systemd/kiosk-hall.service",
                "packaging/systemd/checkout/")


def _unit_values(text: str, key: str) -> list[str]:
    return [word for line in text.splitlines() if line.strip().startswith(f"{key}=")
            for word in line.split("=", 1)[1].split()]


# --- The packaging files against the rest of the tree (no build) ---------------------------

def test_the_terminal_package_depends_on_what_setup_sh_installs_for_a_terminal() -> None:
    depends = _control_relations(TERMINAL, "Depends")
    missing = [p for p in _setup_packages("terminal_packages") if p not in depends]
    assert not missing, f"packaging/debian/{TERMINAL}/control's Depends lacks {missing}"


def test_the_hall_package_brings_what_setup_sh_installs_for_a_hall() -> None:
    related = _control_relations(HALL, "Depends") | _control_relations(HALL, "Recommends")
    missing = [p for p in _setup_packages("hall_packages") if p not in related]
    assert not missing, f"packaging/debian/{HALL}/control lacks {missing}"


def test_the_install_lists_name_files_that_exist() -> None:
    for package in (TERMINAL, HALL):
        assert _install_entries(package)  # each line matches a file, or it fails above


def test_every_system_file_of_the_terminal_is_in_its_package() -> None:
    packaged = {str(source.relative_to(REPO_ROOT)) for source, _ in _install_entries(TERMINAL)}
    packaged |= set(BY_HELPERS)
    written = {str(path.relative_to(REPO_ROOT)) for folder in SYSTEM_FILE_FOLDERS
               for path in (REPO_ROOT / "packaging" / folder).rglob("*")
               if path.is_file() or path.is_symlink()}
    left_out = sorted(f for f in written - packaged if not f.startswith(NOT_PACKAGED))
    assert not left_out, f"not installed by packaging/debian/{TERMINAL}: {left_out}"


# --- The terminal's package in a fresh Debian 12 root --------------------------------------

def test_the_terminal_package_is_installed(terminal_root: DebianRoot) -> None:
    status = terminal_root.check(f"dpkg-query -W -f='${{Status}} ${{Version}}' {TERMINAL}")
    assert status.startswith("install ok installed"), status
    assert (terminal_root.path / "usr/bin/kiosk").is_file()
    assert (terminal_root.path / str(VENV).lstrip("/") / "bin/kiosk").is_file()


def test_every_file_from_packaging_is_installed_where_the_list_says(
        terminal_root: DebianRoot) -> None:
    entries = _install_entries(TERMINAL)
    entries += [(REPO_ROOT / source, installed) for source, installed in BY_HELPERS.items()]
    for source, installed in entries:
        target = terminal_root.path / installed.lstrip("/")
        if source.is_symlink():  # ctrl-alt-del.target -> /dev/null: the mask
            assert target.is_symlink(), installed
            assert target.readlink() == source.readlink(), installed
            continue
        assert target.is_file(), f"{source.relative_to(REPO_ROOT)} -> {installed}: missing"
        assert target.read_bytes() == source.read_bytes(), installed
        assert target.stat().st_mode & 0o111 == source.stat().st_mode & 0o111, installed


def test_the_session_is_enabled_and_the_x_session_unit_is_not(terminal_root: DebianRoot) -> None:
    # Offline, as the next boot will see it (no systemd runs in the root).
    enabled = terminal_root.run("systemctl is-enabled kiosk-session.service kiosk.service "
                                "ctrl-alt-del.target")
    assert enabled.stdout.split() == ["enabled", "disabled", "masked"], enabled


def test_systemd_accepts_the_installed_units(terminal_root: DebianRoot) -> None:
    # The real thing: the programs the units start (cage, the session script, the kiosk in
    # its virtual environment), the user, the PAM file, all where the package put them.
    units = ("kiosk-session.service", "kiosk.service", "systemd-time-wait-sync.service")
    # --man=no: systemd's own units name man pages, which a minimal system does not have.
    result = terminal_root.run(f"systemd-analyze verify --man=no {' '.join(units)}")
    assert result.returncode == 0, result.stdout + result.stderr
    for unit in units[:2]:
        text = (terminal_root.path / "lib/systemd/system" / unit).read_text("utf-8")
        for doc in _unit_values(text, "Documentation"):
            if doc.startswith("file://"):
                assert (terminal_root.path / doc.removeprefix("file:///")).is_file(), doc


def test_the_packaged_config_is_the_shipped_one_with_the_data_folder_in_var_lib(
        terminal_root: DebianRoot) -> None:
    packaged = tomllib.loads((terminal_root.path / "etc/kiosk/kiosk.toml").read_text("utf-8"))
    shipped = tomllib.loads(SHIPPED_CONFIG.read_text(encoding="utf-8"))
    assert packaged["paths"].pop("data_dir") == "/var/lib/kiosk"
    shipped["paths"].pop("data_dir")
    assert packaged == shipped


def test_check_config_passes_as_root_and_as_the_kiosk_user(terminal_root: DebianRoot) -> None:
    # No --config: /usr/bin/kiosk's default, the terminal's /etc/kiosk/kiosk.toml.
    for user in (None, "kiosk"):
        out = terminal_root.check("kiosk check-config", user=user, timeout=300)
        assert "/etc/kiosk/kiosk.toml: OK" in out, out


def test_the_demo_writes_the_screens_and_the_tickets(terminal_root: DebianRoot) -> None:
    out = "/tmp/demo-out"
    # As the kiosk's own user, which runs the kiosk on a terminal: everything it reads
    # (the virtual environment, /etc/kiosk) must be readable by it.
    terminal_root.check(
        f"rm -rf {out} && mkdir -p /tmp/demo-home && chown kiosk /tmp/demo-home",
    )
    terminal_root.check(f"kiosk demo --out {out} --orientation landscape", user="kiosk",
                        env={"QT_QPA_PLATFORM": "offscreen", "HOME": "/tmp/demo-home"},
                        timeout=900, figure="kiosk demo in the root (landscape)")
    folder = terminal_root.path / out.lstrip("/")
    screens = [p for p in folder.glob("*.png") if not p.name.endswith("-paper.png")]
    assert any("home" in p.name for p in screens), sorted(p.name for p in screens)
    assert any("ticket" in p.name for p in screens), sorted(p.name for p in screens)
    tickets = sorted(folder.glob("*.bin"))
    assert tickets
    for ticket in tickets:
        assert ticket.stat().st_size > 0
        assert ticket.with_name(ticket.stem + "-paper.png").is_file()


def test_the_kiosk_user_has_the_groups_its_units_and_devices_need(
        terminal_root: DebianRoot) -> None:
    passwd = terminal_root.check("getent passwd kiosk").strip().split(":")
    assert 0 < int(passwd[2]) < 1000, passwd  # a system user
    groups = set(terminal_root.check("id -nG kiosk").split())
    units = terminal_root.path / "lib/systemd/system"
    needed = set()
    for unit in ("kiosk.service", "kiosk-session.service"):
        needed |= set(_unit_values((units / unit).read_text("utf-8"), "SupplementaryGroups"))
    # Every group the udev rules give the printer, camera and serial devices to.
    for rules in (terminal_root.path / "lib/udev/rules.d").glob("*kiosk*.rules"):
        needed |= set(re.findall(r'GROUP="([^"]+)"', rules.read_text("utf-8")))
    assert needed, "no SupplementaryGroups in the units and no GROUP in the udev rules"
    assert needed <= groups, f"kiosk is in {sorted(groups)}, not in {sorted(needed - groups)}"


def test_the_data_folder_exists_and_belongs_to_the_kiosk_user(terminal_root: DebianRoot) -> None:
    owner, mode = terminal_root.check("stat -c '%U:%G %a' /var/lib/kiosk").split()
    assert owner == "kiosk:kiosk"
    assert int(mode, 8) & 0o007 == 0, mode  # nobody else: it holds the outbox and tickets


def test_the_config_files_are_conffiles_and_the_config_is_readable_only_by_kiosk(
        terminal_root: DebianRoot) -> None:
    conffiles = {line.split()[0] for line in terminal_root.check(
        f"dpkg-query -W -f='${{Conffiles}}' {TERMINAL}").splitlines() if line.strip()}
    shipped_in_etc = {line.strip() for line in terminal_root.check(f"dpkg -L {TERMINAL}")
                      .splitlines() if line.startswith("/etc/")}
    files_in_etc = {p for p in shipped_in_etc
                    if (terminal_root.path / p.lstrip("/")).is_file()}
    assert files_in_etc == conffiles
    for name in ("kiosk.toml", "catalog.yaml", "bundles/retirement.yaml",
                 "dev-keys/demo-issuer.pem"):
        assert f"/etc/kiosk/{name}" in conffiles, name
    assert "/etc/pam.d/kiosk-session" in conffiles
    # root:kiosk 0640, kept by dpkg on upgrades (a statoverride) and by `kiosk hash-pin`.
    assert terminal_root.check("stat -c '%U:%G %a' /etc/kiosk/kiosk.toml").split() == [
        "root:kiosk", "640"]


def test_a_reinstall_keeps_the_technicians_config_and_its_mode(
        terminal_root: DebianRoot, deb_builder: DebBuilder) -> None:
    # An update from the district's repository goes the same way (unpack over the installed
    # package, conffiles compared, postinst configure). A comment keeps the config the same
    # TOML for the other tests while making it a file the technician changed.
    deb = deb_builder.get(TERMINAL)
    mark = "# changed on this terminal by its technician"
    terminal_root.check(f"echo {shlex.quote(mark)} >>/etc/kiosk/kiosk.toml")
    shutil.copy2(deb, terminal_root.path / "tmp" / deb.name)
    try:
        terminal_root.check(f"dpkg -i /tmp/{deb.name}", timeout=900)
    finally:
        (terminal_root.path / "tmp" / deb.name).unlink()
    config = terminal_root.path / "etc/kiosk/kiosk.toml"
    assert config.read_text("utf-8").rstrip().endswith(mark)
    assert not config.with_name("kiosk.toml.dpkg-dist").exists()  # nothing to choose between
    assert terminal_root.check("stat -c '%U:%G %a' /etc/kiosk/kiosk.toml").split() == [
        "root:kiosk", "640"]
    assert "OK" in terminal_root.check("kiosk check-config", user="kiosk", timeout=300)


def test_the_installed_bytecode_is_used_as_it_is(terminal_root: DebianRoot) -> None:
    # Run as root, who could rewrite it: bytecode that did not match its source (stale, or
    # compiled for the build folder) would be written again, newer than the install.
    terminal_root.check(f"kiosk check-config >/dev/null && {VENV}/bin/python -c "
                        "'import kiosk.app, kiosk.ui.main_window, kiosk.cli.run'")
    rewritten = terminal_root.check(
        f"find {VENV} -name '*.pyc' -newer /var/lib/dpkg/info/{TERMINAL}.list")
    assert not rewritten.strip(), rewritten[:2000]
    origin = terminal_root.check(
        f"{VENV}/bin/python -c 'import kiosk.app as m; print(m.__spec__.loader"
        ".get_code(m.__name__).co_filename)'").strip()
    assert origin == f"{SITE}/kiosk/app.py"


def test_the_qt_plugins_a_terminal_loads_find_their_system_libraries(
        terminal_root: DebianRoot) -> None:
    imported = {m for path in (REPO_ROOT / "kiosk").rglob("*.py")
                for m in re.findall(r"PySide6\.(Qt\w+)", path.read_text(encoding="utf-8"))}
    assert {"QtCore", "QtWidgets", "QtMultimedia"} <= imported
    modules = [str(next((terminal_root.path / str(SITE / "PySide6").lstrip("/"))
                        .glob(f"{name}.*.so")).relative_to(terminal_root.path))
               for name in sorted(imported)]
    files = [f"/{m}" for m in modules] + [f"{QT}/plugins/{p}" for p in QT_PLUGINS]
    missing = terminal_root.check(
        "for f in " + " ".join(shlex.quote(f) for f in files) + "; do "
        "[ -f \"$f\" ] || { echo \"$f: no such file\"; continue; }; "
        "ldd \"$f\" | sed -n \"s|^\\s*\\(\\S*\\) => not found|$f: \\1|p\"; done")
    assert not missing.strip(), "libraries not found (add their packages to Depends):\n" + missing


# --- The hall server's package -------------------------------------------------------------

def test_the_hall_package_installs_and_its_command_reads_the_hall_settings(
        hall_root: DebianRoot) -> None:
    status = hall_root.check(f"dpkg-query -W -f='${{Status}}' {HALL}")
    assert status == "install ok installed"
    assert "migrate" in hall_root.check("kiosk-hall --help")
    # A center the settings do not name: refused, with the file it read the centers from,
    # before the (unreachable) database is asked anything.
    result = hall_root.run("kiosk-hall add-device --center nowhere --kind kiosk kiosk-01",
                           env={"KIOSK_HALL_DSN": "postgresql://kiosk_hall@127.0.0.1:9/x"},
                           timeout=300)
    assert result.returncode != 0
    assert "/etc/kiosk-hall/hall-server.toml" in result.stderr, result.stderr
    assert "nowhere" in result.stderr, result.stderr


def _readme_hall_setup() -> str:
    """The README's shell block that sets up the hall's database, as a technician runs it."""
    text = (DEBIAN / "README.md").read_text(encoding="utf-8")
    after = text.split("<!-- tests/packaging/test_deb.py runs this block", 1)[1]
    return after.split("```sh\n", 1)[1].split("\n```", 1)[0]


# Waits for the server as tests/helpers/hall_process.py does (its /healthz, with the suite's
# hang guard), then asks for the board's state with and without the board's token.
_ASK_THE_HALL = """
import json, sys, time, urllib.error, urllib.request
base, token, guard = "http://127.0.0.1:8400", sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + guard
while True:
    try:
        urllib.request.urlopen(base + "/healthz", timeout=5).read()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("the hall server did not answer /healthz")
        time.sleep(0.05)
try:
    urllib.request.urlopen(base + "/v1/board", timeout=10)
    print("without token: 200")
except urllib.error.HTTPError as e:
    print("without token:", e.code)
request = urllib.request.Request(base + "/v1/board", headers={"Authorization": "Bearer " + token})
print("board:", json.dumps(json.load(urllib.request.urlopen(request, timeout=10))))
"""


def test_the_hall_server_runs_from_the_package_on_debian_postgresql(
        hall_root: DebianRoot) -> None:
    assert hall_root.check("pg_lsclusters -h").split()[:2] == ["15", "main"]
    script = f"""set -eu
server=""
stop() {{
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" || true; fi
  pg_ctlcluster 15 main stop -m fast
}}
trap stop EXIT
pg_ctlcluster 15 main start
{_readme_hall_setup()}
token=$(kiosk-hall add-device --center main --kind board board-test | tail -n 1)
kiosk-hall serve --host 127.0.0.1 --port 8400 >/tmp/hall-serve.log 2>&1 &
server=$!
python3 -c {shlex.quote(_ASK_THE_HALL)} "$token" {HANG_GUARD_S} ||
  {{ cat /tmp/hall-serve.log >&2; exit 1; }}
"""
    out = hall_root.check(script, isolated_network=True, timeout=900,
                          figure="hall in the root: database, migrate, accounts, serve, board")
    assert "without token: 401" in out, out
    board = json.loads(out.split("board: ", 1)[1].splitlines()[0])
    assert isinstance(board, dict), board
    assert (hall_root.path / "etc/kiosk-hall/hall.env").stat().st_mode & 0o077 == 0


def test_the_hall_settings_are_conffiles_and_its_unit_waits_to_be_enabled(
        hall_root: DebianRoot) -> None:
    conffiles = {line.split()[0] for line in hall_root.check(
        f"dpkg-query -W -f='${{Conffiles}}' {HALL}").splitlines() if line.strip()}
    assert {"/etc/kiosk-hall/hall-server.toml", "/etc/kiosk-hall/hall.yaml",
            "/etc/kiosk-hall/hall-calendar.yaml"} <= conffiles
    assert (hall_root.path / "lib/systemd/system/kiosk-hall.service").is_file()
    # Enabled by the technician once the database and hall.env exist, not by the install.
    assert not list((hall_root.path / "etc/systemd/system").rglob("kiosk-hall.service"))

