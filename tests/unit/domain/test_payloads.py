import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.domain import payloads as p
from kiosk.domain.payloads import Kind, PayloadProblem, PayloadRefused

NOW = 1_800_000_000


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def verifier(key: Ed25519PrivateKey, now: float = NOW) -> p.Verifier:
    return p.Verifier({"k1": key.public_key()}, max_age_s=90, clock_skew_s=10,
                      clock=lambda: now)


def refused(v: p.Verifier, text: str, kind: Kind = Kind.RESIDENT) -> PayloadProblem:
    with pytest.raises(PayloadRefused) as info:
        v.verify(text, kind)
    return info.value.problem


def test_valid_code_round_trips_and_is_short_ascii(key):
    text = p.sign(key, "k1", Kind.RESIDENT, "R0001", issued_at=NOW - 5)
    assert text.isascii() and len(text) <= 200
    payload = verifier(key).verify(text, Kind.RESIDENT)
    assert payload.reference == "R0001"
    assert payload.expires == NOW + 55


def test_each_problem_has_its_own_refusal(key):
    v = verifier(key)
    other = Ed25519PrivateKey.generate()
    good = p.sign(key, "k1", Kind.RESIDENT, "R0001", issued_at=NOW)
    assert refused(v, "https://example.org/") is PayloadProblem.NOT_OURS
    assert refused(v, good[:-10]) is PayloadProblem.MALFORMED
    assert refused(v, good.replace("YW1.", "YW2.", 1)) is PayloadProblem.UNSUPPORTED_VERSION
    assert refused(v, p.sign(key, "k1", Kind.TICKET, "T1", issued_at=NOW)) is (
        PayloadProblem.WRONG_KIND
    )
    assert refused(v, p.sign(key, "k9", Kind.RESIDENT, "R1", issued_at=NOW)) is (
        PayloadProblem.UNKNOWN_KEY
    )
    assert refused(v, p.sign(other, "k1", Kind.RESIDENT, "R1", issued_at=NOW)) is (
        PayloadProblem.BAD_SIGNATURE
    )
    assert refused(v, p.sign(key, "k1", Kind.RESIDENT, "R1", issued_at=NOW - 600)) is (
        PayloadProblem.EXPIRED
    )
    assert refused(v, p.sign(key, "k1", Kind.RESIDENT, "R1", issued_at=NOW + 600)) is (
        PayloadProblem.NOT_YET_VALID
    )
    assert refused(v, good + "\x1b") is PayloadProblem.MALFORMED
    assert refused(v, "YW1.R.k1.1.2.nonce12345.张三." + "A" * 86) is PayloadProblem.MALFORMED


def test_tampered_reference_fails_signature(key):
    v = verifier(key)
    good = p.sign(key, "k1", Kind.RESIDENT, "R0001", issued_at=NOW)
    assert refused(v, good.replace(".R0001.", ".R0002.")) is PayloadProblem.BAD_SIGNATURE


def test_personal_code_accepted_once(key):
    v = verifier(key)
    text = p.sign(key, "k1", Kind.RESIDENT, "R0001", issued_at=NOW)
    v.verify(text, Kind.RESIDENT)
    assert refused(v, text) is PayloadProblem.REPLAYED


def test_ticket_codes_can_be_scanned_again(key):
    v = verifier(key)
    text = p.sign(key, "k1", Kind.TICKET, "T1", issued_at=NOW, lifetime_s=3600)
    assert v.verify(text, Kind.TICKET).reference == "T1"
    assert v.verify(text, Kind.TICKET).reference == "T1"


def test_small_clock_skew_tolerated(key):
    text = p.sign(key, "k1", Kind.RESIDENT, "R1", issued_at=NOW + 5)
    assert verifier(key).verify(text, Kind.RESIDENT).reference == "R1"


def test_sign_refuses_references_outside_the_format(key):
    with pytest.raises(ValueError):
        p.sign(key, "k1", Kind.RESIDENT, "张三")
    with pytest.raises(ValueError):
        p.sign(key, "k.1", Kind.RESIDENT, "R1")


class _Ledger:
    """A used-nonce store shared by two verifiers, as a kiosk's disk is shared by its runs."""

    def __init__(self) -> None:
        self.claims: dict[tuple[str, str], int] = {}

    def claim(self, key_id: str, nonce: str, expires_at: int) -> bool:
        if (key_id, nonce) in self.claims:
            return False
        self.claims[key_id, nonce] = expires_at
        return True


def test_a_used_nonce_is_refused_by_any_verifier_that_shares_the_store(key):
    """The kiosk restarted (a new Verifier) or a second kiosk: the store, not the process,
    remembers the code; `check` alone uses nothing up, `claim` does."""
    ledger = _Ledger()
    text = p.sign(key, "k1", Kind.RESIDENT, "R0001", issued_at=NOW - 5)
    first = p.Verifier({"k1": key.public_key()}, clock=lambda: NOW, seen=ledger)
    payload = first.check(text, Kind.RESIDENT)
    assert ledger.claims == {}  # checked on the GUI thread: nothing written yet
    first.claim(payload)
    # Kept until the code can no longer be accepted anywhere (expiry plus the clock skew).
    assert ledger.claims == {("k1", payload.nonce): payload.expires + 10}
    after_restart = p.Verifier({"k1": key.public_key()}, clock=lambda: NOW, seen=ledger)
    assert after_restart.check(text, Kind.RESIDENT) == payload  # still a sound code...
    with pytest.raises(PayloadRefused) as info:
        after_restart.claim(payload)  # ...but already used
    assert info.value.problem is PayloadProblem.REPLAYED
    assert refused(after_restart, text) is PayloadProblem.REPLAYED
