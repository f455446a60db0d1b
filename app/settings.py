"""Service settings, read from `SMARTCHARGE_*` environment variables (and an optional `.env`)."""

import ipaddress
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class UnknownChargePoints(StrEnum):
    reject = "reject"
    pending = "pending"
    accept = "accept"


class ProcessRole(StrEnum):
    """What one process runs: everything (the embedded default) or one part of a scale-out layout."""

    all = "all"  # API, OCPP gateway and scheduler in one process: SQLite by default, no Redis
    gateway = "gateway"  # OCPP sockets; records which charge points it holds, runs commands routed to it
    api = "api"  # HTTP API and console; commands routed to the gateway holding the charge point
    scheduler = "scheduler"  # planning and dispatch; profiles routed as the API's commands are


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTCHARGE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/smartcharge.db"
    database_echo: bool = False
    database_pool_size: int = Field(default=20, ge=1)

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    admin_token: SecretStr | None = None

    ocpp_host: str = "127.0.0.1"
    ocpp_port: int = 9000
    unknown_charge_points: UnknownChargePoints = UnknownChargePoints.reject
    heartbeat_interval_s: int = Field(default=300, ge=1)
    ocpp_max_message_bytes: int = Field(default=65536, ge=1024)
    ocpp_call_timeout_s: float = Field(default=30.0, gt=0)
    ocpp_ping_interval_s: float | None = Field(default=60.0)
    ocpp_tls_cert: Path | None = None
    ocpp_tls_key: Path | None = None
    # CA certificates (PEM bundle) client certificates must chain to: enables security profile 3
    ocpp_tls_client_ca: Path | None = None
    # None: passwords are required unless the OCPP server listens on loopback only (docs/security.md)
    ocpp_require_password: bool | None = None
    ocpp_auth_failure_window_s: int = Field(default=60, ge=1)
    ocpp_auth_failures_per_charge_point: int = Field(default=10, ge=1)
    ocpp_auth_failures_per_address: int = Field(default=30, ge=1)
    ocpp_password_workers: int = Field(default=2, ge=1)
    ocpp_password_cache_size: int = Field(default=100_000, ge=1)
    ocpp_password_cache_ttl_s: float = Field(default=86_400.0, gt=0)
    # the CA that signs charge points' CSRs (SignCertificate); unset: SignCertificate is answered Rejected
    ocpp_ca_cert: Path | None = None
    ocpp_ca_key: Path | None = None
    ocpp_ca_organization: str | None = None  # the organizationName a CSR must carry, when set
    ocpp_certificate_validity_days: int = Field(default=365, ge=1)

    forecast_max_horizon_days: int = Field(default=14, ge=1)
    # meter values sampled longer ago are removed (PostgreSQL: whole months, app/db/partitions.py); unset:
    # all kept
    meter_value_retention_days: int | None = Field(default=None, ge=1)

    scheduler_enabled: bool = True
    scheduler_horizon_intervals: int = Field(default=96, ge=1, le=2880)
    scheduler_debounce_s: float = Field(default=0.05, ge=0)
    scheduler_solve_time_limit_s: float = Field(default=10.0, gt=0)
    scheduler_solve_processes: int = Field(default=0, ge=0)  # solves in a pool of processes (0: a thread)
    scheduler_plan_concurrency: int = Field(default=4, ge=1)  # sites loaded, solved and stored at once
    scheduler_verify_profiles: bool = True  # read each accepted profile back with GetCompositeSchedule
    scheduler_retry_attempts: int = Field(default=3, ge=1)
    scheduler_retry_backoff_s: float = Field(default=2.0, ge=0)
    # an EV that draws less than its minimum (a full battery tapering) is planned at what it draws and sent
    # its minimum: the sum of the limits sent may then exceed the capacity by the difference
    scheduler_reserve_draw: bool = False
    # a transaction drawing more than its limit + max(tolerance_kw, tolerance_share × limit), this many
    # samples running, is non-compliant: planned at what it draws (meters and EVs are not exact, and limits
    # are rounded down when sent: 1 kW or 10 % is a refusal, not noise)
    scheduler_over_draw_tolerance_kw: float = Field(default=1.0, ge=0)
    scheduler_over_draw_tolerance_share: float = Field(default=0.1, ge=0)
    scheduler_over_draw_samples: int = Field(default=2, ge=1)

    clock_speed: float = Field(default=1.0, gt=0)  # >1 runs the service on accelerated time (simulations)
    clock_start: datetime | None = None  # the simulated instant at `clock_anchor` (default: start-up)
    clock_anchor: datetime | None = None

    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.text

    # Scale-out (docs/scale-out.md): every role but `all` needs PostgreSQL and Redis.
    role: ProcessRole = ProcessRole.all
    redis_url: str | None = None
    redis_prefix: str = "smartcharge"  # every Redis channel starts with it (deployments sharing one Redis)
    gateway_id: str | None = None  # this gateway's name in the presence table (default: host-pid-random)
    presence_lease_s: float = Field(default=15.0, gt=0)  # a gateway silent this long holds nothing
    command_route_timeout_s: float = Field(default=5.0, gt=0)  # for the holding gateway to take a command
    # a scheduler's consumer group on the events stream: where it stopped reading, kept across restarts
    scheduler_name: str = Field(default="scheduler", min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    event_stream_max_len: int = Field(default=100_000, ge=1000)  # entries (batches) the events stream keeps
    site_lease_s: float = Field(default=15.0, gt=0)  # a scheduler silent this long plans no site

    @model_validator(mode="after")
    def _tls_complete(self) -> "Settings":
        if (self.ocpp_tls_cert is None) != (self.ocpp_tls_key is None):
            raise ValueError("SMARTCHARGE_OCPP_TLS_CERT and SMARTCHARGE_OCPP_TLS_KEY are set together")
        if self.ocpp_tls_client_ca is not None and self.ocpp_tls_cert is None:
            raise ValueError(
                "SMARTCHARGE_OCPP_TLS_CLIENT_CA needs TLS: set SMARTCHARGE_OCPP_TLS_CERT and _KEY"
            )
        return self

    @property
    def ocpp_passwords_required(self) -> bool:
        """`ocpp_require_password`, or when unset: whether the OCPP server is reachable beyond loopback."""
        if self.ocpp_require_password is not None:
            return self.ocpp_require_password
        return not is_loopback(self.ocpp_host)

    def scale_out_problem(self) -> str | None:
        """Why this role cannot start with these settings (None when it can)."""
        if self.role == ProcessRole.all:
            return None
        missing = []
        if not self.database_url.startswith(("postgresql", "postgres")):
            missing.append("PostgreSQL (SMARTCHARGE_DATABASE_URL=postgresql://...)")
        if not self.redis_url:
            missing.append("Redis (SMARTCHARGE_REDIS_URL=redis://...)")
        if not missing:
            return None
        return (
            f"role {self.role.value} needs {' and '.join(missing)}: processes of a scale-out layout share "
            "their state in PostgreSQL and talk over Redis; run role `all` for one process on SQLite"
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
