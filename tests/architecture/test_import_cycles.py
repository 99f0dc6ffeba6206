"""No import cycles anywhere in kiosk/: each module can be read (and tested) after the ones
it imports, never in a circle. Lazy imports and TYPE_CHECKING imports count too."""

from __future__ import annotations

from tests.architecture.import_graph import cycles, graph


def test_the_graph_is_read():
    edges = graph()
    assert len(edges) > 80
    assert "kiosk.hardware.printer.escpos_layout" in edges["kiosk.hardware.printer.raster"]


def test_no_import_cycles():
    found = cycles()
    assert not found, "import cycles in kiosk/:\n" + "\n".join(
        " <-> ".join(component) for component in found
    )
