"""`kiosk receipt-render` cannot be turned against its machine: any stream renders within
2 s of CPU and 300 MB, or is refused with one clear message and exit status 2.

The streams run in a child process (render_probe.py) that measures its own CPU time and peak
resident memory, so neither the test run's memory nor a busy machine moves the figures: CPU
seconds, unlike wall-clock seconds, do not grow when other processes share the cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_OK
from tests.helpers.waits import HANG_GUARD_S
from tests.unit.devtools.conftest import PROBE, RenderProbe, probe_env

ESC, GS, FS, LF = b"\x1b", b"\x1d", b"\x1c", b"\n"
MAX_CPU_S = 2.0
MAX_MB = 300

# The two streams of issue 11: a 255x255-byte downloaded image printed 200 times at double
# size (3.3 GB), and 10 MB of line feeds (42 s).
IMAGE_PRINTED_200_TIMES = GS + b"*\xff\xff" + b"\xa5" * (255 * 255 * 8) + (GS + b"/\x03") * 200
TEN_MB_OF_LINE_FEEDS = LF * 10_000_000


def _gb(text: str) -> bytes:
    return text.encode("gb18030")


def _qr(data: bytes, size: int = 3) -> bytes:
    store = b"1P0" + data
    return (GS + b"(k\x03\x00" + b"1C" + bytes([size]) + GS + b"(k"
            + len(store).to_bytes(2, "little") + store + GS + b"(k\x03\x001Q0")


# Each makes one kind of work grow far past a receipt's: lines, characters, images, glyphs,
# QR codes, barcodes, commands.
HOSTILE = {
    "downloaded image printed 200 times": IMAGE_PRINTED_200_TIMES,
    "10 MB of line feeds": TEN_MB_OF_LINE_FEEDS,
    "ESC d 255, 300000 times": (ESC + b"d\xff") * 300_000,
    "16 MB of NUL": b"\x00" * 16_000_000,
    "4 MB of text without a line feed": b"A" * 4_000_000,
    "50000 column-image strips side by side": (ESC + b"*\x21\x02\x00" + b"\xff" * 6) * 50_000,
    "a 4 MB raster image at double size": GS + b"v0\x03\xd0\x07\x40\x1f" + b"\x55" * 4_000_000,
    "2000 different QR codes": b"".join(_qr(b"%05d" % i * 50) for i in range(2000)),
    "ten QR codes of 2500 bytes at 16 dots a module": b"".join(
        _qr((bytes(range(i, 256)) * 12)[:2500], 16) for i in range(10)),
    "3000 barcodes one dot high, with text above and below": GS + b"h\x01" + GS + b"H\x03"
    + b"".join(GS + b"kI\xca{B" + bytes([65 + i % 26]) * 200 for i in range(3000)),
    "60000 eight-times-size characters on one spot": GS + b"!\x77"
    + b"".join(ESC + b"$\x00\x00" + _gb(chr(0x4E00 + i % 20000)) for i in range(60_000)),
    "an unknown command 3 million times": (ESC + b"\x99") * 3_000_000,
    "200000 cuts": (ESC + b"i") * 200_000,
    "200000 one-column image strips, each on its line": (ESC + b"*\x21\x01\x00\xff\xff\xff"
                                                         + LF) * 200_000,
    "user-defined characters, 256 empty ones a command": (ESC + b"&\x03\x00\xff"
                                                          + b"\x00" * 256) * 60_000,
    "tab stops, 32 a command": (ESC + b"D" + bytes(range(1, 33)) + b"\x00") * 400_000,
    # Within the limits, the most costly drawings: a full paper of white-on-black underlined
    # text, and the most different large character shapes.
    "1200 lines of white-on-black underlined text": GS + b"B\x01" + ESC + b"-\x02"
    + (b"abcdefghij" * 4 + LF) * 1200,
    "1800 different eight-times-size characters on one spot": GS + b"!\x77" + b"".join(
        ESC + b"$\x00\x00" + _gb(chr(0x4E00 + i)) for i in range(1800)) + LF,
}


def _check(reply: dict[str, Any], what: str) -> None:
    assert reply["traceback"] == "", f"{what}: {reply['traceback']}"
    assert reply["code"] in (EXIT_OK, EXIT_BAD_INPUT), f"{what}: exit {reply['code']}"
    if reply["code"] == EXIT_BAD_INPUT:
        assert "refused" in reply["err"], f"{what}: refused without saying so: {reply['err']}"
    assert reply["cpu_s"] < MAX_CPU_S, f"{what}: {reply['cpu_s']:.2f} s of CPU"
    assert reply["peak_mb"] < MAX_MB, f"{what}: {reply['peak_mb']:.0f} MB"


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_stream_is_bounded(name: str, render_probe: RenderProbe) -> None:
    _check(render_probe.render(HOSTILE[name]), name)


@pytest.mark.parametrize("name", ["downloaded image printed 200 times", "10 MB of line feeds"])
def test_the_streams_of_issue_11_are_refused(name: str, render_probe: RenderProbe) -> None:
    reply = render_probe.render(HOSTILE[name])
    _check(reply, name)
    assert reply["code"] == EXIT_BAD_INPUT
    assert reply["err"].count("\n") == 1, reply["err"]  # one message, nothing half-rendered


def test_a_real_ticket_is_not_refused(render_probe: RenderProbe) -> None:
    from tests.unit.devtools.test_escpos_render import _sample_ticket

    reply = render_probe.render(_sample_ticket() * 10)  # ten tickets in one file
    _check(reply, "ten tickets")
    assert reply["code"] == EXIT_OK, reply["err"]


def test_the_command_refuses_with_one_message(tmp_path: Path) -> None:
    """The real command line, as a developer runs it: status 2, one line saying what was too
    much, no traceback, no half-written output; within the bounds, start-up included."""
    src = tmp_path / "big.bin"
    src.write_bytes(IMAGE_PRINTED_200_TIMES)
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("wb") as fout, err.open("wb") as ferr:
        proc = subprocess.Popen(
            [sys.executable, str(PROBE), "cli", "receipt-render", str(src), "--text", "-o",
             str(tmp_path / "big.png")], stdout=fout, stderr=ferr,
            env={**probe_env(), "KIOSK_PROBE_PEAK_FILE": str(tmp_path / "peak.txt")})
        # wait4: this child's own CPU time and peak memory, nobody else's.
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    message = err.read_text()
    assert proc.returncode == EXIT_BAD_INPUT, message
    assert "Traceback" not in message
    assert message.count("\n") == 1 and "refused" in message and "pixels" in message
    assert out.read_bytes() == b""
    assert not (tmp_path / "big.png").exists()
    assert usage.ru_utime + usage.ru_stime < MAX_CPU_S
    # The command's own peak (VmHWM, from its start): ru_maxrss would also count this test
    # process's resident size at fork.
    assert float((tmp_path / "peak.txt").read_text()) < MAX_MB


def test_a_file_larger_than_any_receipt_is_refused_unread(tmp_path: Path) -> None:
    from kiosk.devtools.escpos_parse import MAX_STREAM_BYTES

    src = tmp_path / "huge.bin"
    with src.open("wb") as f:
        f.truncate(MAX_STREAM_BYTES + 1)  # sparse: no disk used
    result = subprocess.run(
        [sys.executable, str(PROBE), "cli", "receipt-render", str(src), "--text"],
        capture_output=True, text=True, env=probe_env(), timeout=HANG_GUARD_S, check=False)
    assert result.returncode == EXIT_BAD_INPUT
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "refused" in result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- fuzz
u8 = st.integers(0, 255)
u16 = st.integers(0, 0xFFFF).map(lambda n: n.to_bytes(2, "little"))
small16 = st.integers(0, 3000).map(lambda n: n.to_bytes(2, "little"))

_ONE_ARG = [ESC + c for c in (b"!", b"E", b"G", b"-", b"M", b"a", b"{", b"t", b"3", b"A", b"+",
                              b"d", b"J", b"V", b" ")]
_ONE_ARG += [GS + c for c in (b"!", b"B", b"h", b"w", b"H", b"f", b"/", b"V")]
_ONE_ARG += [FS + c for c in (b"!", b"-", b"W")]
_NO_ARG = [ESC + b"@", ESC + b"2", ESC + b"i", ESC + b"m", ESC + b"L", ESC + b"S", FS + b"&",
           FS + b".", LF, b"\r", b"\t", b"\x0c", b"\x18", b"\x00"]

_text = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
    .map(lambda s: s.encode("ascii")),
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), max_size=30).map(_gb),
    st.text(st.characters(codec="gb18030", min_codepoint=0x80), max_size=20).map(_gb),
)


def _fill(length: int) -> st.SearchStrategy[bytes]:
    """`length` bytes of image data, cheap to draw at any size."""
    return st.one_of(st.binary(min_size=min(length, 64), max_size=min(length, 64)),
                     u8.map(bytes)).map(lambda b: (b * (length // max(1, len(b)) + 1))[:length])


def _sized(head: st.SearchStrategy[bytes], length: st.SearchStrategy[int]
           ) -> st.SearchStrategy[bytes]:
    return st.tuples(head, length).flatmap(lambda t: _fill(t[1]).map(lambda d: t[0] + d))


_commands = st.one_of(
    _text,
    st.sampled_from(_NO_ARG),
    st.tuples(st.sampled_from(_ONE_ARG), u8).map(lambda t: t[0] + bytes([t[1]])),
    st.tuples(st.sampled_from([ESC + b"$", ESC + b"\\", GS + b"L", GS + b"W"]), u16)
    .map(lambda t: t[0] + t[1]),
    st.lists(u8, max_size=8).map(lambda s: ESC + b"D" + bytes(s) + b"\x00"),
    # ESC * m n: column images, 8 or 24 dots high
    st.tuples(st.sampled_from([0, 1, 32, 33, 7]), st.integers(0, 1200)).flatmap(
        lambda t: _fill(t[1] * (3 if t[0] >= 32 else 1)).map(
            lambda d: ESC + b"*" + bytes([t[0]]) + t[1].to_bytes(2, "little") + d)),
    # GS v 0: raster images, declared sizes anywhere up to 65535 x 65535
    st.tuples(st.integers(0, 3), u16, u16, st.integers(0, 200_000)).flatmap(
        lambda t: _fill(t[3]).map(lambda d: GS + b"v0" + bytes([t[0]]) + t[1] + t[2] + d)),
    # GS * x y: downloaded image; GS Q 0: variable-height image
    st.tuples(u8, u8).flatmap(lambda t: _fill(t[0] * t[1] * 8).map(
        lambda d: GS + b"*" + bytes(t) + d)),
    st.tuples(small16, small16, st.integers(0, 100_000)).flatmap(
        lambda t: _fill(t[2]).map(lambda d: GS + b"Q0\x00" + t[0] + t[1] + d)),
    # GS ( L / GS 8 L: graphics store (raster 112 / column 113), print
    st.tuples(st.sampled_from([112, 113]), st.integers(1, 2), st.integers(1, 2), small16,
              small16, st.integers(0, 60_000)).flatmap(
        lambda t: _fill(t[5]).map(lambda d: (
            lambda body: GS + b"(L" + len(body).to_bytes(2, "little") + body)(
                b"0" + bytes([t[0], 48, t[1], t[2], 49]) + t[3] + t[4] + d))),
    st.just(GS + b"(L\x02\x0002"),
    # GS ( k: QR size, level, store, print
    st.tuples(st.integers(1, 16), st.binary(max_size=400)).map(lambda t: _qr(t[1], t[0])),
    st.sampled_from([b"0", b"1", b"2", b"3"]).map(lambda e: GS + b"(k\x03\x001E" + e),
    # GS k: barcodes, both forms
    st.tuples(st.integers(65, 79), st.binary(max_size=255)).map(
        lambda t: GS + b"k" + bytes([t[0], len(t[1])]) + t[1]),
    st.tuples(st.integers(0, 6), st.binary(max_size=40)).map(
        lambda t: GS + b"k" + bytes([t[0]]) + t[1].replace(b"\x00", b"") + b"\x00"),
    st.binary(max_size=40),
)



class Chunk:
    """Bytes of a stream, shown by their size and start when hypothesis reports an example
    (an image's data would fill the screen)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Chunk({len(self.data)} bytes: {self.data[:24]!r}...)"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))


def _repeat(command: bytes, times: int) -> Chunk:
    # A few bytes that each ask for a lot of work, many times; a stream stays below 4 MB.
    return Chunk(command * max(1, min(times, 400_000 // max(1, len(command)))))


def _nv_graphic(x: int, y: int, fill: bytes) -> bytes:
    """GS ( L fn 67: a raster graphic stored under key "G1", then printable by fn 69."""
    data = (fill * ((x + 7) // 8 * y))[: (x + 7) // 8 * y]
    body = b"0C0G11" + x.to_bytes(2, "little") + y.to_bytes(2, "little") + b"1" + data
    return GS + b"8L" + len(body).to_bytes(4, "little") + body


# An image stored once and printed many times: a few bytes per print, each a full image.
_amplifiers = st.one_of(
    st.tuples(u8, u8, u8, st.integers(0, 3), st.integers(1, 300)).map(
        lambda t: GS + b"*" + bytes(t[:2]) + bytes([t[2]]) * (t[0] * t[1] * 8)
        + (GS + b"/" + bytes([t[3]])) * t[4]),
    st.tuples(st.integers(1, 2000), st.integers(1, 2000), u8, st.integers(1, 2),
              st.integers(1, 300)).map(
        lambda t: _nv_graphic(t[0], t[1], bytes([t[2]]))
        + (GS + b"(L\x06\x000EG1" + bytes([t[3], t[3]])) * t[4]),
)

_chunks = st.one_of(_commands.map(Chunk), _amplifiers.map(Chunk),
                    st.tuples(_commands, st.integers(2, 3000)).map(lambda t: _repeat(*t)))


@settings(max_examples=120, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.large_base_example])
@given(chunks=st.lists(_chunks, max_size=25))
@example(chunks=[Chunk(IMAGE_PRINTED_200_TIMES)])
@example(chunks=[Chunk(TEN_MB_OF_LINE_FEEDS)])
def test_fuzzed_streams_render_within_bounds_or_are_refused(
    chunks: list[Chunk], render_probe: RenderProbe
) -> None:
    data = b"".join(c.data for c in chunks)
    reply = render_probe.render(data)
    # `pytest --hypothesis-show-statistics` shows how many were drawn and how many refused.
    event("refused" if reply["code"] == EXIT_BAD_INPUT else f"exit {reply['code']}")
    _check(reply, f"a stream of {len(data)} bytes")
