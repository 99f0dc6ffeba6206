"""hardware/printer package: ESC/POS encoding, printer connections and the printer facade.

Importing this package does not import python-escpos (it calls `logging.basicConfig()` on
import); the transports import it when they are created.
"""

from kiosk.hardware.printer.emulated import EmulatedPrinter
from kiosk.hardware.printer.errors import (
    CoverOpen,
    PaperOut,
    PrinterError,
    PrinterFault,
    PrinterOffline,
    PrinterState,
    PrinterStatus,
    PrinterUnavailable,
)
from kiosk.hardware.printer.escpos_layout import PrinterProfile
from kiosk.hardware.printer.escpos_writer import encode_document
from kiosk.hardware.printer.printer import Printer, PrintReport, build_test_page
from kiosk.hardware.printer.transports import PrinterTransport, make_transport

__all__ = [
    "CoverOpen",
    "EmulatedPrinter",
    "PaperOut",
    "PrintReport",
    "Printer",
    "PrinterError",
    "PrinterFault",
    "PrinterOffline",
    "PrinterProfile",
    "PrinterState",
    "PrinterStatus",
    "PrinterTransport",
    "PrinterUnavailable",
    "build_test_page",
    "encode_document",
    "make_transport",
]
