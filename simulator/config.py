"""Configuration keys of a simulated charge point (OCPP 1.6 §9), answered from the simulated model."""

from collections.abc import Iterable
from dataclasses import dataclass

from ocpp.v16.enums import ConfigurationStatus

MEASURANDS = ("Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "SoC")


@dataclass
class Key:
    value: str
    readonly: bool = False
    kind: type = str  # int, bool or str: what a change must parse as
    reboot: bool = False


class Configuration:
    """The key/value table GetConfiguration reads and ChangeConfiguration writes."""

    def __init__(
        self, connectors: int, *, max_stack_level: int = 8, max_periods: int = 24, max_profiles: int = 16
    ):
        self._keys: dict[str, Key] = {
            "AllowOfflineTxForUnknownId": Key("true", kind=bool),
            "AuthorizationCacheEnabled": Key("false", kind=bool),
            "AuthorizeRemoteTxRequests": Key("false", kind=bool),
            "ChargeProfileMaxStackLevel": Key(str(max_stack_level), readonly=True, kind=int),
            "ChargingScheduleAllowedChargingRateUnit": Key("Current,Power", readonly=True),
            "ChargingScheduleMaxPeriods": Key(str(max_periods), readonly=True, kind=int),
            "ClockAlignedDataInterval": Key("0", kind=int),
            "ConnectionTimeOut": Key("120", kind=int),
            "ConnectorSwitch3to1PhaseSupported": Key("false", readonly=True, kind=bool),
            "GetConfigurationMaxKeys": Key("64", readonly=True, kind=int),
            "HeartbeatInterval": Key("300", kind=int),
            "LocalAuthListEnabled": Key("true", kind=bool),
            "LocalAuthListMaxLength": Key("1000", readonly=True, kind=int),
            "LocalAuthorizeOffline": Key("true", kind=bool),
            "LocalPreAuthorize": Key("false", kind=bool),
            "MaxChargingProfilesInstalled": Key(str(max_profiles), readonly=True, kind=int),
            "MeterValueSampleInterval": Key("60", kind=int),
            "MeterValuesAlignedData": Key("Energy.Active.Import.Register"),
            "MeterValuesSampledData": Key(",".join(MEASURANDS)),
            "MeterValuesSampledDataMaxLength": Key(str(len(MEASURANDS)), readonly=True, kind=int),
            "NumberOfConnectors": Key(str(connectors), readonly=True, kind=int),
            "ReserveConnectorZeroSupported": Key("false", readonly=True, kind=bool),
            "ResetRetries": Key("1", kind=int),
            "SendLocalListMaxLength": Key("100", readonly=True, kind=int),
            "StopTransactionOnEVSideDisconnect": Key("true", kind=bool),
            "StopTransactionOnInvalidId": Key("true", kind=bool),
            "StopTxnAlignedData": Key(""),
            "StopTxnSampledData": Key("Energy.Active.Import.Register"),
            "SupportedFeatureProfiles": Key(
                "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
                readonly=True,
            ),
            "TransactionMessageAttempts": Key("3", kind=int),
            "TransactionMessageRetryInterval": Key("60", kind=int),
            "UnlockConnectorOnEVSideDisconnect": Key("true", kind=bool),
            "WebSocketPingInterval": Key("0", kind=int, reboot=True),
        }

    def get(self, keys: Iterable[str] | None = None) -> tuple[list[dict[str, object]], list[str]]:
        """GetConfiguration: the known keys asked for (all when `keys` is empty) and the unknown ones."""
        names = list(keys) if keys else list(self._keys)
        known = [
            {"key": name, "readonly": self._keys[name].readonly, "value": self._keys[name].value}
            for name in names
            if name in self._keys
        ]
        return known, [name for name in names if name not in self._keys]

    def change(self, name: str, value: str) -> ConfigurationStatus:
        key = self._keys.get(name)
        if key is None:
            return ConfigurationStatus.not_supported
        if key.readonly or not _parses(value, key.kind):
            return ConfigurationStatus.rejected
        measurands = set(filter(None, value.split(",")))
        if name in ("MeterValuesSampledData", "MeterValuesAlignedData") and not measurands <= set(MEASURANDS):
            return ConfigurationStatus.rejected
        key.value = value.strip().lower() if key.kind is bool else value.strip()
        return ConfigurationStatus.reboot_required if key.reboot else ConfigurationStatus.accepted

    def set(self, name: str, value: object) -> None:
        """Set a key as the charge point itself (e.g. the heartbeat interval from a BootNotification.conf)."""
        self._keys[name].value = str(value).lower() if isinstance(value, bool) else str(value)

    def get_int(self, name: str) -> int:
        return int(self._keys[name].value)

    def get_bool(self, name: str) -> bool:
        return self._keys[name].value.lower() == "true"

    def get_list(self, name: str) -> list[str]:
        return [item.strip() for item in self._keys[name].value.split(",") if item.strip()]


def _parses(value: str, kind: type) -> bool:
    if kind is int:
        try:
            return int(value) >= 0
        except ValueError:
            return False
    if kind is bool:
        return value.strip().lower() in ("true", "false")
    return True
