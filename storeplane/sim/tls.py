"""A serving certificate for the simulator, made on first use: a private CA and a server
certificate it signs for ``127.0.0.1``, ``::1``, ``localhost`` (and the listening host).

Used by the runner when the simulator runs with ``rbac``: real clients (kubectl, client-go,
helm) only send bearer tokens over TLS (clientcmd drops the user's credentials for an
``http://`` server), so a simulator that authenticates must serve HTTPS. The kubeconfig
carries the CA as ``certificate-authority-data``. With a state file the pair is kept there,
so kubeconfigs written before a restart still verify.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .store.objects import read_meta

TLS_META = "tls/serving"


@dataclass(frozen=True)
class ServingCert:
    """PEM texts: the CA certificate clients trust, the server's certificate and key."""

    ca_pem: str
    cert_pem: str
    key_pem: str

    def to_json(self) -> str:
        return json.dumps({"ca": self.ca_pem, "cert": self.cert_pem, "key": self.key_pem})

    @classmethod
    def from_json(cls, text: str) -> ServingCert:
        data = json.loads(text)
        return cls(data["ca"], data["cert"], data["key"])

    def write_files(self, directory: Path) -> tuple[Path, Path, Path]:
        """(ca, cert, key) files for uvicorn and clients; the key is mode 0600."""
        directory.mkdir(parents=True, exist_ok=True)
        paths = (directory / "ca.crt", directory / "tls.crt", directory / "tls.key")
        for path, text in zip(paths, (self.ca_pem, self.cert_pem, self.key_pem), strict=True):
            path.touch(mode=0o600)
            path.write_text(text)
        return paths

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this simulator (for httpx and other Python clients)."""
        return ssl.create_default_context(cadata=self.ca_pem)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def make_serving_cert(host: str = "127.0.0.1") -> ServingCert:
    """A new CA and a server certificate (ten years) valid for loopback and ``host``."""
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    until = now + datetime.timedelta(days=3650)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("storeplane-sim-ca")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    try:
        address = ipaddress.ip_address(host)
        if address not in (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")):
            names.append(x509.IPAddress(address))
    except ValueError:
        if host and host != "localhost":
            names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("storeplane-sim"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return ServingCert(
        ca.public_bytes(serialization.Encoding.PEM).decode(),
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        _pem_key(key),
    )


def serving_cert_for(state_path: Path | None, host: str) -> ServingCert:
    """The pair kept in the state file, else a new one (the app keeps it there at start)."""
    kept = read_meta(state_path, TLS_META) if state_path is not None else None
    return ServingCert.from_json(kept) if kept else make_serving_cert(host)


def temp_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="storeplane-sim-tls-"))
