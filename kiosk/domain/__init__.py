"""The domain: the rules of the 一网通办 services in pure Python.

Queue and priority rules, 一件事 bundles and the wizard's state machine, signed QR payloads,
the ticket and receipt models, ID numbers, masking, the maintenance PIN. No Qt, no hardware,
no config (a rule takes its settings as arguments), so each rule is tested on its own.
May import kiosk.common only.
"""
