"""Reusable widgets, one per module: screens build from these and pass them no services.

`wrap_button` (WrapButton: a button whose text wraps to its width) and `action_button`,
`choice_pages` (choices paged in elder mode), `camera_view` (the preview with its guide
frame), `ticket_card`, `idle_overlay`, `keypad`, `qr` (a QR code drawn crisp, and the
session's cache of them), `text_wrap` (line breaking for Chinese and mixed text) and
`label` (the one way a screen makes a QLabel).

Modules here may import Qt, kiosk.common, kiosk.domain and each other; never a screen, a
controller, a service or hardware. This file imports nothing: import the module you need.
"""
