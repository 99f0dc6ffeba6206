"""Entry points of the kiosk's helper processes (each started by a service, never by hand):

- `scan_worker`: the camera worker (`python -m kiosk.workers.scan_worker`), which reads the
  camera and decodes QR codes so the GUI process never waits on either;
- `voice_worker`: the speech worker, which speaks 长辈模式 prompts through speech-dispatcher.

May import kiosk.common, domain, config, hardware and services (the pipelines they share
with the GUI side); never QtWidgets or kiosk.ui.
"""
