"""Device drivers, real and emulated behind the same interfaces: the camera (frame sources
and QR decoding), the ESC/POS printer (encoding, transports, the emulated printer), the
serial 2D scan engine and the resident ID card reader.

Qt-free and blocking: only services call them, off the GUI thread. May import kiosk.common,
kiosk.domain and kiosk.config (device settings); never Qt, the backend or the UI.
"""
