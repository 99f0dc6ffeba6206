"""Scanning QR codes: the GUI process's side of the camera worker.

`protocol.py` is what the GUI and the camera worker say to each other over shared memory
and a pipe; `pipeline.py` the frame → decode → de-duplicate steps (also run inside the
worker); `supervisor.py` starts, watches and restarts the worker process; `scanner.py` runs
the same pipeline in-process (tests, benchmarks); `lazy.py` starts the real one after Home
is on screen. The worker's own entry point is kiosk.workers.scan_worker.
"""
