"""Test certificates made by the tests themselves with `cryptography`: a CA, CSRs, charge point keys."""

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


@dataclass(frozen=True)
class Ca:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def write(self, directory: Path) -> tuple[Path, Path]:
        cert_path, key_path = directory / "ca.pem", directory / "ca.key"
        cert_path.write_text(self.pem)
        key_path.write_bytes(_pem_key(self.key))
        return cert_path, key_path


def make_ca(common_name: str = "Test CPO CA", *, valid_days: int = 3650) -> Ca:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name(common_name, "ACME CPO"))
        .issuer_name(name(common_name, "ACME CPO"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Ca(certificate, key)


def make_csr(
    common_name: str, organization: str | None = "ACME CPO", *, key: PrivateKey | None = None
) -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(name(common_name, organization))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def _pem_key(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def issue(
    ca: Ca,
    common_name: str,
    organization: str | None = "ACME CPO",
    *,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    server: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A leaf certificate signed by `ca`: a client certificate, or (`server`) one for 127.0.0.1/localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(common_name, organization))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from or now - timedelta(minutes=5))
        .not_valid_after(valid_until or now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if server:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca.key, hashes.SHA256()), key


def write_pair(
    directory: Path, stem: str, certificate: x509.Certificate, key: PrivateKey
) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(_pem_key(key))
    return cert_path, key_path


@dataclass(frozen=True)
class Pki:
    """A TLS set-up for security profile 3, written to `directory`: one CA signs the server's certificate and
    the charge points' CSRs, and client certificates must chain to it. `settings` are the service's."""

    directory: Path
    ca: Ca
    settings: dict[str, Path]

    def client(
        self, certificate: tuple[x509.Certificate, PrivateKey] | None, stem: str = "client"
    ) -> ssl.SSLContext:
        """A charge point's TLS context: it trusts the CA, and presents `certificate` when given."""
        context = ssl.create_default_context(cafile=str(self.settings["ocpp_tls_client_ca"]))
        if certificate is not None:
            context.load_cert_chain(*write_pair(self.directory, stem, *certificate))
        return context


def make_pki(directory: Path) -> Pki:
    ca = make_ca()
    ca_cert, ca_key = ca.write(directory)
    server_cert, server_key = write_pair(directory, "server", *issue(ca, "localhost", server=True))
    settings = {
        "ocpp_tls_cert": server_cert,
        "ocpp_tls_key": server_key,
        "ocpp_tls_client_ca": ca_cert,
        "ocpp_ca_cert": ca_cert,
        "ocpp_ca_key": ca_key,
    }
    return Pki(directory, ca, settings)
