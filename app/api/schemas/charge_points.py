"""Charge points, their connectors, configuration, status history and boot notifications."""

from typing import Any, Literal

from pydantic import Field, field_validator

from app.api.schemas.common import Input, MinCurrent, Schema, UtcDatetime, not_null
from app.domain.enums import RegistrationStatus, SecurityProfile

# The ids the OCPP server accepts in ws://…/ocpp/{id} (tests check the two agree).
CHARGE_POINT_ID_PATTERN = r"^[A-Za-z0-9._:@+*=\-]{1,48}$"

SECURITY_PROFILE = (
    "the weakest OCPP security profile it may connect with: 0 the global rules only (docs/security.md), "
    "1 HTTP Basic password, 2 TLS and password, 3 TLS with a client certificate naming it. "
    "A client certificate (3) satisfies every minimum"
)


class ConnectorSettings(Schema):
    """Electrical settings of a connector, used to convert power and current limits."""

    phases: Literal[1, 3] = 3
    nominal_voltage_v: float = Field(default=230.0, gt=0, le=1000)
    max_current_a: float = Field(default=32.0, gt=0, le=1000)
    min_current_a: MinCurrent | None = Field(
        default=None, description="null: the charge point's, else the site's"
    )


class ConnectorUpdate(Input):
    phases: Literal[1, 3] | None = None
    nominal_voltage_v: float | None = Field(default=None, gt=0, le=1000)
    max_current_a: float | None = Field(default=None, gt=0, le=1000)
    min_current_a: MinCurrent | None = Field(
        default=None, description="null: the charge point's, else the site's"
    )

    _present = field_validator("phases", "nominal_voltage_v", "max_current_a", mode="before")(not_null)


class ConnectorOut(ConnectorSettings):
    connector_id: int = Field(description="0 is the charge point as a whole")
    status: str | None = Field(description="last StatusNotification status", examples=["Available"])
    error_code: str | None
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    status_at: UtcDatetime | None


class ChargePointCreate(Input):
    id: str = Field(pattern=CHARGE_POINT_ID_PATTERN, description="the id in ws://…/ocpp/{id}")
    description: str | None = Field(default=None, max_length=500)
    password: str | None = Field(
        default=None, min_length=8, max_length=200, description="HTTP Basic password; stored hashed"
    )
    registration_status: RegistrationStatus = RegistrationStatus.accepted
    security_profile: SecurityProfile = Field(default=SecurityProfile.unsecured, description=SECURITY_PROFILE)


class ChargePointUpdate(Input):
    description: str | None = Field(default=None, max_length=500)
    password: str | None = Field(
        default=None, min_length=8, max_length=200, description="a new password; null removes it"
    )
    registration_status: RegistrationStatus | None = Field(
        default=None, description="Accepted admits a Pending charge point at its next BootNotification"
    )
    min_current_a: MinCurrent | None = Field(default=None, description="for its connectors; null: the site's")
    security_profile: SecurityProfile | None = Field(default=None, description=SECURITY_PROFILE)

    _present = field_validator("registration_status", "security_profile", mode="before")(not_null)


class ChargePointOut(Schema):
    id: str
    description: str | None
    registration_status: RegistrationStatus
    site_id: int | None = Field(description="its site; placed with PUT /sites/{site_id}/charge-points/{id}")
    group_id: int | None = Field(description="its group (feeder) in that site")
    has_password: bool
    security_profile: SecurityProfile = Field(description=SECURITY_PROFILE)
    connected: bool = Field(description="holds a WebSocket to this service now")
    connected_since: UtcDatetime | None
    last_heartbeat_at: UtcDatetime | None
    last_seen_at: UtcDatetime | None
    last_boot_at: UtcDatetime | None
    vendor: str | None
    model: str | None
    serial_number: str | None
    box_serial_number: str | None
    firmware_version: str | None
    iccid: str | None
    imsi: str | None
    meter_type: str | None
    meter_serial_number: str | None
    firmware_status: str | None
    firmware_status_at: UtcDatetime | None
    diagnostics_status: str | None
    diagnostics_status_at: UtcDatetime | None
    local_list_version: int | None
    min_current_a: float | None = Field(description="for its connectors; null: the site's")
    created_at: UtcDatetime
    connectors: list[ConnectorOut]


class ConfigurationKeyOut(Schema):
    key: str
    value: str | None
    readonly: bool
    updated_at: UtcDatetime


class InstalledProfileOut(Schema):
    """A charging profile the charge point accepted and still holds, as the command log tells it."""

    connector_id: int = Field(description="0: the charge point as a whole")
    charging_profile_id: int
    purpose: str = Field(examples=["TxProfile"], description="chargingProfilePurpose")
    stack_level: int
    profile: dict[str, Any] = Field(description="the ChargingProfile as sent (OCPP camelCase)")
    command_id: int = Field(description="the SetChargingProfile that carried it")
    author: str | None = Field(description="who sent it: the scheduler, or an operator's name")
    sent_at: UtcDatetime | None
    accepted_at: UtcDatetime | None


class StatusNotificationOut(Schema):
    id: int
    connector_id: int
    status: str
    error_code: str
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    timestamp: UtcDatetime | None = Field(description="as the charge point reported it")
    received_at: UtcDatetime


class BootNotificationOut(Schema):
    id: int
    payload: dict[str, Any] = Field(description="the BootNotification request as received")
    status: RegistrationStatus = Field(description="what the central system answered")
    received_at: UtcDatetime
