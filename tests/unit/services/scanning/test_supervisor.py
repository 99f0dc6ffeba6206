"""The camera proxy of the process-isolated scanner, without a process: the scene a new worker
starts from is the camera as it is now."""

from __future__ import annotations

import pytest

from kiosk.services.scanning.supervisor import CameraProxy


class _Scanner:
    """What CameraProxy needs of its ProcessScanner: commands recorded, none sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple, dict]] = []

    def _camera_command(self, proxy: CameraProxy, method: str, args: tuple,
                        kwargs: dict) -> None:
        proxy._record(method, args, kwargs)
        self.sent.append((method, args, kwargs))


def test_a_new_worker_starts_from_the_scene_as_it_is_now() -> None:
    scanner = _Scanner()
    camera = CameraProxy(scanner)  # type: ignore[arg-type]
    assert camera._scene() == ()
    camera.show_text("X", dark=True)
    camera.unplug()
    camera.freeze()
    camera.set_exposure(120.0)
    assert camera._scene() == (
        ("camera", "show_text", ("X",), {"dark": True}),
        ("camera", "unplug", (), {}),
        ("camera", "freeze", (), {}),
        ("camera", "set_exposure", (120.0,), {}),
    )
    camera.plug()
    camera.blank()
    camera.set_exposure(None)
    assert camera._scene() == (("camera", "blank", (), {}),
                               ("camera", "set_exposure", (None,), {}))
    camera.resume()
    camera.stop_frames()
    assert camera._scene() == (("camera", "stop_frames", (), {}),
                               ("camera", "set_exposure", (None,), {}))
    assert len(scanner.sent) == 9
    with pytest.raises(AttributeError):
        camera.no_such_control()  # type: ignore[attr-defined]
