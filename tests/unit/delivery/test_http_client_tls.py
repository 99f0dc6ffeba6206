"""HTTPS to the hall backend: certificates are always verified, a private CA is the only
knob, the environment cannot change whom the kiosk trusts, and the config refuses plain
http:// to another machine or any key that would turn verification off.

Certificates are made at test time (a throwaway CA, server and client certificates)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import signal
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

from kiosk.backend.embedded import EmbeddedBackend
from kiosk.backend.http_server import BackendHTTPServer, serve, tls_context
from kiosk.backend.interface import BackendError
from kiosk.config.devices import device_problems
from kiosk.config.loader import ConfigFileError, load_config
from kiosk.config.schema import EmbeddedBackendConfig
from kiosk.delivery.http_client import BackendCertificateError, HttpBackend
from kiosk.delivery.http_factory import KEYS_CACHE_NAME, make_embedded, make_http
from kiosk.domain.catalog import load_catalog
from tests.helpers.paths import CATALOG_FILE, REPO_ROOT

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


@pytest.fixture
def embedded(tmp_path) -> Iterator[EmbeddedBackend]:
    backend = make_embedded(EmbeddedBackendConfig(), tmp_path / "hall",
                            load_catalog(CATALOG_FILE))
    yield backend
    backend.close()


@pytest.fixture
def tls_server(embedded, pki) -> Iterator[BackendHTTPServer]:
    server = serve(embedded, "127.0.0.1", 0,
                   tls=tls_context(pki["server"].cert, pki["server"].key))
    yield server
    server.stop()


def client_for(server: BackendHTTPServer, **kwargs: object) -> HttpBackend:
    return HttpBackend(server.url, connect_timeout_s=1.0, read_timeout_s=2.0, **kwargs)


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


def test_with_the_hall_ca_bundle_it_works(tls_server, embedded, pki):
    client = client_for(tls_server, ca_bundle=pki["hall"].pem)
    assert client.queue_figures() == embedded.queue_figures()
    assert client.trusted_keys() == embedded.trusted_keys()
    client.close()


def test_another_ca_is_refused(tls_server, pki):
    client = client_for(tls_server, ca_bundle=pki["other"].pem)
    with pytest.raises(BackendCertificateError):
        client.queue_figures()
    client.close()


def test_a_certificate_for_another_host_is_refused(embedded, pki):
    wrong = pki["wrong_name"]
    server = serve(embedded, "127.0.0.1", 0, tls=tls_context(wrong.cert, wrong.key))
    try:
        client = client_for(server, ca_bundle=pki["hall"].pem)
        with pytest.raises(BackendCertificateError, match=r"(?i)mismatch|match"):
            client.queue_figures()
        client.close()
    finally:
        server.stop()


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


def test_mutual_tls(embedded, pki):
    server_cert = pki["server"]
    server = serve(embedded, "127.0.0.1", 0, tls=tls_context(
        server_cert.cert, server_cert.key, client_ca=pki["hall"].pem))
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
        server.stop()


# ------------------------------------------------------------------------- config

HEAD = f"""
[paths]
data_dir = "data"
catalog = "{CATALOG_FILE.as_posix()}"

[qr.public_keys]
demo = "N6YcjELd+H9LtsqsRNYwqVp3VPZejQZv4N7LBDl5jHc="

[backend]
"""


def write_config(folder: Path, backend: str) -> Path:
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
    assert problems(tmp_path, 'kind = "http"\n') == [("backend.url", "required key is missing")]
    found = dict(problems(tmp_path, 'kind = "http"\nurl = "https://u:secret@h/"\n'))
    assert "no user or password" in found["backend.url"]
    found = dict(problems(tmp_path, 'kind = "http"\nurl = "https://h/"\n'
                                    'client_cert = "k.pem"\nread_timeout_s = 0\n'))
    assert "greater than 0" in found["backend.read_timeout_s"]
    found = dict(problems(tmp_path, 'kind = "http"\nurl = "https://h/"\nclient_cert = "k.pem"\n'))
    assert "client_cert and client_key go together" in found["backend"]
    found = dict(problems(tmp_path, 'kind = "http"\nurl = "https://h/"\ndatabase = "x"\n'))
    assert "unknown key" in found["backend.database"]
    found = dict(problems(tmp_path, 'kind = "sqlite"\n'))
    assert "'embedded', 'http'" in found["backend"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8443/", "http://localhost:8443",
                                 "http://[::1]:8443/"])
def test_config_accepts_plain_http_to_this_machine_for_testing(tmp_path, url):
    config = load_config(write_config(tmp_path, f'kind = "http"\nurl = "{url}"\n'))
    assert config.backend.kind == "http" and config.backend.read_timeout_s == 10.0


def test_config_with_a_relative_ca_bundle_reaches_the_tls_server(tmp_path, tls_server, pki,
                                                                 embedded):
    (tmp_path / "hall-ca.pem").write_bytes(pki["hall"].pem.read_bytes())
    path = write_config(tmp_path, f'kind = "http"\nurl = "{tls_server.url}/"\n'
                                  'ca_bundle = "hall-ca.pem"\nconnect_timeout_s = 1.5\n')
    config = load_config(path)
    assert device_problems(config, tmp_path) == []
    client = make_http(config.backend, tmp_path, tmp_path / "data")
    assert client.timeouts == (1.5, 10.0)
    assert client.queue_figures() == embedded.queue_figures()
    assert client.trusted_keys() == embedded.trusted_keys()
    assert (tmp_path / "data" / KEYS_CACHE_NAME).is_file()  # for a start while offline
    client.close()
    offline = make_http(config.backend, tmp_path, tmp_path / "data",
                        fetch_keys_on_demand=False)
    assert offline.trusted_keys() == embedded.trusted_keys()
    offline.close()


def test_check_config_names_missing_or_broken_tls_files(tmp_path):
    (tmp_path / "not-a-cert.pem").write_text("hello", encoding="utf-8")
    config = load_config(write_config(
        tmp_path, 'kind = "http"\nurl = "https://h/"\nca_bundle = "not-a-cert.pem"\n'
                  'client_cert = "kiosk.pem"\nclient_key = "kiosk.key"\n'))
    found = dict(device_problems(config, tmp_path))
    assert "holds no PEM certificate" in found["backend.ca_bundle"]
    assert "does not exist" in found["backend.client_cert"]
    assert "does not exist" in found["backend.client_key"]


# ---------------------------------------------------------------------------- CLI


def run_kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True,
                          text=True, timeout=60, cwd=REPO_ROOT)


def test_backend_serve_command_over_tls(tmp_path, pki):
    config = write_config(tmp_path, 'kind = "embedded"\n')
    server = pki["server"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "backend", "serve", "--config", str(config),
         "--port", "0", "--cert", str(server.cert), "--key", str(server.key)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("backend serve: https://127.0.0.1:"), line
        url = line.split()[2].rstrip(";")
        client = HttpBackend(url, ca_bundle=pki["hall"].pem, connect_timeout_s=1,
                             read_timeout_s=5)
        person = client.identify("R0001")
        assert person is not None and person.resident_id == "R0001"
        client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "R0001" not in err  # the access log names routes, not residents
    assert "GET /v1/residents/{id} -> 200" in err


def test_backend_serve_refuses_plain_http_beyond_this_machine(tmp_path):
    config = write_config(tmp_path, 'kind = "embedded"\n')
    result = run_kiosk("backend", "serve", "--config", str(config), "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "--cert and --key" in result.stderr
    http_config = tmp_path / "kiosk-http.toml"
    http_config.write_text(HEAD + 'kind = "http"\nurl = "https://h/"\n', encoding="utf-8")
    result = run_kiosk("backend", "serve", "--config", str(http_config))
    assert result.returncode == 2 and 'kind = "embedded"' in result.stderr
    result = run_kiosk("backend", "call-next", "social_security", "--config", str(http_config))
    assert result.returncode == 2 and "hall backend" in result.stderr
