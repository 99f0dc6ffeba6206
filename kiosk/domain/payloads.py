"""Signed, short-lived QR payloads: our own stand-in for the 随申码 format.

The real 随申码 format is not public. Ours is a dot-separated ASCII string:

    YW1.<kind>.<key id>.<issued-at>.<expires>.<nonce>.<reference>.<signature>

* kind: R = resident personal code (随申码), T = queue ticket tracking,
  A = appointment, C = application receipt (办件回执)
* issued-at / expires: Unix seconds; a personal code lives about a minute
* nonce: 12 url-safe characters, so two codes issued in the same second differ
* reference: the resident, ticket, appointment or application id ([A-Za-z0-9_-], ≤ 32)
* signature: Ed25519 over everything before the last dot, base64url without padding

It stays ASCII (pyzbar guesses Shift-JIS or Big5 for UTF-8 bytes) and under 200 characters,
so the QR code stays at a version a webcam reads at arm's length. Every way a scanned text
can be wrong maps to one `PayloadProblem`, each with its own message for the resident.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

PREFIX = "YW1"
MAX_LENGTH = 200
_REF_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_KID_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{8,24}$")
_NUM_RE = re.compile(r"^[0-9]{1,12}$")
_SIG_RE = re.compile(r"^[A-Za-z0-9_-]{86}$")


class Kind(Enum):
    RESIDENT = "R"
    TICKET = "T"
    APPOINTMENT = "A"
    RECEIPT = "C"


class PayloadProblem(Enum):
    """Why a scanned text was refused. The UI maps each to a message (see messages.py)."""

    NOT_OURS = "not_ours"  # not one of our codes at all (a URL, a product barcode, noise)
    MALFORMED = "malformed"  # ours, but damaged or truncated
    UNSUPPORTED_VERSION = "unsupported_version"
    WRONG_KIND = "wrong_kind"  # e.g. a ticket code where a personal code is expected
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    REPLAYED = "replayed"


class PayloadRefused(Exception):
    def __init__(self, problem: PayloadProblem, detail: str = "") -> None:
        super().__init__(f"{problem.value}: {detail}" if detail else problem.value)
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True)
class Payload:
    kind: Kind
    key_id: str
    issued_at: int
    expires: int
    nonce: str
    reference: str


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_nonce() -> str:
    return secrets.token_urlsafe(9)  # 12 characters


def sign(
    key: Ed25519PrivateKey,
    key_id: str,
    kind: Kind,
    reference: str,
    *,
    issued_at: int | None = None,
    lifetime_s: int = 60,
    nonce: str | None = None,
) -> str:
    """Encode and sign a payload. Raises ValueError for fields outside the format."""
    if not _REF_RE.match(reference):
        raise ValueError(f"reference must match {_REF_RE.pattern}: {reference!r}")
    if not _KID_RE.match(key_id):
        raise ValueError(f"key id must match {_KID_RE.pattern}: {key_id!r}")
    iat = int(time.time()) if issued_at is None else issued_at
    body = ".".join(
        [PREFIX, kind.value, key_id, str(iat), str(iat + lifetime_s), nonce or new_nonce(),
         reference]
    )
    return body + "." + _b64u(key.sign(body.encode("ascii")))


def load_public_keys(encoded: Mapping[str, str]) -> dict[str, Ed25519PublicKey]:
    return {
        kid: Ed25519PublicKey.from_public_bytes(base64.b64decode(b64))
        for kid, b64 in encoded.items()
    }


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode("ascii")


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("expected an Ed25519 private key")
    return key


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def parse(text: str) -> tuple[Payload, str, bytes]:
    """Split a scanned text into its fields without checking the signature or time."""
    if not isinstance(text, str) or not text.startswith(PREFIX[:2]):
        raise PayloadRefused(PayloadProblem.NOT_OURS)
    if len(text) > MAX_LENGTH:
        raise PayloadRefused(PayloadProblem.MALFORMED, "too long")
    if not text.isascii() or not text.isprintable():
        raise PayloadRefused(PayloadProblem.MALFORMED, "non-printable or non-ASCII characters")
    parts = text.split(".")
    if parts[0] != PREFIX:
        if re.fullmatch(r"YW[0-9]+", parts[0]):
            raise PayloadRefused(PayloadProblem.UNSUPPORTED_VERSION, parts[0])
        raise PayloadRefused(PayloadProblem.NOT_OURS)
    if len(parts) != 8:
        raise PayloadRefused(PayloadProblem.MALFORMED, f"{len(parts)} fields")
    _, kind_s, kid, iat_s, exp_s, nonce, ref, sig_s = parts
    try:
        kind = Kind(kind_s)
    except ValueError:
        raise PayloadRefused(PayloadProblem.WRONG_KIND, f"unknown kind {kind_s!r}") from None
    for value, pattern, name in (
        (kid, _KID_RE, "key id"),
        (iat_s, _NUM_RE, "issued-at"),
        (exp_s, _NUM_RE, "expiry"),
        (nonce, _NONCE_RE, "nonce"),
        (ref, _REF_RE, "reference"),
        (sig_s, _SIG_RE, "signature"),
    ):
        if not pattern.match(value):
            raise PayloadRefused(PayloadProblem.MALFORMED, f"bad {name}")
    try:
        sig = _unb64u(sig_s)
    except (binascii.Error, ValueError):
        raise PayloadRefused(PayloadProblem.MALFORMED, "bad signature encoding") from None
    body = text[: text.rindex(".")]
    payload = Payload(kind, kid, int(iat_s), int(exp_s), nonce, ref)
    return payload, body, sig


class SeenNonces(Protocol):
    """Where a verifier records the personal codes it has accepted.

    `claim` records (key id, nonce) and says whether it was new; the record is kept at
    least until `expires_at` (Unix seconds), after which no verifier accepts the code
    anyway. On a kiosk it is a file (a restart forgets nothing) and the hall backend (a
    neighbouring kiosk refuses it too); both block, so a kiosk claims off the GUI thread.
    """

    def claim(self, key_id: str, nonce: str, expires_at: int) -> bool: ...


class MemoryNonces:
    """The used nonces of this process only, the oldest forgotten beyond `memory` entries:
    for tools and tests, not for a kiosk (a restart would forget them)."""

    def __init__(self, memory: int = 4096) -> None:
        self._seen: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._memory = memory

    def claim(self, key_id: str, nonce: str, expires_at: int) -> bool:
        if (key_id, nonce) in self._seen:
            return False
        self._seen[key_id, nonce] = expires_at
        while len(self._seen) > self._memory:
            self._seen.popitem(last=False)
        return True


class Verifier:
    """Checks scanned texts against trusted keys, the clock and the codes already used.

    A personal code (kind R) is accepted once: replaying the same code, even within its
    minute, is refused, so a photo of someone's phone cannot be reused. Which codes were
    used is the injected `seen` store's to remember. `verify` checks and claims in one
    call; a kiosk calls `check` on the GUI thread (pure computation) and `claim` on a
    worker, because the store writes to disk and asks the hall backend.
    """

    def __init__(
        self,
        keys: Mapping[str, Ed25519PublicKey],
        *,
        max_age_s: int = 90,
        clock_skew_s: int = 10,
        clock: Callable[[], float] = time.time,
        replay_memory: int = 4096,
        seen: SeenNonces | None = None,
    ) -> None:
        self._keys = dict(keys)
        self._max_age = max_age_s
        self._skew = clock_skew_s
        self._clock = clock
        self._seen: SeenNonces = seen if seen is not None else MemoryNonces(replay_memory)

    def add_keys(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self._keys.update(keys)

    def verify(self, text: str, expected: tuple[Kind, ...] | Kind) -> Payload:
        payload = self.check(text, expected)
        self.claim(payload)
        return payload

    def check(self, text: str, expected: tuple[Kind, ...] | Kind) -> Payload:
        """Everything but the used-code check: format, kind, signature and time."""
        kinds = (expected,) if isinstance(expected, Kind) else expected
        payload, body, sig = parse(text)
        if payload.kind not in kinds:
            raise PayloadRefused(PayloadProblem.WRONG_KIND, payload.kind.value)
        key = self._keys.get(payload.key_id)
        if key is None:
            raise PayloadRefused(PayloadProblem.UNKNOWN_KEY, payload.key_id)
        try:
            key.verify(sig, body.encode("ascii"))
        except InvalidSignature:
            raise PayloadRefused(PayloadProblem.BAD_SIGNATURE) from None
        now = int(self._clock())
        if payload.issued_at > now + self._skew:
            raise PayloadRefused(PayloadProblem.NOT_YET_VALID)
        if payload.expires < payload.issued_at:
            raise PayloadRefused(PayloadProblem.MALFORMED, "expires before issued")
        if now > payload.expires + self._skew:
            raise PayloadRefused(PayloadProblem.EXPIRED)
        if payload.kind is Kind.RESIDENT and now - payload.issued_at > self._max_age:
            raise PayloadRefused(PayloadProblem.EXPIRED)
        return payload

    def claim(self, payload: Payload) -> None:
        """Use up a checked personal code, or PayloadRefused(REPLAYED) if it was used
        before. Other kinds (tickets, receipts) may be shown any number of times. Blocks
        on the `seen` store (a kiosk: disk and the hall backend): call it off the GUI thread.
        """
        if payload.kind is not Kind.RESIDENT:
            return
        # Kept while `check` could still accept the code: until expiry plus the skew.
        if not self._seen.claim(payload.key_id, payload.nonce, payload.expires + self._skew):
            raise PayloadRefused(PayloadProblem.REPLAYED)
