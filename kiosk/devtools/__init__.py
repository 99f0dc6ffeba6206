"""Developer and diagnostic tools: the scripted demo, the session simulator, the QR scan
benchmark, the personal-code maker, and the ESC/POS parser and renderer (bytes back to text
and to a picture of the paper).

Reached only through `kiosk demo`, `simulate`, `scan-bench`, `make-bench`, `make-code` and
`receipt-render` (kiosk.cli imports it lazily). Production code never imports it
(tests/architecture/test_layers.py). May import any other part of kiosk except kiosk.cli.
"""
