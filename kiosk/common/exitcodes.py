"""Every exit status a kiosk process or command ends with, each named once.

Two readers depend on these numbers: systemd (packaging/systemd/kiosk.service restarts the
kiosk on every exit except those in RestartPreventExitStatus) and the technician or their
script, who reads the status of `kiosk check-config`, `kiosk backend advance` and the like.
A value therefore keeps its meaning across commands: 2 always means "what you gave is wrong,
the message on stderr says what", whether it was a config file, a bundle file or an argument
(argparse itself exits 2 for a bad command line, so the value was taken already).

Imports nothing from kiosk: every part may import it.
"""

from __future__ import annotations

from typing import Final

EXIT_OK: Final = 0
"""Done. systemd restarts `kiosk run` even then: a kiosk that quits by itself must return."""

EXIT_FAILED: Final = 1
"""The command was right but could not be carried out (the database is unusable, the port is
taken, a file cannot be written, the PIN was refused or the prompt cancelled, a device or the
backend did not answer `check-config --devices`); stderr says why. For the technician:
retrying after fixing the machine may work."""

EXIT_BAD_INPUT: Final = 2
"""What was given is wrong: a broken config file (`kiosk run`, `check-config`), broken bundle
files (`check-bundles`, `check-config`), an unknown status or category, bad dates, a missing
input file or database. Every problem is on stderr, by file and key. `kiosk run` with a broken
config ends with it within a second; the unit's StartLimitBurst then stops restarting it."""

EXIT_NO_DISPLAY: Final = 3
"""`kiosk run` found no display (DISPLAY, WAYLAND_DISPLAY and QT_QPA_PLATFORM unset); the
message points the technician to `kiosk demo`."""

EXIT_LEFT_KIOSK_MODE: Final = 10
"""A technician chose 退出自助模式 on the maintenance screen. The unit's
RestartPreventExitStatus=10 keeps the kiosk closed until `systemctl start kiosk` or a reboot."""

EXIT_RESTART: Final = 75
"""The maintenance screen's restart (EX_TEMPFAIL): it must NOT be in RestartPreventExitStatus,
so systemd's Restart=always starts the kiosk again."""

EXIT_INTERRUPTED: Final = 130
"""Ctrl-C in a terminal (128 + SIGINT, what a shell reports for a process the signal ended)."""
