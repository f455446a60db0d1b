"""SignCertificate: a charge point's CSR checked and signed with the central system's CA (the
`cryptography` package), the certificate recorded with its expiry.

A CSR is signed when its signature verifies, its key is RSA of at least 2048 bits or EC of at least 224
(the OCPP 1.6 Security Whitepaper's minimums), its subject's commonName is the charge point's id and, when
an organisation is configured, its organizationName is that organisation.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.domain.clock import as_utc
from app.domain.persistence import Store, UnitOfWork
from app.domain.security import IssuedCertificate

MIN_RSA_BITS, MIN_EC_BITS = 2048, 224
BACKDATE = timedelta(minutes=5)  # charge points' clocks drift


class InvalidCsr(ValueError):
    """Why a CSR is not signed."""


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    organization: str | None = None  # the O a charge point's CSR must carry, when set
    validity: timedelta = timedelta(days=365)


def load_authority(
    certificate_path: Path, key_path: Path, *, organization: str | None, validity_days: int
) -> CertificateAuthority:
    """The CA from PEM files (the key unencrypted); raises ValueError for what cannot sign."""
    certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"{key_path}: the CA key must be RSA or EC")
    if _public_der(key.public_key()) != _public_der(certificate.public_key()):
        raise ValueError(f"{key_path} is not the key of {certificate_path}")
    return CertificateAuthority(certificate, key, organization, timedelta(days=validity_days))


def _public_der(key: CertificatePublicKeyTypes) -> bytes:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_bytes(serialization.Encoding.DER, spki)


def _names(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(attribute.value) for attribute in name.get_attributes_for_oid(oid)]


def check_csr(csr_pem: str, charge_point_id: str, organization: str | None) -> x509.CertificateSigningRequest:
    """The parsed CSR, when it may be signed for `charge_point_id`; `InvalidCsr` otherwise."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except ValueError as error:
        raise InvalidCsr(f"not a PEM certificate signing request: {error}") from error
    if not csr.is_signature_valid:
        raise InvalidCsr("the CSR's signature does not verify")
    key = csr.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise InvalidCsr(f"an RSA key of {key.key_size} bits (at least {MIN_RSA_BITS})")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < MIN_EC_BITS:
            raise InvalidCsr(f"an EC key of {key.curve.key_size} bits (at least {MIN_EC_BITS})")
    else:
        raise InvalidCsr("the key must be RSA or EC")
    common_names = _names(csr.subject, NameOID.COMMON_NAME)
    if common_names != [charge_point_id]:
        raise InvalidCsr(f"the subject's commonName {common_names} is not the charge point's id")
    organizations = _names(csr.subject, NameOID.ORGANIZATION_NAME)
    if organization is not None and organizations != [organization]:
        raise InvalidCsr(f"the subject's organizationName {organizations} is not {organization!r}")
    return csr


def client_certificate_problem(
    certificate: x509.Certificate, charge_point_id: str, organization: str | None
) -> str | None:
    """Why a client certificate (security profile 3), whose chain and validity TLS verified, does not
    authenticate `charge_point_id`; None when it does: its subject's one commonName is the id and, when an
    organisation is configured, its one organizationName is that organisation."""
    common_names = _names(certificate.subject, NameOID.COMMON_NAME)
    if common_names != [charge_point_id]:
        return f"the certificate's commonName {common_names} is not the charge point's id"
    organizations = _names(certificate.subject, NameOID.ORGANIZATION_NAME)
    if organization is not None and organizations != [organization]:
        return f"the certificate's organizationName {organizations} is not {organization!r}"
    return None


def sign(
    authority: CertificateAuthority, csr: x509.CertificateSigningRequest, now: datetime
) -> x509.Certificate:
    """A client certificate for the CSR's subject and key, valid from `now` (less `BACKDATE`) for the CA's
    validity period, never past the CA's own expiry."""
    ca = authority.certificate
    not_after = min(now + authority.validity, as_utc(ca.not_valid_after_utc))
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.subject)
        .public_key(csr.public_key())
        .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)  # positive, < 2^127
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=isinstance(csr.public_key(), rsa.RSAPublicKey),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()), critical=False
        )
    )
    return builder.sign(authority.key, hashes.SHA256())


def chain_pem(authority: CertificateAuthority, certificate: x509.Certificate) -> str:
    """CertificateSigned's certificateChain: the certificate, then the CA's when it is a sub-CA."""
    parts = [certificate.public_bytes(serialization.Encoding.PEM)]
    ca = authority.certificate
    if ca.issuer != ca.subject:
        parts.append(ca.public_bytes(serialization.Encoding.PEM))
    return b"".join(parts).decode()


async def record_issued(
    store: Store,
    charge_point_id: str,
    certificate: x509.Certificate,
    command_id: int | None,
    now: datetime,
) -> IssuedCertificate:
    issued = IssuedCertificate(
        charge_point_id=charge_point_id,
        serial_number=format(certificate.serial_number, "x"),
        subject=certificate.subject.rfc4514_string(),
        not_before=as_utc(certificate.not_valid_before_utc),
        not_after=as_utc(certificate.not_valid_after_utc),
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        command_id=command_id,
        issued_at=now,
    )

    async def add(uow: UnitOfWork) -> None:
        uow.security.add_certificate(issued)

    await store.run(add)
    return issued
