"""`kiosk make-bench` / `kiosk scan-bench`: the set is what the issue asks for, and the
counts are right (an exact read, a wrong read, a miss)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.devtools.scanbench import (
    DEMO_KEY,
    FRAME_SIZE,
    Sample,
    best_single,
    draw_shot,
    load_bench_set,
    make_bench_command,
    make_bench_set,
    percentile,
    run_bench,
    scan_bench_command,
)
from kiosk.domain import payloads
from kiosk.hardware.camera.decoder import make_decoder

N = 12


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bench")
    make_bench_set(folder, n=N, seed=11)
    return folder


def test_the_set_is_camera_frames_of_our_signed_payloads(bench: Path) -> None:
    samples, skipped = load_bench_set(bench)
    assert len(samples) == N and skipped == []
    public = payloads.load_private_key(DEMO_KEY.read_bytes()).public_key()
    for s in samples:
        frame = s.load()
        assert frame is not None and frame.shape == (FRAME_SIZE[1], FRAME_SIZE[0], 3)
        assert s.expected.isascii() and s.expected.isprintable()
        payload, body, signature = payloads.parse(s.expected)
        assert payload.key_id == "demo"
        public.verify(signature, body.encode("ascii"))  # raises if not signed by the demo key
    assert {p.suffix for p in bench.iterdir()} >= {".jpg", ".txt", ".tsv"}


def test_the_mix_holds_every_kind_of_trouble() -> None:
    rng = np.random.default_rng(0)
    shots = [draw_shot(rng) for _ in range(400)]
    share = Counter()
    for s in shots:
        share["dark"] += s.dark
        share["small"] += s.phone_frac < 0.7
        share["large"] += s.phone_frac > 1.0
        share["glare"] += s.glare > 0
        share["moire"] += s.moire > 0
        share["motion"] += s.motion > 0
        share["jpeg"] += s.jpeg > 0
        share["turned"] += abs(s.roll) > 20
        share["leaning"] += abs(s.pitch) > 15 or abs(s.yaw) > 15
    for kind, count in share.items():
        assert 0.1 < count / len(shots) < 0.9, (kind, count)


def test_same_seed_same_set(tmp_path: Path) -> None:
    make_bench_set(tmp_path / "a", n=2, seed=5)
    make_bench_set(tmp_path / "b", n=2, seed=5)
    for name in ("index.tsv", "scan-0000.txt", "scan-0001.txt"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()


def test_a_new_set_replaces_an_old_one_in_the_same_folder(tmp_path: Path) -> None:
    make_bench_set(tmp_path, n=3, seed=1)
    (tmp_path / "notes.md").write_text("mine")
    make_bench_set(tmp_path, n=1, seed=2)
    samples, skipped = load_bench_set(tmp_path)
    assert [s.name[:9] for s in samples] == ["scan-0000"] and skipped == []
    assert (tmp_path / "notes.md").read_text() == "mine"


def test_scan_bench_compares_the_decoders(bench: Path, capsys: pytest.CaptureFixture) -> None:
    assert scan_bench_command(str(bench), compare=True) == 0
    out = capsys.readouterr().out
    table = {line.split()[0]: line.split() for line in out.splitlines()
             if line.split() and line.split()[0] in ("combined", "pyzbar", "zxing", "opencv")}
    assert set(table) == {"combined", "pyzbar", "zxing", "opencv"}
    for row in table.values():
        assert row[1] == str(N)  # images
        assert row[4] == "0"  # wrong reads
    assert int(table["combined"][2]) >= int(table["zxing"][2])
    assert "best single decoder" in out and "cv2.setNumThreads(1)" in out


def test_exact_reads_and_a_wrong_txt_counted(bench: Path, tmp_path: Path) -> None:
    folder = tmp_path / "set"
    shutil.copytree(bench, folder)
    samples, _ = load_bench_set(folder)
    zxing = make_decoder("zxing")
    (before,) = run_bench(samples, [zxing])
    assert before.wrong == 0 and before.decoded == N - len(before.failed)
    read = next(s for s in samples if s.name not in before.failed)
    # The image still holds its code; the .txt now claims another text.
    read.path.with_suffix(".txt").write_text(read.expected[:-1] + "X\n", encoding="ascii")
    samples, _ = load_bench_set(folder)
    (after,) = run_bench(samples, [zxing])
    assert after.wrong == 1 and after.decoded == before.decoded - 1
    assert after.misread[0].startswith(read.name)


def test_counts_with_a_scripted_decoder(tmp_path: Path) -> None:
    # Each image's first pixel says which answer the decoder gives for it.
    answers = [["right"], [], ["not it"], ["both", "extra"]]
    samples = []
    for i, text in enumerate(["right", "missed", "wrong", "both"]):
        path = tmp_path / f"{i}.png"
        cv2.imwrite(str(path), np.full((30, 30, 3), i, np.uint8))
        samples.append(Sample(path.name, path, text))

    class Scripted:
        name = "zxing"

        def decode(self, frame: np.ndarray) -> list[str]:
            return answers[int(frame[0, 0, 0])]

    (row,) = run_bench(samples, [Scripted()])
    # "both": the expected text was read (decoded) and so was another one (a wrong read).
    assert (row.images, row.decoded, row.wrong) == (4, 2, 2)
    assert row.failed == ["1.png", "2.png"]
    assert best_single([row]) is row


def test_unusable_folders_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert scan_bench_command(str(tmp_path / "missing"), compare=False) == 2
    assert scan_bench_command(str(tmp_path), compare=False) == 2
    cv2.imwrite(str(tmp_path / "lonely.png"), np.zeros((30, 30, 3), np.uint8))
    assert scan_bench_command(str(tmp_path), compare=False) == 2
    assert "lonely.png: no lonely.txt" in capsys.readouterr().err
    assert scan_bench_command(str(tmp_path), compare=False, decoder="quagga") == 2
    assert make_bench_command(str(tmp_path / "x"), 0, 1) == 2


def test_percentile() -> None:
    assert percentile([], 95) == 0.0
    assert percentile([5.0], 95) == 5.0
    assert percentile(list(map(float, range(1, 101))), 95) == 95.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
