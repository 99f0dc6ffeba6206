"""Test-wide settings: Qt runs offscreen, set here so no test depends on the caller's shell."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_ACCESSIBILITY", "0")
