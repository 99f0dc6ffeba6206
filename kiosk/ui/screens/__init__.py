"""Passive screens, one per step a resident (or the technician) sees. A screen lays out
widgets and emits what was tapped; controllers decide what happens next."""
