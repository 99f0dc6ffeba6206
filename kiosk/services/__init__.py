"""Qt services in the GUI process: printing, the camera scanner (`scanning/`), delivery to
the backend, background task queues, the GUI-thread watchdog, memory upkeep and the client
of the voice worker. They talk to the UI by signals and do their blocking work on threads
or in worker processes.

May import kiosk.common, domain, config, hardware, backend and delivery, and QtCore/QtGui;
never QtWidgets or kiosk.ui.
"""
