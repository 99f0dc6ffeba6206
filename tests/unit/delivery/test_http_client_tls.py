"""HTTPS to the hall server: certificates are always verified, a private CA is the only
knob, the environment cannot change whom the kiosk trusts, and the config refuses plain
http:// to another machine, any key that would turn verification off, and a missing or
inline device token.

Certificates are made at test time (a throwaway CA, server and client certificates); the
server is the stand-in hall of tests/unit/delivery/fake_hall.py."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kiosk.backend.interface import BackendError
from kiosk.config.devices import device_problems
from kiosk.config.loader import ConfigFileError, load_config
from kiosk.delivery.http_client import BackendCertificateError, HttpBackend
from kiosk.delivery.http_factory import KEYS_CACHE_NAME, make_http
from tests.helpers.paths import CATALOG_FILE, REPO_ROOT
from tests.unit.delivery.fake_hall import TOKEN, FakeHall, tls_context

NOW = dt.datetime.now(dt.UTC)


@dataclass
class Issued:
    cert: Path
    key: Path


class ThrowawayCA:
    """A throwaway certificate authority writing PEM files into a folder."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.name = name
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.subject = subject
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(hours=1))
            .not_valid_after(NOW + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                           critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.pem = folder / f"{name.replace(' ', '-')}.pem"
        self.pem.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, stem: str, *, dns: tuple[str, ...] = (), ips: tuple[str, ...] = (),
              client: bool = False) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, stem)]))
            .issuer_name(self.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(hours=1))
            .not_valid_after(NOW + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]),
                critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.key.public_key()), critical=False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        issued = Issued(self.folder / f"{stem}.pem", self.folder / f"{stem}.key")
        issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        issued.key.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        return issued


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("pki")
    hall = ThrowawayCA(folder, "Hall CA")
    other = ThrowawayCA(folder, "Other CA")
    return {
        "hall": hall,
        "other": other,
        "server": hall.issue("server", dns=("localhost",), ips=("127.0.0.1",)),
        "wrong_name": hall.issue("elsewhere", dns=("backend.elsewhere.example",)),
        "kiosk": hall.issue("kiosk-01", client=True),
        "stranger": other.issue("stranger", client=True),
    }


FIGURES = [{"category": "social_security", "waiting": 2, "priority_waiting": 0,
            "minutes_per_ticket": 8.0, "open": True, "opens_at": None, "closes_at": None,
            "remaining_today": None}]
KEYS = {"hall1a2b3c": "A" * 43 + "="}
REPLIES = {("GET", "/v1/queue"): (200, FIGURES), ("GET", "/v1/trusted-keys"): (200, KEYS)}


def serve(tls=None) -> FakeHall:
    return FakeHall(REPLIES, tls=tls)


@pytest.fixture
def tls_server(pki) -> Iterator[FakeHall]:
    server = serve(tls_context(pki["server"].cert, pki["server"].key))
    yield server
    server.close()


def client_for(server: FakeHall, **kwargs: object) -> HttpBackend:
    return HttpBackend(server.url, token=TOKEN, connect_timeout_s=1.0, read_timeout_s=2.0,
                       **kwargs)


# --------------------------------------------------------------------------- TLS


def test_the_self_signed_hall_server_is_refused_without_its_ca(tls_server, caplog):
    client = client_for(tls_server)
    with pytest.raises(BackendCertificateError) as info:
        client.queue_figures()
    message = str(info.value)
    assert "certificate was not accepted" in message and "/v1/queue" in message
    assert "issuer" in message  # OpenSSL's reason: unable to get local issuer certificate
    assert any(r.levelno == logging.ERROR and "certificate" in r.getMessage()
               for r in caplog.records)  # loud: a technician (or an attack) is involved
    client.close()


def test_with_the_hall_ca_bundle_it_works(tls_server, pki):
    client = client_for(tls_server, ca_bundle=pki["hall"].pem)
    assert client.queue_figures()["social_security"].waiting == 2
    assert client.trusted_keys() == KEYS
    assert tls_server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    client.close()


def test_another_ca_is_refused(tls_server, pki):
    client = client_for(tls_server, ca_bundle=pki["other"].pem)
    with pytest.raises(BackendCertificateError):
        client.queue_figures()
    client.close()


def test_a_certificate_for_another_host_is_refused(pki):
    wrong = pki["wrong_name"]
    server = serve(tls_context(wrong.cert, wrong.key))
    try:
        client = client_for(server, ca_bundle=pki["hall"].pem)
        with pytest.raises(BackendCertificateError, match=r"(?i)mismatch|match"):
            client.queue_figures()
        client.close()
    finally:
        server.close()


def test_the_environment_cannot_change_whom_the_kiosk_trusts(tls_server, pki, monkeypatch):
    # requests would take these from the environment; the client ignores them.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki["hall"].pem))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(pki["hall"].pem))
    client = client_for(tls_server)
    with pytest.raises(BackendCertificateError):
        client.queue_figures()
    client.close()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki["other"].pem))
    client = client_for(tls_server, ca_bundle=pki["hall"].pem)
    client.queue_figures()
    client.close()


def test_mutual_tls(pki):
    server_cert = pki["server"]
    server = serve(tls_context(server_cert.cert, server_cert.key, client_ca=pki["hall"].pem))
    try:
        anonymous = client_for(server, ca_bundle=pki["hall"].pem)
        # Usually the TLS alert; under load the reset can arrive before it is read.
        with pytest.raises(BackendError, match=r"client certificate|connection was closed"):
            anonymous.queue_figures()
        anonymous.close()
        stranger = client_for(server, ca_bundle=pki["hall"].pem,
                              client_cert=pki["stranger"].cert, client_key=pki["stranger"].key)
        with pytest.raises(BackendError):
            stranger.queue_figures()
        stranger.close()
        kiosk = client_for(server, ca_bundle=pki["hall"].pem,
                           client_cert=pki["kiosk"].cert, client_key=pki["kiosk"].key)
        assert kiosk.queue_figures()
        kiosk.close()
    finally:
        server.close()


# ------------------------------------------------------------------------- config

HEAD = f"""
[paths]
data_dir = "data"
catalog = "{CATALOG_FILE.as_posix()}"

[qr.public_keys]
demo = "N6YcjELd+H9LtsqsRNYwqVp3VPZejQZv4N7LBDl5jHc="

[backend]
"""


def write_config(folder: Path, backend: str, token: str | None = TOKEN) -> Path:
    """The config file with this [backend]; an http backend gets token_file = "kiosk.token"
    (holding `token`, unless None) when it names none."""
    if 'kind = "http"' in backend and "token_file" not in backend:
        backend += 'token_file = "kiosk.token"\n'
        if token is not None:
            (folder / "kiosk.token").write_text(token + "\n", encoding="ascii")
    path = folder / "kiosk.toml"
    path.write_text(HEAD + backend, encoding="utf-8")
    return path


def problems(folder: Path, backend: str) -> list[tuple[str, str]]:
    with pytest.raises(ConfigFileError) as info:
        load_config(write_config(folder, backend))
    return info.value.problems


@pytest.mark.parametrize("url", ["http://remote-host", "http://192.0.2.10:8443/",
                                 "http://backend.hall.example/"])
def test_config_refuses_plain_http_to_another_machine(tmp_path, url):
    found = problems(tmp_path, f'kind = "http"\nurl = "{url}"\n')
    assert len(found) == 1
    key, what = found[0]
    assert key == "backend.url"
    assert "https:// required for a remote backend" in what
    assert "certificate verification cannot be turned off" in what


@pytest.mark.parametrize("switch", [
    "verify = false", "verify_tls = false", "ssl_verify = false", "tls_verify = false",
    "insecure = true", "insecure_skip_verify = true",
    "insecure_skip_verify_i_understand = true", "check_hostname = false",
    "skip_certificate_check = true",
])
def test_config_refuses_any_key_that_would_turn_verification_off(tmp_path, switch):
    found = problems(tmp_path, f'kind = "http"\nurl = "https://backend.hall.example/"\n'
                               f"{switch}\n")
    key_name = switch.split(" =")[0]
    assert len(found) == 1
    key, what = found[0]
    assert key == "backend"
    assert f"`{key_name}`" in what and "cannot be turned off" in what
    assert "backend.ca_bundle" in what  # what to do instead


def test_config_other_backend_mistakes_name_the_key(tmp_path):
    assert problems(tmp_path, 'kind = "http"\ntoken_file = "t"\n') == [
        ("backend.url", "required key is missing")]
    found = dict(problems(tmp_path, 'kind = "http"\nurl = "https://u:secret@h/"\n'))
    assert "no user or password" in found["backend.url"]
    found = dict(problems(tmp_path, 'kind = "http"\nurl = "https://h/"\n'
                                    'client_cert = "k.pem"\nread_timeout_s = 0\n'))
    assert "greater than 0" in found["backend.read_timeout_s"]
    found = dict(problems(tmp_path, 'kind = "http"\nurl = "https://h/"\nclient_cert = "k.pem"\n'))
    assert "client_cert and client_key go together" in found["backend"]
    found = dict(problems(tmp_path, 'kind = "http"\nurl = "https://h/"\ndatabase = "x"\n'))
    assert 'belongs to backend kind "embedded", not "http"' in found["backend.database"]
    found = dict(problems(tmp_path, 'kind = "sqlite"\n'))
    assert "'embedded', 'http'" in found["backend"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8443/", "http://localhost:8443",
                                 "http://[::1]:8443/"])
def test_config_accepts_plain_http_to_this_machine_for_testing(tmp_path, url):
    config = load_config(write_config(tmp_path, f'kind = "http"\nurl = "{url}"\n'))
    assert config.backend.kind == "http" and config.backend.read_timeout_s == 10.0


def test_config_with_a_relative_ca_bundle_reaches_the_tls_server(tmp_path, tls_server, pki):
    (tmp_path / "hall-ca.pem").write_bytes(pki["hall"].pem.read_bytes())
    path = write_config(tmp_path, f'kind = "http"\nurl = "{tls_server.url}/"\n'
                                  'ca_bundle = "hall-ca.pem"\nconnect_timeout_s = 1.5\n')
    config = load_config(path)
    assert device_problems(config, tmp_path) == []
    client = make_http(config.backend, tmp_path, tmp_path / "data")
    assert client.timeouts == (1.5, 10.0)
    assert client.queue_figures()["social_security"].waiting == 2
    assert client.trusted_keys() == KEYS
    assert (tmp_path / "data" / KEYS_CACHE_NAME).is_file()  # for a start while offline
    # The token from the file, relative to the config: the hall knows the kiosk by it.
    assert tls_server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    client.close()
    offline = make_http(config.backend, tmp_path, tmp_path / "data",
                        fetch_keys_on_demand=False)
    assert offline.trusted_keys() == KEYS
    offline.close()


def test_the_device_token_file_is_required_and_checked_at_start(tmp_path):
    """A kiosk of a hall names the file `kiosk hall add-device`'s token went into; a missing,
    empty or wrong file is reported by key at start, never quoting the file's content."""
    found = problems(tmp_path, 'kind = "http"\nurl = "https://h/"\ntoken_file = ""\n')
    assert found == [("backend.token_file",
                      "expected the path of the file holding the device token (found '')")]
    found = problems(tmp_path, 'url = "https://h/"\nkind = "http"\n'
                               f'token_file = "{TOKEN}"\n')
    assert len(found) == 1 and found[0][0] == "backend"
    assert "`token_file` holds a token, not a file name" in found[0][1]
    assert TOKEN not in found[0][1]  # a credential is not echoed back
    path = tmp_path / "no-token.toml"
    path.write_text(HEAD + 'kind = "http"\nurl = "https://h/"\n', encoding="utf-8")
    with pytest.raises(ConfigFileError) as info:
        load_config(path)
    assert info.value.problems == [("backend.token_file", "required key is missing")]

    config = load_config(write_config(tmp_path, 'kind = "http"\nurl = "https://h/"\n',
                                      token=None))
    assert dict(device_problems(config, tmp_path))["backend.token_file"] == (
        f"token file {tmp_path / 'kiosk.token'} does not exist")
    with pytest.raises(ValueError, match=r"^backend\.token_file: token file .* does not exist"):
        make_http(config.backend, tmp_path, None)
    for content, expected in [("", "is empty"), ("stf_secret-staff-token", "does not hold a"
                                                  " device token"),
                              ("dev_abc def", "does not hold a device token")]:
        (tmp_path / "kiosk.token").write_text(content, encoding="ascii")
        problem = dict(device_problems(config, tmp_path))["backend.token_file"]
        assert expected in problem and "secret" not in problem and "abc" not in problem
    (tmp_path / "kiosk.token").write_text(f"  {TOKEN}\n", encoding="ascii")
    assert device_problems(config, tmp_path) == []


def test_check_config_names_missing_or_broken_tls_files(tmp_path):
    (tmp_path / "not-a-cert.pem").write_text("hello", encoding="utf-8")
    config = load_config(write_config(
        tmp_path, 'kind = "http"\nurl = "https://h/"\nca_bundle = "not-a-cert.pem"\n'
                  'client_cert = "kiosk.pem"\nclient_key = "kiosk.key"\n'))
    assert "backend.token_file" not in dict(device_problems(config, tmp_path))
    found = dict(device_problems(config, tmp_path))
    assert "holds no PEM certificate" in found["backend.ca_bundle"]
    assert "does not exist" in found["backend.client_cert"]
    assert "does not exist" in found["backend.client_key"]


# ---------------------------------------------------------------------------- CLI


def run_kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True,
                          text=True, timeout=60, cwd=REPO_ROOT)


def test_the_old_backend_server_is_gone_from_the_kiosk_command(tmp_path):
    """Kiosks share the hall server (`kiosk hall serve`); the stdlib server of before is a
    benchmark's anchor now (benchmarks/legacy_stdlib_server.py), not a kiosk command."""
    result = run_kiosk("backend", "serve", "--config", "x.toml")
    assert result.returncode == 2 and "invalid choice: 'serve'" in result.stderr
    http_config = write_config(tmp_path, 'kind = "http"\nurl = "https://h/"\n')
    result = run_kiosk("backend", "call-next", "social_security", "--config", str(http_config))
    assert result.returncode == 2 and "hall server" in result.stderr
    result = subprocess.run([sys.executable, "benchmarks/legacy_stdlib_server.py", "--help"],
                            capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert result.returncode == 0 and "--config" in result.stdout
