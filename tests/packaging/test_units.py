"""The terminal's units, session and system settings (packaging/systemd, pam, sysusers,
tmpfiles, udev, modprobe): systemd, udev's syntax, PAM and the kiosk's own code agree with them.

Two of these guard faults the files had before issue 15, and fail on those files:
`test_udev_gives_devices_only_to_groups_the_kiosk_runs_with` (the printer's rule gave it to
plugdev, a group the unit did not have) and `test_the_kiosk_starts_after_the_clock_is_synchronised`
/ `test_the_district_time_servers_are_set` (no time synchronisation at all).

systemd's own tools check what they can: `systemd-analyze verify` every unit in a scratch root
(systemd's stock units copied in, a stand-in at every program path the units name, the session
script itself at its installed path), `systemd-sysusers` and `systemd-tmpfiles` against that
kind of root, `systemctl --root` for the mask and the [Install] sections, libpam (through
ctypes, in a child process) for the PAM file. udev has no offline checker in systemd 252
(`udevadm verify` came in 253), so its rules are parsed here. The session script runs under
a stand-in cage, and under the real cage 0.1.4 (wlroots' headless backend) where cage and
Xwayland are installed.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_LEFT_KIOSK_MODE, EXIT_RESTART
from kiosk.hardware.printer import transports
from tests.helpers.paths import REPO_ROOT

PACKAGING = REPO_ROOT / "packaging"
SYSTEMD = PACKAGING / "systemd"
UDEV = PACKAGING / "udev"
SYSUSERS = PACKAGING / "sysusers" / "kiosk.conf"
TMPFILES = PACKAGING / "tmpfiles" / "kiosk.conf"
PAM = PACKAGING / "pam" / "kiosk-session"
MODPROBE = PACKAGING / "modprobe" / "kiosk-usblp.conf"
SESSION_SCRIPT = SYSTEMD / "kiosk-session"
DISPLAY_CONF = SYSTEMD / "display.conf"
TIME_WAIT_DROPIN = SYSTEMD / "systemd-time-wait-sync.service.d" / "kiosk.conf"
WATCHDOG = SYSTEMD / "system.conf.d" / "kiosk-watchdog.conf"
CTRL_ALT_DEL = SYSTEMD / "system.conf.d" / "kiosk-ctrl-alt-del.conf"
TIMESYNCD = SYSTEMD / "timesyncd.conf.d" / "kiosk.conf"

KIOSK_UNITS = ("kiosk.service", "kiosk-session.service")
UNITS = (*KIOSK_UNITS, "kiosk-hall.service")
# Where the package installs what the units name (packaging/debian/shanghai-kiosk).
INSTALLED_SESSION_SCRIPT = "/usr/lib/shanghai-kiosk/kiosk-session"
INSTALLED_DISPLAY_CONF = "/etc/kiosk/display.conf"
INSTALLED_USBLP_CONF = "/lib/modprobe.d/kiosk-usblp.conf"
DATA_DIR = "/var/lib/kiosk"

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (Debian package systemd; "
           "bash packaging/setup.sh test installs it)")


# --------------------------------------------------------------------------- reading files

Unit = dict[str, dict[str, list[str]]]


def read_unit(path: Path) -> Unit:
    """Sections → keys → values in order. Written by hand because configparser cannot read
    systemd's syntax: a key may repeat (After= twice) and an empty value resets a list."""
    unit: Unit = {}
    section: dict[str, list[str]] | None = None
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], {})
            continue
        assert section is not None, f"{path}: {line!r} before any [section]"
        key, sep, value = line.partition("=")
        assert sep, f"{path}: {line!r} is not KEY=value"
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


def unit(name: str) -> Unit:
    return read_unit(SYSTEMD / name)


def words(values: list[str]) -> list[str]:
    """A list setting's words, as systemd reads them: an empty assignment empties the list."""
    out: list[str] = []
    for value in values:
        out = [] if not value else [*out, *value.split()]
    return out


def setting(u: Unit, section: str, key: str) -> list[str]:
    return words(u.get(section, {}).get(key, []))


def single(u: Unit, section: str, key: str) -> str:
    """A single-valued setting: the last assignment wins."""
    values = u.get(section, {}).get(key, [])
    assert values, f"{key}= is not set in [{section}]"
    return values[-1]


def exec_command(u: Unit, key: str = "ExecStart") -> list[str]:
    values = [v for v in u["Service"].get(key, []) if v]
    assert len(values) == 1, f"expected one {key}=, found {values}"
    return shlex.split(values[0])


def kiosk_groups(u: Unit) -> set[str]:
    return {single(u, "Service", "Group"), *setting(u, "Service", "SupplementaryGroups")}


def sysusers_lines() -> list[list[str]]:
    lines = []
    for raw in SYSUSERS.read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.lstrip().startswith("#"):
            lines.append(shlex.split(raw))
    return lines


def sysusers_groups(user: str) -> set[str]:
    """The groups packaging/sysusers gives `user`: its own (a `u` line makes a group of the
    same name) and every `m user group` line."""
    groups = set()
    for fields in sysusers_lines():
        if fields[0] == "u" and fields[1] == user:
            groups.add(user)
        elif fields[0] == "m" and fields[1] == user:
            groups.add(fields[2])
    return groups


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


# --------------------------------------------------------------------------- udev rules

UDEV_KEYS = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "NAME", "SYMLINK", "SUBSYSTEM",
             "SUBSYSTEMS", "DRIVER", "DRIVERS", "ATTR", "ATTRS", "SYSCTL", "ENV", "CONST",
             "TAG", "TAGS", "TEST", "PROGRAM", "RESULT", "OWNER", "GROUP", "MODE",
             "SECLABEL", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS"}
UDEV_TOKEN = re.compile(r'\s*(?P<key>[A-Z_]+)(?:\{(?P<attr>[^}]*)\})?\s*'
                        r'(?P<op>==|!=|\+=|-=|:=|=)\s*"(?P<value>(?:[^"\\]|\\.)*)"\s*(?:,|$)')

Rule = list[tuple[str, str | None, str, str]]


def udev_rules(path: Path) -> list[Rule]:
    """Each rule as (key, attribute, operator, value) tokens; a malformed line fails."""
    rules = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        tokens: Rule = []
        position = 0
        while position < len(line):
            match = UDEV_TOKEN.match(line, position)
            assert match, f"{path.name}:{number}: cannot read {line[position:]!r}"
            key = match["key"]
            assert key in UDEV_KEYS, f"{path.name}:{number}: unknown key {key}"
            tokens.append((key, match["attr"], match["op"], match["value"]))
            position = match.end()
        rules.append(tokens)
    return rules


def rule_files() -> list[Path]:
    return sorted(UDEV.glob("*.rules"))


def test_the_udev_rules_parse_and_every_goto_has_its_label() -> None:
    assert rule_files()
    for path in rule_files():
        rules = udev_rules(path)
        labels = {v for rule in rules for k, _, _, v in rule if k == "LABEL"}
        gotos = {v for rule in rules for k, _, _, v in rule if k == "GOTO"}
        assert gotos <= labels, f"{path.name}: GOTO without LABEL: {gotos - labels}"


def udev_groups() -> set[tuple[str, str]]:
    """(rule file, group) for every GROUP= assignment in packaging/udev."""
    return {(path.name, value) for path in rule_files() for rule in udev_rules(path)
            for key, _, op, value in rule if key == "GROUP" and op in ("=", ":=")}


@pytest.mark.parametrize("name", KIOSK_UNITS)
def test_udev_gives_devices_only_to_groups_the_kiosk_runs_with(name: str) -> None:
    # The fault of issue 15: the printer's rule said GROUP="plugdev", the unit ran with
    # video, dialout and lp, so libusb was refused the printer ("Access denied").
    runs_with = kiosk_groups(unit(name))
    assert udev_groups()
    for path, group in sorted(udev_groups()):
        assert group in runs_with, (
            f"{path} gives devices to {group}, but {name} runs with {sorted(runs_with)}")


def test_udev_gives_devices_only_to_groups_the_kiosk_user_is_in() -> None:
    # The same for `runuser -u kiosk -- kiosk check-config --devices`, which gets the
    # groups /etc/group gives the user, not the unit's.
    user_has = sysusers_groups("kiosk")
    for path, group in sorted(udev_groups()):
        assert group in user_has, (
            f"{path} gives devices to {group}, but {SYSUSERS.name} makes the kiosk user a "
            f"member of {sorted(user_has)}")


# wlroots' apply_output_transform() (types/wlr_cursor.c, 0.15), which maps a touch on an
# output turned by cage's -r (WL_OUTPUT_TRANSFORM_90 once per -r) from the panel's
# coordinates (0..1) to the picture's: what libinput's matrix has to do in its place.
def wlroots_transform(quarter_turns: int, x: float, y: float) -> tuple[float, float]:
    if quarter_turns == 1:
        return 1 - y, x
    if quarter_turns == 2:
        return 1 - x, 1 - y
    if quarter_turns == 3:
        return y, 1 - x
    return x, y


def rotation_matrices() -> dict[str, list[float]]:
    found = {}
    for rule in udev_rules(UDEV / "99-kiosk-touch-rotation.rules"):
        condition = [v for k, a, op, v in rule if (k, a, op) == ("ENV", "KIOSK_ROTATION", "==")]
        matrix = [v for k, a, op, v in rule
                  if (k, a, op) == ("ENV", "LIBINPUT_CALIBRATION_MATRIX", "=")]
        if condition and matrix:
            found[condition[0]] = [float(n) for n in matrix[0].split()]
    return found


def test_the_touch_panel_is_turned_as_cage_turns_the_picture() -> None:
    matrices = rotation_matrices()
    assert set(matrices) == {"90", "180", "270"}  # 0: no matrix, libinput's identity
    for rotation, (a, b, c, d, e, f) in matrices.items():
        for x, y in ((0, 0), (1, 0), (0, 1), (1, 1), (0.25, 0.75)):
            expected = wlroots_transform(int(rotation) // 90, x, y)
            assert (a * x + b * y + c, d * x + e * y + f) == pytest.approx(expected), rotation


def test_the_touch_rule_and_the_session_read_the_same_rotation() -> None:
    imports = [v for rule in udev_rules(UDEV / "99-kiosk-touch-rotation.rules")
               for k, a, op, v in rule if (k, a) == ("IMPORT", "file")]
    assert imports == [INSTALLED_DISPLAY_CONF]
    environment_files = [f.lstrip("-") for f in
                         setting(unit("kiosk-session.service"), "Service", "EnvironmentFile")]
    assert environment_files == [INSTALLED_DISPLAY_CONF]
    # Plain KEY=value with a valid default: read alike by systemd and by udev's IMPORT{file}.
    settings = env_file(DISPLAY_CONF)
    assert settings == {"KIOSK_ROTATION": "0"}
    for key, value in settings.items():
        assert re.fullmatch(r"[A-Z_]+", key) and re.fullmatch(r"[0-9]+", value)


# --------------------------------------------------------------------------- the units

@pytest.mark.parametrize("name", KIOSK_UNITS)
def test_the_kiosk_starts_after_the_clock_is_synchronised(name: str) -> None:
    # The other fault of issue 15: a kiosk started at boot on whatever the RTC said, and
    # refused residents' codes as expired or not yet valid.
    u = unit(name)
    assert "time-sync.target" in setting(u, "Unit", "After")
    # time-sync.target alone is reached at once; the wait service makes it mean "synced".
    assert {"time-sync.target", "systemd-time-wait-sync.service"} <= set(
        setting(u, "Unit", "Wants"))
    # Wanted, not required: a wait that times out must not keep the kiosk from starting.
    for key in ("Requires", "BindsTo", "Requisite"):
        assert not {"time-sync.target", "systemd-time-wait-sync.service"} & set(
            setting(u, "Unit", key))


@needs_systemd_analyze
def test_the_wait_for_the_clock_is_bounded() -> None:
    # Upstream waits for ever: a terminal cut off from its time servers would never start.
    value = single(read_unit(TIME_WAIT_DROPIN), "Service", "TimeoutStartSec")
    assert 0 < timespan_seconds(value) <= 300


def test_the_district_time_servers_are_set() -> None:
    assert TIMESYNCD.is_file(), f"{TIMESYNCD.relative_to(REPO_ROOT)} is missing"
    servers = setting(read_unit(TIMESYNCD), "Time", "NTP")
    assert servers, "NTP= lists no server"
    for server in servers:
        assert re.fullmatch(r"[A-Za-z0-9.:-]+", server), server


def test_the_kiosk_units_share_their_settings() -> None:
    """kiosk.service (X) and kiosk-session.service (cage) run the same kiosk: a setting
    changed in one and not the other would make the two kinds of terminal differ."""
    x11, cage = unit("kiosk.service"), unit("kiosk-session.service")
    for key in ("User", "Group", "SupplementaryGroups", "StateDirectory", "StateDirectoryMode",
                "WorkingDirectory", "CacheDirectory", "CacheDirectoryMode", "Type",
                "WatchdogSec", "Restart", "RestartSec", "RestartPreventExitStatus",
                "TimeoutStartSec", "TimeoutStopSec", "LimitCORE", "UMask", "NoNewPrivileges",
                "ProtectSystem", "ProtectKernelTunables", "ProtectKernelModules",
                "ProtectControlGroups", "RestrictSUIDSGID", "LockPersonality",
                "StandardOutput", "StandardError", "SyslogIdentifier"):
        assert setting(x11, "Service", key) == setting(cage, "Service", key), key
    for key in ("StartLimitIntervalSec", "StartLimitBurst"):
        assert setting(x11, "Unit", key) == setting(cage, "Unit", key), key
    # The session wants more (logind, D-Bus), never less.
    assert set(setting(x11, "Unit", "Wants")) <= set(setting(cage, "Unit", "Wants"))
    env_x11, env_cage = (set(setting(u, "Service", "Environment")) for u in (x11, cage))
    for variable in ("XDG_CACHE_HOME", "PYTHONUNBUFFERED", "PYTHONFAULTHANDLER"):
        assert {e for e in env_x11 if e.startswith(variable + "=")} == {
            e for e in env_cage if e.startswith(variable + "=")}, variable
    # The same kiosk command: the session runs it through its script, inside cage.
    [script, *session_command] = exec_command(cage)
    assert script == INSTALLED_SESSION_SCRIPT
    assert session_command == exec_command(x11)
    assert session_command[:2] == ["/opt/venvs/shanghai-kiosk/bin/kiosk", "run"]
    assert session_command[2:] == ["--config", "/etc/kiosk/kiosk.toml"]


@pytest.mark.parametrize("name", KIOSK_UNITS)
def test_the_kiosk_keeps_its_data_in_var_lib_and_logs_only_to_the_journal(name: str) -> None:
    u = unit(name)
    assert single(u, "Service", "StateDirectory") == Path(DATA_DIR).name
    assert single(u, "Service", "StateDirectoryMode") == "0700"
    assert single(u, "Service", "StandardOutput") == "journal"
    assert single(u, "Service", "StandardError") == "journal"
    assert single(u, "Service", "SyslogIdentifier") == "kiosk"
    assert single(u, "Service", "ProtectSystem") == "strict"
    # Writable: the data, cache and runtime dirs (StateDirectory= and its kin), nothing by
    # name: no log folder anywhere.
    assert setting(u, "Service", "ReadWritePaths") == []
    # Homes read-only: by ProtectHome=, or under cage by name, because ProtectHome= would make
    # /run/user (cage's Wayland socket) read-only as well, and ReadWritePaths= could not undo
    # it: for one path systemd lets the read-only setting win.
    if name == "kiosk-session.service":
        assert "ProtectHome" not in u["Service"]
        read_only = {path.lstrip("-") for path in setting(u, "Service", "ReadOnlyPaths")}
        assert {"/home", "/root"} <= read_only
    else:
        assert single(u, "Service", "ProtectHome") in ("read-only", "yes", "tmpfs")
    assert single(u, "Service", "RestartPreventExitStatus") == str(EXIT_LEFT_KIOSK_MODE)


def test_the_session_is_cage_on_tty1_in_a_logind_session() -> None:
    u = unit("kiosk-session.service")
    assert single(u, "Service", "PAMName") == PAM.name
    assert single(u, "Service", "TTYPath") == "/dev/tty1"
    assert single(u, "Service", "StandardInput") == "tty-fail"
    assert single(u, "Service", "NotifyAccess") == "all"  # the kiosk is not the main process
    assert single(u, "Service", "User") == "kiosk"
    conflicts = set(setting(u, "Unit", "Conflicts"))
    assert {"getty@tty1.service", "kiosk.service"} <= conflicts
    assert "QT_QPA_PLATFORM=wayland" in setting(u, "Service", "Environment")
    assert single(u, "Install", "WantedBy") == "graphical.target"


# --------------------------------------------------------------------------- systemd verifies

def host_unit_dir() -> Path:
    for candidate in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")):
        if (candidate / "sysinit.target").exists():
            return candidate
    pytest.skip("systemd's own units are not installed (Debian package systemd; "
                "bash packaging/setup.sh test installs it)")


EXEC_KEYS = ("ExecStart", "ExecStartPre", "ExecStartPost", "ExecReload", "ExecStop",
             "ExecStopPost", "ExecCondition")


def programs(u: Unit) -> set[str]:
    found = set()
    for key in EXEC_KEYS:
        for value in u.get("Service", {}).get(key, []):
            if value:
                program = shlex.split(value)[0].lstrip("@-:+!")
                if program.startswith("/"):
                    found.add(program)
    return found


def make_root(root: Path, dropins: list[Path]) -> None:
    """A root for `systemd-analyze verify --root`: systemd's stock units, ours in
    /etc/systemd/system with the drop-in folders given, and at every program path a unit
    names a stand-in (verify refuses a missing one), except the session script: itself."""
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree(host_unit_dir(), root / "usr/lib/systemd/system", symlinks=True)
    etc = root / "etc/systemd/system"
    etc.mkdir(parents=True)
    for name in UNITS:
        shutil.copy(SYSTEMD / name, etc / name)
    for folder in dropins:
        shutil.copytree(folder, etc / folder.name)
    files = set(etc.glob("*.service"))
    for folder in etc.glob("*.d"):
        stock = root / "usr/lib/systemd/system" / folder.name.removesuffix(".d")
        files.update([*folder.glob("*.conf"), *([stock] if stock.exists() else [])])
    for path in files:
        for program in programs(read_unit(path)):
            target = root / program.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if Path(program).name == SESSION_SCRIPT.name:
                shutil.copy(SESSION_SCRIPT, target)
            else:
                target.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
            target.chmod(0o755)


ROOTS = {
    # What the package installs.
    "package": [SYSTEMD / "systemd-time-wait-sync.service.d"],
    # A checkout at /opt/kiosk with the drop-ins of packaging/systemd/checkout besides.
    "checkout": [SYSTEMD / "systemd-time-wait-sync.service.d",
                 *sorted((SYSTEMD / "checkout").glob("*.d"))],
}


@pytest.fixture(scope="module", params=sorted(ROOTS))
def verify_root(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp(f"verify-{request.param}")
    make_root(root, ROOTS[request.param])
    yield root


@needs_systemd_analyze
@pytest.mark.parametrize("name", [*UNITS, "systemd-time-wait-sync.service"])
def test_systemd_verifies_the_unit(verify_root: Path, name: str) -> None:
    # Unknown keys and bad values are only warnings (status 0): any line about our files
    # fails the test too.
    run = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={verify_root}",
                          name], capture_output=True, text=True, timeout=120)
    output = run.stdout + run.stderr
    ours = (str(verify_root / "etc"), *UNITS, "kiosk.conf", "checkout.conf")
    complaints = [line for line in output.splitlines() if any(o in line for o in ours)]
    assert run.returncode == 0, output
    assert complaints == [], output


@needs_systemd_analyze
def test_ctrl_alt_del_is_masked_and_the_session_can_be_enabled(tmp_path: Path) -> None:
    # The package installs the link as /etc/systemd/system/ctrl-alt-del.target.
    assert (SYSTEMD / "ctrl-alt-del.target").is_symlink()
    assert os.readlink(SYSTEMD / "ctrl-alt-del.target") == "/dev/null"
    make_root(tmp_path, [])
    shutil.copy(SYSTEMD / "ctrl-alt-del.target", tmp_path / "etc/systemd/system",
                follow_symlinks=False)

    def systemctl(*args: str) -> str:
        run = subprocess.run(["systemctl", f"--root={tmp_path}", *args],
                             capture_output=True, text=True, timeout=60)
        return run.stdout.strip() or run.stderr.strip()

    assert systemctl("is-enabled", "ctrl-alt-del.target") == "masked"
    systemctl("enable", "kiosk-session.service")
    assert systemctl("is-enabled", "kiosk-session.service") == "enabled"
    assert (tmp_path / "etc/systemd/system/graphical.target.wants/kiosk-session.service"
            ).is_symlink()
    # Ctrl+Alt+Del pressed 7 times in 2 s reboots even with the target masked, unless:
    assert single(read_unit(CTRL_ALT_DEL), "Manager", "CtrlAltDelBurstAction") == "none"


def timespan_seconds(value: str) -> float:
    run = subprocess.run(["systemd-analyze", "timespan", value],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    match = re.search(r"μs:\s*(\d+)", run.stdout)
    assert match, run.stdout
    return int(match[1]) / 1e6


@needs_systemd_analyze
def test_the_hardware_watchdog_is_on() -> None:
    manager = read_unit(WATCHDOG)["Manager"]
    assert set(manager) <= {"RuntimeWatchdogSec", "RebootWatchdogSec", "WatchdogDevice"}
    runtime = timespan_seconds(single(read_unit(WATCHDOG), "Manager", "RuntimeWatchdogSec"))
    # Long enough that a busy machine pets it in time (every half), short enough to matter.
    assert 10 <= runtime <= 120
    assert timespan_seconds(single(read_unit(WATCHDOG), "Manager", "RebootWatchdogSec")) > 0


# --------------------------------------------------------------------------- user, data dir

@pytest.fixture
def users_root(tmp_path: Path) -> Path:
    """A root with this machine's users and groups (video, dialout, ... exist on Debian), to
    which systemd-sysusers adds the kiosk's. No shadow file is copied."""
    if shutil.which("systemd-sysusers") is None:
        pytest.skip("systemd-sysusers is not installed (Debian package systemd; "
                    "bash packaging/setup.sh test installs it)")
    (tmp_path / "etc").mkdir()
    for name in ("passwd", "group"):
        shutil.copy(Path("/etc") / name, tmp_path / "etc" / name)
    run = subprocess.run(["systemd-sysusers", f"--root={tmp_path}", str(SYSUSERS)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return tmp_path


def passwd_entry(root: Path, user: str) -> list[str]:
    for line in (root / "etc/passwd").read_text(encoding="utf-8").splitlines():
        if line.startswith(user + ":"):
            return line.split(":")
    raise AssertionError(f"no user {user} in {root}/etc/passwd")


def group_members(root: Path) -> dict[str, set[str]]:
    members = {}
    for line in (root / "etc/group").read_text(encoding="utf-8").splitlines():
        name, _, _, users = line.split(":")
        members[name] = set(filter(None, users.split(",")))
    return members


def test_sysusers_makes_the_kiosk_user_with_the_units_groups(users_root: Path) -> None:
    _, _, uid, gid, _, home, shell = passwd_entry(users_root, "kiosk")
    assert int(uid) < 1000 and home == DATA_DIR and shell.endswith("nologin")
    members = group_members(users_root)
    made = {name for name, users in members.items() if "kiosk" in users}
    for name in KIOSK_UNITS:
        supplementary = set(setting(unit(name), "Service", "SupplementaryGroups"))
        assert made == supplementary, name
    own = [line for line in (users_root / "etc/group").read_text(encoding="utf-8").splitlines()
           if line.startswith("kiosk:")]
    assert [line.split(":")[2] for line in own] == [gid]  # its own group, its primary one


def test_tmpfiles_makes_the_data_dir_for_the_kiosk_alone(users_root: Path) -> None:
    if shutil.which("systemd-tmpfiles") is None:
        pytest.skip("systemd-tmpfiles is not installed (Debian package systemd; "
                    "bash packaging/setup.sh test installs it)")
    run = subprocess.run(["systemd-tmpfiles", f"--root={users_root}", "--create",
                          str(TMPFILES)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    data = users_root / DATA_DIR.lstrip("/")
    _, _, uid, gid, *_ = passwd_entry(users_root, "kiosk")
    info = data.stat()
    assert (info.st_uid, info.st_gid) == (int(uid), int(gid))
    assert info.st_mode & 0o777 == 0o700


# --------------------------------------------------------------------------- the session script

@pytest.fixture
def fake_cage(tmp_path: Path) -> Path:
    """A `cage` that records its options and runs its application, as cage does, then ends
    with status 0 whatever the application's, as cage 0.1.4 does."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cage = bin_dir / "cage"
    cage.write_text(
        "#!/bin/sh\n"
        'log="$(dirname "$0")/cage-options"\n'
        ': >"$log"\n'
        'while [ "$1" != "--" ]; do echo "$1" >>"$log"; shift; done\n'
        'shift\n'
        '"$@"\n'
        "exit 0\n", encoding="utf-8")
    cage.chmod(0o755)
    return bin_dir


def run_session(bin_dir: Path, kiosk: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": f"{bin_dir}:{os.environ['PATH']}", **env}
    return subprocess.run([str(SESSION_SCRIPT), "/bin/sh", "-c", kiosk],
                          capture_output=True, text=True, timeout=60, env=environment)


@pytest.mark.parametrize("status", [0, 1, EXIT_BAD_INPUT, EXIT_LEFT_KIOSK_MODE, EXIT_RESTART])
def test_the_session_ends_with_the_kiosks_status(fake_cage: Path, tmp_path: Path,
                                                 status: int) -> None:
    # 10 must reach systemd (RestartPreventExitStatus=10), though cage 0.1.4 returns 0.
    runtime = tmp_path / "run"
    runtime.mkdir()
    run = run_session(fake_cage, f"exit {status}", RUNTIME_DIRECTORY=str(runtime))
    assert run.returncode == status, run.stderr


def test_the_kiosk_in_the_session_may_ping_the_watchdog(fake_cage: Path) -> None:
    run = run_session(fake_cage, 'echo "${WATCHDOG_PID-unset} $WATCHDOG_USEC"',
                      WATCHDOG_PID="1", WATCHDOG_USEC="30000000")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["unset", "30000000"]


@pytest.mark.parametrize(("rotation", "flags"), [
    ("0", []), ("90", ["-r"]), ("180", ["-r", "-r"]), ("270", ["-r", "-r", "-r"])])
def test_the_session_turns_the_picture_as_display_conf_says(
        fake_cage: Path, rotation: str, flags: list[str]) -> None:
    run = run_session(fake_cage, "exit 0", KIOSK_ROTATION=rotation)
    assert run.returncode == 0, run.stderr
    options = (fake_cage / "cage-options").read_text(encoding="utf-8").split()
    assert [o for o in options if o == "-r"] == flags
    # The touch rule turns the panel by the same quarter turns (one per -r).
    if flags:
        assert rotation in rotation_matrices()


def test_a_wrong_rotation_names_the_file_the_key_and_what_was_expected(
        fake_cage: Path) -> None:
    run = run_session(fake_cage, "exit 0", KIOSK_ROTATION="45")
    assert run.returncode == EXIT_BAD_INPUT
    assert INSTALLED_DISPLAY_CONF in run.stderr and "KIOSK_ROTATION" in run.stderr
    assert "0, 90, 180 or 270" in run.stderr
    assert not (fake_cage / "cage-options").exists()  # cage never started


def test_a_cage_that_fails_before_the_kiosk_is_a_failure(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "cage").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    (bin_dir / "cage").chmod(0o755)
    run = run_session(bin_dir, "exit 0")
    assert run.returncode != 0


def real_cage_or_skip() -> tuple[int, int]:
    """nobody's uid and gid, to run the real cage as (it refuses to run as root)."""
    if shutil.which("cage") is None:
        pytest.skip("cage is not installed (Debian package cage; "
                    "bash packaging/setup.sh test installs it)")
    if shutil.which("Xwayland") is None:
        pytest.skip("Xwayland is not installed (Debian package xwayland): cage 0.1.4 does not "
                    "start without it")
    if os.geteuid() != 0:
        pytest.skip("cage refuses to run as root, and only root can run it as nobody here")
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


@pytest.fixture
def nobodys_folder() -> Iterator[Path]:
    """A folder nobody owns (pytest's tmp_path is root's alone): cage's XDG_RUNTIME_DIR and
    the session's runtime dir."""
    folder = Path(tempfile.mkdtemp(prefix="kiosk-cage-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def test_with_the_real_cage_the_session_ends_with_the_kiosks_status(
        nobodys_folder: Path) -> None:
    uid, gid = real_cage_or_skip()
    runtime, state = nobodys_folder / "xdg", nobodys_folder / "run"
    script = nobodys_folder / SESSION_SCRIPT.name
    shutil.copy(SESSION_SCRIPT, script)
    for folder in (runtime, state):
        folder.mkdir(mode=0o700)
    for path in (nobodys_folder, runtime, state, script):
        os.chown(path, uid, gid)
    # cage without a screen: wlroots' headless backend and software rendering.
    env = {"PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": str(runtime),
           "WLR_BACKENDS": "headless", "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1",
           "RUNTIME_DIRECTORY": str(state), "KIOSK_ROTATION": "270"}
    as_nobody = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    kiosk = ["/bin/sh", "-c", f'test -n "$WAYLAND_DISPLAY" && exit {EXIT_LEFT_KIOSK_MODE}']

    def run(command: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*as_nobody, *command], env=env, cwd=nobodys_folder,
                              capture_output=True, text=True, timeout=60)

    # The fault the script is for: cage 0.1.4 itself ends with 0 whatever its application did.
    alone = run(["cage", "--", *kiosk])
    assert alone.returncode == 0, alone.stderr
    session = run([str(script), *kiosk])
    assert session.returncode == EXIT_LEFT_KIOSK_MODE, session.stderr


# --------------------------------------------------------------------------- PAM

PAM_MODULE_DIRS = sorted({*Path("/lib").glob("*/security"), *Path("/usr/lib").glob("*/security"),
                          Path("/lib/security"), Path("/usr/lib/security")})

# The stacks systemd runs for PAMName= (account, setcred, nothing else), run by libpam on
# the file as it is, for this machine's current user, in a child process (PAM modules change
# the process they run in). pam_start_confdir reads the service from the folder given.
PAM_PROBE = r"""
import ctypes, ctypes.util, json, sys
pam = ctypes.CDLL(ctypes.util.find_library("pam"))
CONV = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                        ctypes.c_void_p)
class Conv(ctypes.Structure):
    _fields_ = [("conv", CONV), ("appdata_ptr", ctypes.c_void_p)]
no_questions = CONV(lambda *args: 19)  # PAM_CONV_ERR: nothing may ask for a password
conv = Conv(no_questions, None)
handle = ctypes.c_void_p()
service, user, folder = sys.argv[1:4]
started = pam.pam_start_confdir(service.encode(), user.encode(), ctypes.byref(conv),
                                folder.encode(), ctypes.byref(handle))
pam.pam_set_item(handle, 3, b"tty1")  # PAM_TTY, as TTYPath= sets it
result = {"start": started, "account": pam.pam_acct_mgmt(handle, 0),
          "setcred": pam.pam_setcred(handle, 2),  # PAM_ESTABLISH_CRED
          "authenticate": pam.pam_authenticate(handle, 0)}
pam.pam_end(handle, 0)
print(json.dumps(result))
"""


def pam_lines() -> list[list[str]]:
    return [line.split() for line in PAM.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_pam_file_names_modules_that_exist() -> None:
    kinds = set()
    for kind, control, module, *_ in pam_lines():
        kinds.add(kind.lstrip("-"))
        assert kind.lstrip("-") in ("auth", "account", "session", "password"), kind
        assert control in ("required", "requisite", "sufficient", "optional") or (
            control.startswith("[") and control.endswith("]")), control
        if PAM_MODULE_DIRS:
            assert any((d / module).exists() for d in PAM_MODULE_DIRS), (
                f"{module} is not installed in {PAM_MODULE_DIRS}")
    # systemd runs account and session, and setcred through auth.
    assert {"auth", "account", "session"} <= kinds
    assert ["session", "required", "pam_systemd.so", "class=user", "type=wayland"] in pam_lines()
    # Nothing lets a caller of this service in without a password.
    assert not any(module in ("pam_permit.so", "pam_rootok.so")
                   for _, _, module, *_ in pam_lines())


def test_libpam_runs_the_stacks_systemd_uses(tmp_path: Path) -> None:
    if ctypes.util.find_library("pam") is None:
        pytest.skip("libpam is not installed (Debian package libpam0g)")
    shutil.copy(PAM, tmp_path / PAM.name)
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout
    run = subprocess.run([sys.executable, "-c", PAM_PROBE, PAM.name, user.strip(),
                          str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert (result["start"], result["account"], result["setcred"]) == (0, 0, 0), result
    assert result["authenticate"] != 0, result  # no password, no conversation: refused


# --------------------------------------------------------------------------- usblp

def test_usblp_is_blacklisted_and_the_printer_hint_says_where() -> None:
    commands = [line.split() for line in MODPROBE.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert ["blacklist", "usblp"] in commands
    for command in commands:
        assert command[0] in ("blacklist", "install", "options", "alias", "softdep",
                              "remove"), command
    assert INSTALLED_USBLP_CONF in transports._USB_BUSY_HINT
    assert Path(INSTALLED_USBLP_CONF).name == MODPROBE.name
