"""Odd codes at the camera: over 10,000 generated payloads through the camera's own path.

Each example is emitted on `ScannerService.codeScanned`, exactly as the scanner does when its
capture thread has decoded a code, into the take-number controller's `on_code` on the scan
screen of one kiosk built offscreen. Whatever the text, no exception may escape, the kiosk
stays on the scan screen, and the resident reads one of the documented messages of
`messages.payload_problem` — the very one named by the fault, where the fault decides it. A
sound code leads to the category screen (or the documented "not found" message for an
unknown resident), and the test goes back to scanning.

Codes are generated as recipes with times relative to "now" and built at scan time, so a
recipe replayed by hypothesis while shrinking means the same thing as when it was drawn.
The last test runs 10,000 recipes straight through `payloads.Verifier.verify`.
"""

from __future__ import annotations

import string
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from PySide6.QtWidgets import QApplication

from kiosk.app import Kiosk, build
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain import payloads
from kiosk.domain.payloads import Kind, PayloadProblem, PayloadRefused
from kiosk.ui import messages
from tests.helpers.waits import HANG_GUARD_S

P = PayloadProblem
# The replay test needs a nonce the kiosk has accepted; the fixture scans one in first.
SEED_NONCE = "seedNonce123"
TRUSTED_IDS = frozenset({"demo", "kiosk-emb"})
KNOWN = sorted(DEMO_RESIDENTS.values())
B64U = string.ascii_letters + string.digits + "-_"
FIELD_CHARS = B64U  # what key ids, nonces and references are made of

# Markup, terminal escapes, format strings, bidi and zero-width tricks, NUL, 生僻字: nothing
# here may reach the screen, and each holds a character no field may contain.
NASTY = [
    "<b>粗体</b>", "<img src=x onerror=alert(1)>", "\x1b[2J", "\x1b[31mRED", "\r\n", "\t",
    "\x00", "\x7f", "\x85", "\u2028", "\u202eR0001", "\ufeff", "\u200b", "%s%n%x", "{0}{1}",
    "&lt;&#x41;", "'; DROP TABLE residents;--", "𠮷", "张三", "Ｒ０００１", "R0001\n", " ",
    "../../etc/passwd", "\\", "\"", "YW1.R",
]
assert all(any(c not in FIELD_CHARS for c in n) for n in NASTY)


# --- recipes -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipe:
    """A personal code to build at scan time.

    `issued` is an offset from now in seconds (int) or the literal field (str); `lifetime`
    the seconds until expiry (int) or the literal field. `nonce` None = fresh, "SEED" = the
    accepted one. `signer`: "demo" (trusted), "other" (an untrusted key) or "literal" (use
    `signature` as written). After signing: `flip` changes one signature character, `tail`
    is appended and `cut` truncates. `expect`: the exact problem, None for a sound code,
    "any" when only "some documented problem" is promised.
    """

    version: str = "YW1"
    kind: str = "R"
    key_id: str = "demo"
    issued: int | str = 0
    lifetime: int | str = 60
    nonce: str | None = None
    reference: str = "R0001"
    signer: str = "demo"
    signature: str = ""
    flip: int | None = None
    tail: str = ""
    cut: int | None = None
    expect: PayloadProblem | str | None = None


@dataclass
class Keys:
    demo: Ed25519PrivateKey
    other: Ed25519PrivateKey


def render(r: Recipe, now: int, keys: Keys) -> str:
    iat = str(now + r.issued) if isinstance(r.issued, int) else r.issued
    if isinstance(r.lifetime, int):
        exp = str(int(iat) + r.lifetime) if iat.isdigit() else str(now + r.lifetime)
    else:
        exp = r.lifetime
    nonce = payloads.new_nonce() if r.nonce is None else (
        SEED_NONCE if r.nonce == "SEED" else r.nonce)
    body = ".".join([r.version, r.kind, r.key_id, iat, exp, nonce, r.reference])
    if r.signer == "literal":
        sig = r.signature
    else:
        key = keys.demo if r.signer == "demo" else keys.other
        sig = payloads._b64u(key.sign(body.encode("utf-8")))
    if r.flip is not None and len(sig) >= 85:
        # Positions 0-84 only: the 86th character also carries 4 padding bits, and changing
        # just those would leave the signature's bytes as they were.
        i = r.flip % 85
        sig = sig[:i] + ("A" if sig[i] != "A" else "B") + sig[i + 1:]
    text = body + "." + sig + r.tail
    if r.cut is None:
        return text
    assert r.expect == "any" or r.cut < len(text), "a cut that keeps all should expect its fault"
    return text[: r.cut]


# --- strategies --------------------------------------------------------------------------

field = st.text(FIELD_CHARS, min_size=1, max_size=12)
nasty = st.sampled_from(NASTY)
in_field_nasty = st.tuples(field, nasty, st.text(FIELD_CHARS, max_size=4)).map("".join)


def loosely_decoded(data: bytes, how: str) -> str:
    """What a decoder that guesses encodings makes of arbitrary bytes."""
    encoding, errors = how.split("/")
    return data.decode(encoding, errors=errors)


random_texts = st.one_of(
    st.builds(loosely_decoded, st.binary(max_size=300),
              st.sampled_from(["utf-8/replace", "utf-8/ignore", "latin-1/strict",
                               "gb18030/replace", "shift_jis/replace", "big5/replace"])),
    st.text(max_size=300),
    st.text(string.printable, max_size=250),
    # Texts that get past the first check: they start like ours.
    st.builds(lambda t: "YW" + t, st.text(max_size=220)),
    st.builds(lambda t: "YW1." + t, st.text(string.printable, max_size=220)),
    st.lists(st.one_of(field, nasty, st.sampled_from(["YW1", "R", "demo", ""])),
             max_size=12).map(".".join),
    st.sampled_from(["", "YW", "YW1", "YW1.", ".......", "YW1.......", "https://zwdt.sh.gov.cn/",
                     "6901234567892", "WIFI:S:x;T:WPA;P:y;;", "\x1b[2J\x1b[H", "<b>YW1</b>"]),
)


def _expected_cut(n: int) -> PayloadProblem:
    # "Y" is nobody's; "YW" is not a version; from "YW1" on, it is ours but incomplete.
    return P.NOT_OURS if n < 3 else P.MALFORMED


fresh = st.integers(-60, 0)  # issued within the last minute
field_faults = st.one_of(
    st.builds(Recipe, version=st.sampled_from(["YW0", "YW2", "YW9", "YW10", "YW01", "YW123"]),
              expect=st.just(P.UNSUPPORTED_VERSION), issued=fresh),
    st.builds(Recipe, kind=st.sampled_from(["T", "A", "C"]), expect=st.just(P.WRONG_KIND),
              issued=fresh),
    st.builds(Recipe, kind=st.sampled_from(["X", "r", "RR", "", "Z", "1"]),
              expect=st.just(P.WRONG_KIND), issued=fresh),
    st.builds(Recipe, key_id=st.text(FIELD_CHARS, min_size=1, max_size=16)
              .filter(lambda k: k not in TRUSTED_IDS), expect=st.just(P.UNKNOWN_KEY)),
    st.builds(Recipe, signer=st.just("other"), expect=st.just(P.BAD_SIGNATURE), issued=fresh),
    st.builds(Recipe, flip=st.integers(0, 84), expect=st.just(P.BAD_SIGNATURE), issued=fresh),
    st.builds(Recipe, issued=st.integers(-10**9, -120), lifetime=st.integers(0, 10**9),
              expect=st.just(P.EXPIRED)),
    st.builds(Recipe, issued=st.integers(-3600, -100), lifetime=st.integers(0, 20),
              expect=st.just(P.EXPIRED)),
    st.builds(Recipe, issued=st.integers(15, 10**9), expect=st.just(P.NOT_YET_VALID)),
    st.builds(Recipe, nonce=st.just("SEED"), issued=fresh, reference=st.sampled_from(KNOWN),
              expect=st.just(P.REPLAYED)),
    st.builds(Recipe, reference=st.text(FIELD_CHARS, min_size=33, max_size=60),
              expect=st.just(P.MALFORMED)),
    st.builds(Recipe, issued=fresh, lifetime=st.integers(-10**6, -1), expect=st.just(P.MALFORMED)),
    # Control characters and markup in the text fields.
    st.builds(Recipe, reference=in_field_nasty, expect=st.just(P.MALFORMED)),
    st.builds(Recipe, nonce=in_field_nasty, expect=st.just(P.MALFORMED)),
    st.builds(Recipe, key_id=in_field_nasty, expect=st.just(P.MALFORMED)),
    # Bad base64 in the signature: a character outside the alphabet, padding, wrong length.
    st.builds(Recipe, signer=st.just("literal"), expect=st.just(P.MALFORMED),
              signature=st.tuples(st.text(B64U, min_size=85, max_size=85),
                                  st.sampled_from([*"+/=!.~ ", "=="])).map("".join)),
    st.builds(Recipe, signer=st.just("literal"), expect=st.just(P.MALFORMED),
              signature=st.text(B64U, max_size=120).filter(lambda s: len(s) != 86)),
)
# Faults appended after the signature: oversized, control characters and markup.
tail_faults = st.one_of(
    st.builds(Recipe, tail=st.text(B64U + ".", min_size=1).map(lambda t: t * 200),
              expect=st.just(P.MALFORMED)),
    st.builds(Recipe, tail=nasty, expect=st.just(P.MALFORMED)),
)
single_faults = st.one_of(field_faults, tail_faults)

# 137: one less than a code for R0001..R0016 (YW1.R.demo.<10>.<10>.<12>.R0001.<86>).
truncated = st.builds(
    lambda n, r: replace(r, cut=n, expect=_expected_cut(n)),
    st.integers(0, 137),
    st.builds(Recipe, reference=st.sampled_from(KNOWN), issued=fresh),
)
# Not the faults in a tail: cutting the tail off would leave a sound code.
cut_faulty = st.builds(lambda r, n: replace(r, cut=n, expect="any"), field_faults,
                       st.integers(0, 300))


# Every field independently sound or not: only an all-sound recipe is a valid code. The
# strategies are built once: building them inside each draw costs more than the scan.
def _tagged(good: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(good.map(lambda v: (v, True)), bad.map(lambda v: (v, False)))


_FIELDS = {
    "version": _tagged(st.just("YW1"), st.sampled_from(["YW2", "YW", "yw1", "YW1 ", "XW1", "YW١"])),
    "kind": _tagged(st.just("R"), st.sampled_from(["T", "A", "C", "", "r", "RT"])),
    "key_id": _tagged(st.just("demo"), st.one_of(
        field.filter(lambda k: k not in TRUSTED_IDS), in_field_nasty, st.just(""))),
    "issued": _tagged(st.integers(-60, 5), st.one_of(
        st.integers(-10**6, -120), st.integers(20, 10**6),
        st.sampled_from(["", "-5", "1e9", "0x10", "１２"]),
        st.text(string.digits, min_size=13, max_size=20))),
    "lifetime": _tagged(st.integers(60, 3600), st.integers(-10**4, -1)),
    "nonce": _tagged(st.none(), st.one_of(st.just("SEED"), st.text(FIELD_CHARS, max_size=7),
                                          in_field_nasty)),
    "reference": _tagged(st.one_of(st.sampled_from(KNOWN), field), st.one_of(
        in_field_nasty, st.just(""), st.text(FIELD_CHARS, min_size=33, max_size=40))),
    "signer": _tagged(st.just("demo"), st.sampled_from(["other", "literal"])),
    "flip": _tagged(st.none(), st.integers(0, 84)),
    "tail": _tagged(st.just(""), st.sampled_from([".", "=", "\x00", "<b>", " "])),
}
_literal_signature = st.text(B64U + "+/=", max_size=90)


def _structured(parts: dict[str, tuple[object, bool]], signature: str) -> Recipe:
    values = {k: v for k, (v, _ok) in parts.items()}
    sound = all(ok for _v, ok in parts.values())
    return Recipe(**values, signature=signature, expect=None if sound else "any")  # type: ignore[arg-type]


structured = st.builds(_structured, st.fixed_dictionaries(_FIELDS), _literal_signature)


valid_codes = st.builds(
    Recipe, reference=st.one_of(st.sampled_from(KNOWN), field), issued=st.integers(-60, 5),
    lifetime=st.integers(60, 600),
)


# --- the kiosk at its scan screen --------------------------------------------------------

@dataclass
class Outcome:
    screen: str
    message: str | None  # None: no message shown


class ScanPath:
    """Drives codes into the kiosk through the scanner's signal, one at a time."""

    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self.c = kiosk.controller
        key_file = kiosk.paths.config_dir / kiosk.config.qr.demo_signing_key
        self.keys = Keys(payloads.load_private_key(key_file.read_bytes()),
                         Ed25519PrivateKey.generate())
        self.documented = {messages.payload_problem(p): p for p in PayloadProblem}
        assert len(self.documented) == len(PayloadProblem)  # one text per problem
        self.examples = 0
        self.ran: set[str] = set()

    def now(self) -> int:
        return int(self.c.ctx.clock().timestamp())

    def to_scan(self) -> None:
        if self.kiosk.window.current().name != "scan":
            self.kiosk.window.go_home("home")
            self.c.start_scan()
        assert self.kiosk.window.current().name == "scan"

    def emit(self, text: str) -> Outcome:
        self.to_scan()
        message = self.c.scan.message
        # Emptied but left visible: the text tells what this example showed, and showing a
        # hidden label (a layout pass) would cost more than the rest of the example.
        message.clear()
        errors: list[BaseException] = []
        previous = sys.excepthook
        # PySide hands an exception raised in a slot to sys.excepthook and returns from
        # emit(); catch it per example, so hypothesis can shrink to the payload that did it.
        sys.excepthook = lambda _t, value, _tb: errors.append(value)
        try:
            self.kiosk.scanner.codeScanned.emit(text)
            # A refused code is answered at once; a sound one is looked up on the backend
            # queue first, so wait for its answer.
            deadline = time.monotonic() + HANG_GUARD_S
            while (not errors and self.kiosk.window.current().name == "scan"
                   and not self._shown() and time.monotonic() < deadline):
                QApplication.processEvents()
                time.sleep(0.001)
        finally:
            sys.excepthook = previous
        self.examples += 1
        if errors:
            raise AssertionError(f"exception escaped on_code for {text!r}") from errors[0]
        return Outcome(self.kiosk.window.current().name, self._shown())

    def _shown(self) -> str | None:
        message = self.c.scan.message
        return message.text() if message.isVisible() and message.text() else None

    def check(self, text: str, expect: PayloadProblem | str | None) -> None:
        outcome = self.emit(text)
        if expect is None:
            accepted = outcome.screen == "category" or (
                outcome.screen == "scan" and outcome.message == messages.unknown_resident())
            assert accepted, (text, outcome)
            self._event("accepted")
            return
        assert outcome.screen == "scan", (text, outcome)
        assert outcome.message in self.documented, (text, outcome)
        self._event(self.documented[outcome.message].value)
        if isinstance(expect, PayloadProblem):
            assert self.documented[outcome.message] is expect, (text, outcome)

    @staticmethod
    def _event(name: str) -> None:
        # `pytest --hypothesis-show-statistics` then shows the mix of outcomes.
        if currently_in_test_context():
            event(name)

    def scan_recipe(self, recipe: Recipe) -> None:
        self.check(render(recipe, self.now(), self.keys), recipe.expect)


@pytest.fixture(scope="module")
def scan_path(qapp, tmp_path_factory) -> Iterator[ScanPath]:
    from tests.helpers.config import make_config
    from tests.helpers.paths import SHIPPED_CONFIG

    data: Path = tmp_path_factory.mktemp("fuzz-data")
    # The camera is not started: the test is the camera, emitting what the capture thread
    # would, and an idle emulated camera would only spend CPU decoding empty frames.
    kiosk = build(make_config(data), SHIPPED_CONFIG, kiosk_mode=False, start_camera=False)
    kiosk.window.show()
    kiosk.window.set_idle_timeout(3600)  # no Home in the middle of a run
    path = ScanPath(kiosk)
    # One accepted code, so that its nonce can be replayed.
    path.check(render(Recipe(nonce="SEED"), path.now(), path.keys), None)
    assert kiosk.window.current().name == "category"
    yield path
    # Let answers still queued (statistics, deliveries) arrive before the services close.
    deadline = time.monotonic() + HANG_GUARD_S
    while kiosk.busy() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    kiosk.shutdown()


FUZZ = settings(max_examples=2000, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])


def test_harness_sees_an_exception_in_the_slot(scan_path, monkeypatch):
    # Without this, a harness that missed exceptions would pass everything below.
    def broken(*_a: object) -> payloads.Payload:
        raise RuntimeError("decoder bug")

    # `check` is what on_code calls on the GUI thread (the claim runs on a worker).
    monkeypatch.setattr(scan_path.kiosk.controller.verifier, "check", broken)
    with pytest.raises(AssertionError, match="exception escaped"):
        scan_path.emit("YW1.anything")


def test_the_documented_messages_for_each_named_variant(scan_path):
    for problem, recipe in [
        (P.EXPIRED, Recipe(issued=-3600)),
        (P.NOT_YET_VALID, Recipe(issued=3600)),
        (P.BAD_SIGNATURE, Recipe(signer="other")),
        (P.WRONG_KIND, Recipe(kind="T")),
        (P.REPLAYED, Recipe(nonce="SEED")),
        (P.UNKNOWN_KEY, Recipe(key_id="k9")),
        (P.UNSUPPORTED_VERSION, Recipe(version="YW2")),
        (P.MALFORMED, Recipe(reference="<b>R0001</b>")),
    ]:
        assert recipe.expect is None
        scan_path.scan_recipe(replace(recipe, expect=problem))


@FUZZ
@given(text=random_texts)
def test_random_texts(scan_path, text):
    scan_path.ran.add("random")
    scan_path.check(text, P.NOT_OURS if not text.startswith("YW") else "any")


@FUZZ
@given(recipe=single_faults)
def test_one_fault_each_gives_its_own_message(scan_path, recipe):
    scan_path.ran.add("single")
    scan_path.scan_recipe(recipe)


@FUZZ
@given(recipe=st.one_of(truncated, cut_faulty))
def test_truncated_codes(scan_path, recipe):
    scan_path.ran.add("truncated")
    scan_path.scan_recipe(recipe)


@FUZZ
@given(recipe=structured)
def test_any_mix_of_good_and_bad_fields(scan_path, recipe):
    scan_path.ran.add("structured")
    scan_path.scan_recipe(recipe)


@FUZZ
@given(recipe=st.one_of(single_faults, structured), mangle=st.sampled_from(
    ["upper", "lower", "strip-dots", "double-dots", "reverse", "nul-inside", "markup"]))
def test_mangled_codes(scan_path, recipe, mangle):
    scan_path.ran.add("mangled")
    text = render(recipe, scan_path.now(), scan_path.keys)
    changed = {
        "upper": text.upper(),
        "lower": text.lower(),
        "strip-dots": text.replace(".", ""),
        "double-dots": text.replace(".", ".."),
        "reverse": text[::-1],
        "nul-inside": text[: len(text) // 2] + "\x00" + text[len(text) // 2:],
        "markup": f"<b>{text}</b>",
    }[mangle]
    if changed == text:
        return
    scan_path.check(changed, "any")


@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(recipe=valid_codes)
def test_sound_codes_are_accepted(scan_path, recipe):
    scan_path.ran.add("sound")
    scan_path.scan_recipe(recipe)


def test_at_least_10000_payloads_went_through_the_camera_path(scan_path):
    # Runs after the fuzz tests above (pytest keeps file order); a partial run (-k) skips.
    if scan_path.ran != {"random", "single", "truncated", "structured", "mangled", "sound"}:
        pytest.skip(f"only {sorted(scan_path.ran)} ran")
    assert scan_path.examples >= 10_000, scan_path.examples
    print(f"{scan_path.examples} payloads through codeScanned -> on_code")


# --- the verifier alone ------------------------------------------------------------------

NOW = 1_800_000_000
_keys = Keys(Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate())


def _verifier() -> payloads.Verifier:
    # One verifier for the whole run, as on the kiosk; the memory is large enough that the
    # seed nonce is never forgotten, so a replay always reads as one.
    v = payloads.Verifier({"demo": _keys.demo.public_key()}, max_age_s=90, clock_skew_s=10,
                          clock=lambda: NOW, replay_memory=1_000_000)
    v.verify(render(Recipe(nonce="SEED"), NOW, _keys), Kind.RESIDENT)
    return v


_unit_verifier = _verifier()


any_recipe = st.one_of(single_faults, truncated, structured, valid_codes)


@settings(max_examples=10_000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(case=st.one_of(any_recipe, random_texts))
def test_verifier_only_refuses_with_a_problem_or_accepts(case: Recipe | str) -> None:
    v = _unit_verifier
    if isinstance(case, str):
        text, expect = case, ("any" if case.startswith("YW") else P.NOT_OURS)
    else:
        text, expect = render(case, NOW, _keys), case.expect
    try:
        payload = v.verify(text, Kind.RESIDENT)
    except PayloadRefused as refused:
        assert refused.problem in PayloadProblem
        event(refused.problem.value)
        assert expect is not None, (text, refused.problem)
        if isinstance(expect, PayloadProblem):
            assert refused.problem is expect, (text, refused.problem)
        return
    assert expect is None, (text, payload)
    event("accepted")
    assert isinstance(payload, payloads.Payload) and payload.kind is Kind.RESIDENT
