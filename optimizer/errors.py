"""The one exception of the optimiser's input side."""


class InstanceError(ValueError):
    """Invalid problem data; `field` names where, e.g. `sessions[3].departure`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def within(self, prefix: str) -> "InstanceError":
        """The same error with its field placed under `prefix` (e.g. `sessions[3]`)."""
        return InstanceError(f"{prefix}.{self.field}" if self.field else prefix, self.message)
