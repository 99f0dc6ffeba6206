"""Device drivers, real and emulated behind the same interfaces: the camera (frame sources
and QR decoding), the ESC/POS printer (encoding, transports, the emulated printer) and the
serial 2D scan engine.

Qt-free and blocking: only services call them, off the GUI thread. May import kiosk.common,
kiosk.domain and kiosk.config (device settings); never Qt, the backend or the UI.
"""
