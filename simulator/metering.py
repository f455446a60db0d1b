"""What a connector's meter reports: one MeterValues `meterValue` entry from the measurands configured."""

from datetime import datetime
from typing import Any

from simulator.connector import Connector


def ocpp_time(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def meter_value(
    connector: Connector, measurands: set[str], context: str, at: datetime, phases: int
) -> dict[str, Any]:
    """Energy register (Wh, outlet), active power (W), current per phase L1..Ln (A), and the EV's SoC (%)."""
    base = {"context": context, "format": "Raw"}
    values: list[dict[str, Any]] = []
    if "Energy.Active.Import.Register" in measurands:
        values.append(
            {
                **base,
                "value": str(round(connector.meter_wh)),
                "measurand": "Energy.Active.Import.Register",
                "location": "Outlet",
                "unit": "Wh",
            }
        )
    if "Power.Active.Import" in measurands:
        values.append(
            {**base, "value": f"{connector.power_w:.0f}", "measurand": "Power.Active.Import", "unit": "W"}
        )
    if "Current.Import" in measurands:
        for phase in range(1, phases + 1):
            current_a = connector.current_a if phase <= connector.phases_used else 0.0
            values.append(
                {
                    **base,
                    "value": f"{current_a:.1f}",
                    "measurand": "Current.Import",
                    "phase": f"L{phase}",
                    "unit": "A",
                }
            )
    if "SoC" in measurands and connector.ev is not None:
        values.append(
            {
                **base,
                "value": f"{connector.ev.soc * 100:.0f}",
                "measurand": "SoC",
                "location": "EV",
                "unit": "Percent",
            }
        )
    return {"timestamp": ocpp_time(at), "sampled_value": values}
