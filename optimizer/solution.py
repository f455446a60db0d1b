"""What every LP backend returns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from optimizer.prepare import Array


class LpStatus(StrEnum):
    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"
    FAILED = "failed"


@dataclass(frozen=True, eq=False)
class LpSolution:
    status: LpStatus
    power_kw: Array  # (N, T), zeros when not optimal
    site_dual: Array  # (T,) objective (unscaled) per extra kW of site capacity
    build_seconds: float
    solve_seconds: float
    message: str = ""

    @classmethod
    def failed(
        cls, shape: tuple[int, int], status: LpStatus, message: str, build_s: float, solve_s: float
    ) -> LpSolution:
        return cls(status, np.zeros(shape), np.zeros(shape[1]), build_s, solve_s, message)
