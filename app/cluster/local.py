"""A local layout: the roles started as `smartcharge serve --role ROLE` processes on one machine, each with
its own ports and name, waited for until `/ready`, and stopped together (`smartcharge cluster`; the
scale-out tests start their role processes with the same functions)."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

__all__ = [
    "LocalLayout",
    "RoleSpec",
    "free_port",
    "plan_layout",
    "role_env",
    "start_role",
    "stop_processes",
]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the system's choice)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def role_env(base: Mapping[str, str], settings: Mapping[str, Any]) -> dict[str, str]:
    """`base` with each setting as its `SMARTCHARGE_…` variable (None: left out)."""
    return dict(base) | {
        f"SMARTCHARGE_{key.upper()}": str(value) for key, value in settings.items() if value is not None
    }


def start_role(
    role: str,
    env: Mapping[str, str],
    *,
    cwd: Path | None = None,
    stdout: IO[Any] | int | None = None,
    stderr: IO[Any] | int | None = None,
) -> subprocess.Popen[bytes]:
    """`smartcharge serve --role ROLE` with this interpreter, in a process group of its own (a Ctrl-C in the
    terminal reaches the launcher alone, which stops the processes once, in order)."""
    return subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "serve", "--role", role],
        env=dict(env),
        cwd=cwd,
        stdout=stdout,
        stderr=stderr,
        process_group=0,
    )


def stop_processes(processes: Iterable[subprocess.Popen[bytes]], timeout_s: float = 20.0) -> None:
    """SIGTERM to each still running (a clean stop: connections closed, leases given back), then SIGKILL to
    any still running after `timeout_s`; returns when every one has exited."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class RoleSpec:
    """One process of a layout: its role, its name (gateway id, scheduler name), its ports."""

    role: str
    name: str
    host: str
    http_port: int
    ocpp_port: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def settings(self) -> dict[str, Any]:
        named = {"gateway": "gateway_id", "scheduler": "scheduler_name"}
        settings: dict[str, Any] = {"api_host": self.host, "api_port": self.http_port}
        if self.role in named:
            settings[named[self.role]] = self.name
        if self.ocpp_port is not None:
            settings |= {"ocpp_host": self.host, "ocpp_port": self.ocpp_port}
        return settings

    def describe(self, pid: int) -> str:
        """One tab-separated line: role, name, process id, HTTP URL and, for a gateway, its OCPP URL."""
        where = f"{self.role}\t{self.name}\t{pid}\t{self.url}"
        return where if self.ocpp_port is None else f"{where}\tws://{self.host}:{self.ocpp_port}/ocpp/{{id}}"


def plan_layout(
    gateways: int, schedulers: int, *, host: str, api_port: int, http_port: int, ocpp_port: int
) -> list[RoleSpec]:
    """Gateways gw-1… (HTTP from `http_port` on, OCPP from `ocpp_port` on), schedulers scheduler-1… (HTTP
    after the gateways'), then the API on `api_port`. A port of 0: free ports, the system's choice."""

    def port(base: int, offset: int) -> int:
        return free_port(host) if base == 0 else base + offset

    specs = [
        RoleSpec("gateway", f"gw-{i + 1}", host, port(http_port, i), port(ocpp_port, i))
        for i in range(gateways)
    ]
    specs += [
        RoleSpec("scheduler", f"scheduler-{i + 1}", host, port(http_port, gateways + i))
        for i in range(schedulers)
    ]
    return [*specs, RoleSpec("api", "api", host, port(api_port, 0))]


@dataclass
class LocalLayout:
    """The processes of `specs`, started on `env` (the caller's settings: database, Redis, …)."""

    specs: list[RoleSpec]
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        for spec in self.specs:
            # their output goes to stderr: stdout is the launcher's list of where each listens
            self.processes.append(start_role(spec.role, role_env(self.env, spec.settings), stdout=2))

    def stopped(self) -> RoleSpec | None:
        """The first process that has exited, if any."""
        for spec, process in zip(self.specs, self.processes, strict=True):
            if process.poll() is not None:
                return spec
        return None

    def wait_ready(self, timeout_s: float) -> None:
        """Until every process's `/ready` answers 200; RuntimeError when one exits or the time runs out."""
        deadline = time.monotonic() + timeout_s
        waiting = list(self.specs)
        with httpx.Client(timeout=2) as http:
            while waiting:
                if (gone := self.stopped()) is not None:
                    raise RuntimeError(f"the {gone.role} process {gone.name} stopped before it was ready")
                if time.monotonic() > deadline:
                    names = ", ".join(spec.name for spec in waiting)
                    raise RuntimeError(f"not ready after {timeout_s:.0f} s: {names}")
                waiting = [spec for spec in waiting if not _ready(http, spec.url)]
                if waiting:
                    time.sleep(0.2)

    def stop(self) -> None:
        stop_processes(self.processes)


def _ready(http: httpx.Client, url: str) -> bool:
    try:
        return http.get(f"{url}/ready").status_code == 200
    except httpx.TransportError:
        return False
