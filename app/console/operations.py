"""The operation forms: one per OCPP 1.6 central-system operation, built from the request's JSON schema as
the `ocpp` package ships it, and the form's strings turned back into the payload. What the payload may be is
checked where the API's commands are checked (the command port validates against the same schema), so a
form shows the API's refusals, each next to its field."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any

from app.domain.clock import as_utc

__all__ = [
    "OPERATIONS",
    "SECURITY_OPERATIONS",
    "SENDABLE",
    "Field",
    "FormErrors",
    "field_of",
    "form_fields",
    "payload_from_form",
]

# The 19 operations a central system initiates in OCPP 1.6 (the gateway's lists; a test keeps them equal).
OPERATIONS = (
    "CancelReservation",
    "ChangeAvailability",
    "ChangeConfiguration",
    "ClearCache",
    "ClearChargingProfile",
    "DataTransfer",
    "GetCompositeSchedule",
    "GetConfiguration",
    "GetDiagnostics",
    "GetLocalListVersion",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "TriggerMessage",
    "UnlockConnector",
    "UpdateFirmware",
)
# The OCPP 1.6 Security Whitepaper's (edition 3), sent the same way.
SECURITY_OPERATIONS = (
    "CertificateSigned",
    "DeleteCertificate",
    "ExtendedTriggerMessage",
    "GetInstalledCertificateIds",
    "GetLog",
    "InstallCertificate",
    "SignedUpdateFirmware",
)
SENDABLE = frozenset(OPERATIONS + SECURITY_OPERATIONS)
# Fields the service fills in when they are left empty.
ALLOCATED = {("ReserveNow", "reservationId"): "left empty: the service allocates one"}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text, integer, number, datetime, choice, lines (a list of strings), json
    required: bool
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    hint: str | None = None


class FormErrors(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@cache
def _schema(action: str) -> dict[str, Any]:
    text = (files("ocpp.v16") / "schemas" / f"{action}.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def _kind(spec: Mapping[str, Any]) -> str:
    if "enum" in spec:
        return "choice"
    kind = spec.get("type")
    if kind == "string":
        return "datetime" if spec.get("format") == "date-time" else "text"
    if kind == "array" and spec.get("items", {}).get("type") == "string":
        return "lines"
    return {"integer": "integer", "number": "number"}.get(str(kind), "json")


def form_fields(action: str) -> list[Field]:
    schema = _schema(action)
    required = set(schema.get("required", ()))
    return [
        Field(
            name=name,
            kind=_kind(spec),
            required=name in required and (action, name) not in ALLOCATED,
            choices=tuple(spec.get("enum", ())),
            max_length=spec.get("maxLength"),
            hint=ALLOCATED.get((action, name)),
        )
        for name, spec in schema.get("properties", {}).items()
    ]


def _value(field: Field, text: str) -> Any:
    if field.kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError("must be a whole number") from None
    if field.kind == "number":
        try:
            return float(text)
        except ValueError:
            raise ValueError("must be a number") from None
    if field.kind == "datetime":
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("must be a date and time (ISO 8601; without an offset: UTC)") from None
        return as_utc(moment).isoformat().replace("+00:00", "Z")
    if field.kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if field.kind == "json":
        try:
            return json.loads(text)
        except ValueError as error:
            raise ValueError(f"must be JSON: {error}") from None
    return text


def payload_from_form(action: str, form: Mapping[str, str]) -> dict[str, Any]:
    """The payload the form says; empty optional fields are left out. Raises `FormErrors` per field for
    what cannot be read at all (the schema's own checks come after, in the command port)."""
    payload: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in form_fields(action):
        text = form.get(field.name, "").strip()
        if not text:
            if field.required:
                errors[field.name] = "is required"
            continue
        try:
            payload[field.name] = _value(field, text)
        except ValueError as error:
            errors[field.name] = str(error)
    if errors:
        raise FormErrors(errors)
    return payload


def field_of(action: str, detail: str) -> tuple[str | None, str]:
    """The form field a command port refusal names ("TypeConstraintViolation: idTag: ... is too long"), and
    what it says; None when it names no field of the form."""
    _, _, rest = detail.partition(": ")
    where, _, message = rest.partition(": ")
    top = where.split("/")[0]
    if top in {f.name for f in form_fields(action)}:
        return top, (f"{where}: {message}" if "/" in where else message) or detail
    return None, detail
