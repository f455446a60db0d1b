"""The security extension: security events, log and signed-firmware status, certificates issued and
installed."""

from pydantic import Field

from app.api.schemas.common import Schema, UtcDatetime


class SecurityEventOut(Schema):
    id: int
    charge_point_id: str
    type: str = Field(description="the whitepaper's event type (or the charge point's own)")
    timestamp: UtcDatetime = Field(description="when it happened, by the charge point's clock")
    tech_info: str | None
    critical: bool = Field(description="a critical event of the OCPP 1.6 Security Whitepaper's list")
    received_at: UtcDatetime


class OperationStatusOut(Schema):
    id: int
    charge_point_id: str
    operation: str = Field(description="what the status is of: GetLog (log upload) or SignedUpdateFirmware")
    status: str
    request_id: int | None = Field(description="the requestId of the GetLog or SignedUpdateFirmware")
    received_at: UtcDatetime


class CertificateOut(Schema):
    id: int
    charge_point_id: str
    serial_number: str = Field(description="hexadecimal")
    subject: str = Field(description="RFC 4514")
    not_before: UtcDatetime
    not_after: UtcDatetime = Field(description="expiry")
    certificate_pem: str
    command_id: int | None = Field(description="the CertificateSigned command that delivered it")
    issued_at: UtcDatetime


class InstalledCertificateOut(Schema):
    id: int
    charge_point_id: str
    certificate_type: str = Field(examples=["CentralSystemRootCertificate"])
    hash_algorithm: str = Field(examples=["SHA256"])
    issuer_name_hash: str = Field(description="hexadecimal, lower case")
    issuer_key_hash: str = Field(description="hexadecimal, lower case")
    serial_number: str = Field(description="hexadecimal, lower case, without leading zeros")
    subject: str | None = Field(description="RFC 4514; null unless this service installed it")
    not_after: UtcDatetime | None = Field(description="expiry; null unless this service installed it")
    reported_at: UtcDatetime = Field(description="when the charge point last listed it")
