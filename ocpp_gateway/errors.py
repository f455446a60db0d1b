"""OCPP-J 1.6 CallError codes (§4.2.3 Table 7) with the 1.6 spellings and descriptions.

The `ocpp` package's exception classes carry the right `code` for most of these, but two of its
descriptions are swapped (NotImplemented/NotSupported) and it uses 2.0.1's FormatViolation; these are ours.
"""

from typing import Any


class CallErrorCode(Exception):
    code = "GenericError"
    description = "Any other error not covered by the previous ones"

    def __init__(self, cause: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(cause or self.description)
        self.details = dict(details or {})
        if cause:
            self.details.setdefault("cause", cause)


class NotImplementedAction(CallErrorCode):
    code = "NotImplemented"
    description = "Requested Action is not known by receiver"


class NotSupportedAction(CallErrorCode):
    code = "NotSupported"
    description = "Requested Action is recognized but not supported by the receiver"


class InternalError(CallErrorCode):
    code = "InternalError"
    description = "An internal error occurred and the receiver was not able to process the requested Action"


class ProtocolError(CallErrorCode):
    code = "ProtocolError"
    description = "Payload for Action is incomplete"


class SecurityError(CallErrorCode):
    code = "SecurityError"
    description = "During the processing of Action a security issue occurred"


class FormationViolation(CallErrorCode):
    code = "FormationViolation"
    description = "Payload for Action is syntactically incorrect or not conform the PDU structure for Action"


class PropertyConstraintViolation(CallErrorCode):
    code = "PropertyConstraintViolation"
    description = "Payload is syntactically correct but at least one field contains an invalid value"


class OccurenceConstraintViolation(CallErrorCode):
    code = "OccurenceConstraintViolation"  # sic, as OCPP-J 1.6 spells it
    description = (
        "Payload for Action is syntactically correct but at least one field violates occurence constraints"
    )


class TypeConstraintViolation(CallErrorCode):
    code = "TypeConstraintViolation"
    description = (
        "Payload for Action is syntactically correct but at least one field violates data type constraints"
    )


class GenericError(CallErrorCode):
    code = "GenericError"
    description = "Any other error not covered by the previous ones"
