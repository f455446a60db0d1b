"""Charge-point fleet simulator: OCPP 1.6J charge points with EVs drawn from ElaadNL session statistics."""

from simulator.charge_point import ChargePointSpec, SimulatedChargePoint
from simulator.clock import Clock, parse_instant
from simulator.composite import (
    ChargingProfile,
    CompositeSchedule,
    Electrical,
    InstalledProfile,
    Limit,
    Transaction,
    composite_schedule,
    limit_at,
)
from simulator.config import Configuration
from simulator.dataset import ElaadData, Location, SessionPlan, SessionSampler
from simulator.ev import EV, EVModel, load_ev_models
from simulator.fleet import Fleet, FleetConfig, FleetSummary
from simulator.link import Link, Timing
from simulator.outbox import Outbox
from simulator.profiles import ProfileLimits, ProfileStore
from simulator.refusal import Refusal
from simulator.report import refusal_lines, run_with_display, session_lines, sessions_table, summary_table
from simulator.session import ScriptedSession, SessionReport, run_session
from simulator.stats import ChargePointStats, ProfileReceived, SessionResult

__all__ = [
    "EV",
    "ChargePointSpec",
    "ChargePointStats",
    "ChargingProfile",
    "Clock",
    "CompositeSchedule",
    "Configuration",
    "EVModel",
    "ElaadData",
    "Electrical",
    "Fleet",
    "FleetConfig",
    "FleetSummary",
    "InstalledProfile",
    "Limit",
    "Link",
    "Location",
    "Outbox",
    "ProfileLimits",
    "ProfileReceived",
    "ProfileStore",
    "Refusal",
    "ScriptedSession",
    "SessionPlan",
    "SessionReport",
    "SessionResult",
    "SessionSampler",
    "SimulatedChargePoint",
    "Timing",
    "Transaction",
    "composite_schedule",
    "limit_at",
    "load_ev_models",
    "parse_instant",
    "refusal_lines",
    "run_session",
    "run_with_display",
    "session_lines",
    "sessions_table",
    "summary_table",
]
