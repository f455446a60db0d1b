"""JSON-schema validation of OCPP 1.6 payloads with the `ocpp` package's schemas, errors mapped to Table 7.

Schemas and payloads are parsed with `Decimal` numbers (the package's fix for `multipleOf: 0.1` on charging
rates, applied here to every schema), and `date-time` formats are checked — the package leaves them unchecked.
"""

import decimal
import json
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from ocpp_gateway.errors import (
    CallErrorCode,
    FormationViolation,
    OccurenceConstraintViolation,
    PropertyConstraintViolation,
    ProtocolError,
    TypeConstraintViolation,
)

_FORMATS = FormatChecker(formats=())


def _is_datetime(value: object) -> bool:
    if isinstance(value, str):
        datetime.fromisoformat(value.strip())
    return True


_FORMATS.checks("date-time", raises=ValueError)(_is_datetime)


_ERRORS: dict[str, type[CallErrorCode]] = {
    "type": TypeConstraintViolation,
    "format": TypeConstraintViolation,
    "maxLength": TypeConstraintViolation,
    "minLength": TypeConstraintViolation,
    "enum": PropertyConstraintViolation,
    "minimum": PropertyConstraintViolation,
    "maximum": PropertyConstraintViolation,
    "exclusiveMinimum": PropertyConstraintViolation,
    "exclusiveMaximum": PropertyConstraintViolation,
    "multipleOf": PropertyConstraintViolation,
    "pattern": PropertyConstraintViolation,
    "minItems": OccurenceConstraintViolation,
    "maxItems": OccurenceConstraintViolation,
    "uniqueItems": OccurenceConstraintViolation,
    "required": ProtocolError,
    "additionalProperties": FormationViolation,
}


def has_schema(action: str, *, response: bool = False) -> bool:
    return resources.files("ocpp.v16.schemas").joinpath(_schema_name(action, response)).is_file()


def validate(action: str, payload: Any, *, response: bool = False) -> None:
    """Raise the Table 7 error for the first (best) schema violation of `payload`."""
    validator = _validator(action, response)
    try:
        instance = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    except (TypeError, ValueError, RecursionError) as not_json:
        raise FormationViolation(f"the payload is not JSON: {not_json}") from not_json
    violation = best_match(validator.iter_errors(instance))
    if violation is not None:
        raise classify(violation)


def classify(error: ValidationError) -> CallErrorCode:
    where = "/".join(str(part) for part in error.absolute_path) or "payload"
    kind = _ERRORS.get(str(error.validator), FormationViolation)
    return kind(f"{where}: {error.message}")


def _schema_name(action: str, response: bool) -> str:
    return f"{action}Response.json" if response else f"{action}.json"


@cache
def _validator(action: str, response: bool) -> Draft4Validator:
    text = resources.files("ocpp.v16.schemas").joinpath(_schema_name(action, response)).read_text("utf-8-sig")
    return Draft4Validator(json.loads(text, parse_float=decimal.Decimal), format_checker=_FORMATS)
