"""The resident ID card reader (二代证阅读器): the host protocol (protocol.py, pure), the
driver over any byte link (reader.py), the serial port (serial_link.py) and an emulated
reader that answers the same frames (emulated.py).

Importing this package imports no serial library; serial_link.py does when a port opens.
"""
