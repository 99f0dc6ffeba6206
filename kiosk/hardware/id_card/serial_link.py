"""A reader on a serial or USB-serial port (pyserial), as the driver's byte link."""

from __future__ import annotations

from kiosk.hardware.id_card.reader import ByteLink, IdCardReader

# Short reads: the driver assembles frames itself and keeps its own deadline per command.
READ_SLICE_S = 0.05
WRITE_TIMEOUT_S = 1.0


def open_serial(port: str, baudrate: int) -> ByteLink:
    import serial  # imported with the reader, not with the kiosk: most terminals have none

    # serial_for_url: a device path, or a pyserial URL (rfc2217://host:port for a reader
    # behind a serial server, loop:// in tests).
    link: ByteLink = serial.serial_for_url(
        port, baudrate=baudrate, bytesize=serial.EIGHTBITS, parity=serial.PARITY_NONE,
        stopbits=serial.STOPBITS_ONE, timeout=READ_SLICE_S, write_timeout=WRITE_TIMEOUT_S)
    return link


def serial_reader(port: str, baudrate: int) -> IdCardReader:
    return IdCardReader(lambda: open_serial(port, baudrate), f"serial {port} {baudrate} baud")
